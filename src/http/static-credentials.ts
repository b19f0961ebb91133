import { createHash, timingSafeEqual } from 'node:crypto';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The single user/password pair from SENTRY_EXPORTER_BASIC_AUTH_USER/_PASS. Both parts are compared as
 * SHA-256 digests with `timingSafeEqual`: the digests have a fixed length, so neither the comparison time nor
 * an early length mismatch tells an attacker how long (or how right) the real values are, and both parts are
 * always compared so the time does not reveal which one was wrong.
 */
export class StaticCredentials {
  private readonly userDigest: Buffer;
  private readonly passDigest: Buffer;

  constructor(user: string, pass: string) {
    this.userDigest = sha256(user);
    this.passDigest = sha256(pass);
  }

  matches(user: string, pass: string): boolean {
    const userOk = timingSafeEqual(sha256(user), this.userDigest);
    const passOk = timingSafeEqual(sha256(pass), this.passDigest);
    return userOk && passOk;
  }
}
