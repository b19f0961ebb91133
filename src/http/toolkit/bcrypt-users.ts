import { createHash, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';

/** Successful verifications remembered at most; the oldest is forgotten first. */
const DEFAULT_BCRYPT_CACHE_SIZE = 256;

/**
 * Verifies passwords of the web config's `basic_auth_users` (bcrypt hashes, `$2a$`/`$2b$`/`$2y$`).
 *
 * A bcrypt comparison costs ~70 ms of CPU at cost 10, which would dominate every scrape; so, like
 * exporter-toolkit, successful verifications are cached under a SHA-256 of user, hash and password. Only
 * successes are cached, so a wrong password always pays the full bcrypt price and can never be remembered as
 * good. An unknown user is compared against a throw-away hash of the same cost so response times do not reveal
 * which user names exist. Comparisons run one at a time so a burst of bad logins cannot starve the event loop.
 */
export class BcryptUsers {
  private readonly cache = new Map<string, true>();
  private readonly dummyHash: string;
  private queue: Promise<unknown> = Promise.resolve();
  private compares = 0;

  constructor(
    private readonly users: ReadonlyMap<string, string>,
    private readonly cacheSize = DEFAULT_BCRYPT_CACHE_SIZE,
  ) {
    const first = users.values().next();
    const cost = first.done ? 10 : bcrypt.getRounds(first.value);
    this.dummyHash = bcrypt.hashSync(randomBytes(16).toString('hex'), cost);
  }

  get size(): number {
    return this.users.size;
  }

  /** How many bcrypt comparisons ran (cache hits do not count); exposed so tests can see the cache work. */
  get compareCount(): number {
    return this.compares;
  }

  get cachedCount(): number {
    return this.cache.size;
  }

  /**
   * Whether this user and password were verified before and are still remembered: a check without bcrypt
   * (and without a promise), for the scrape that repeats them.
   */
  cached(user: string, password: string): boolean {
    const hash = this.users.get(user);
    if (hash === undefined) return false;
    const key = cacheKey(user, hash, password);
    if (!this.cache.has(key)) return false;
    // Refresh recency so a steady scraper's entry is never the one evicted.
    this.cache.delete(key);
    this.cache.set(key, true);
    return true;
  }

  async verify(user: string, password: string): Promise<boolean> {
    if (this.cached(user, password)) return true;
    const hash = this.users.get(user);
    const known = hash !== undefined;
    const target = hash ?? this.dummyHash;
    const ok = await this.compareSerially(password, target);
    if (!(ok && known)) return false;
    this.cache.set(cacheKey(user, target, password), true);
    if (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    return true;
  }

  private compareSerially(password: string, hash: string): Promise<boolean> {
    const run = this.queue.then(() => {
      this.compares += 1;
      return bcrypt.compare(password, hash);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** The cache key of a verified user, hash and password: their SHA-256, never the password itself. */
function cacheKey(user: string, hash: string, password: string): string {
  return createHash('sha256')
    .update(user)
    .update('\0')
    .update(hash)
    .update('\0')
    .update(password)
    .digest('hex');
}
