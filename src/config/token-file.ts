import type { Logger } from 'pino';
import { WatchedFile } from './watched-file.js';

/**
 * Where the Sentry client takes the token of each request from: a fixed value (SENTRY_AUTH_TOKEN), or a
 * file that may be rotated while the exporter runs (SENTRY_AUTH_TOKEN_FILE).
 */
export interface TokenSource {
  /** The token to send now. */
  current(): string;
  /**
   * Sentry answered 401 to a request sent with `used`: the source is read again at once. True when another
   * token is now current, so the request is worth one more try.
   */
  refused(used: string): boolean;
  /** The tokens handed out so far (the last few): what no message may contain. */
  secrets(): readonly string[];
  /** A sentence for a 401 message: what was done about the token, when it comes from a file. */
  refusalNote(): string | undefined;
  close(): void;
}

/** SENTRY_AUTH_TOKEN: the same token for the life of the process. */
export function fixedToken(token: string): TokenSource {
  return {
    current: () => token,
    refused: () => false,
    secrets: () => [token],
    refusalNote: () => undefined,
    close: () => undefined,
  };
}

export interface TokenFileOptions {
  /** The token read at start-up (configuration loading checked the file). */
  initial: string;
  logger: Logger;
  /** Called each time a new token is taken from the file (sentry_exporter_token_reloads_total). */
  onReload?: () => void;
  /** See `WatchedFile`. Default 1000 ms. */
  checkIntervalMs?: number;
}

/** Tokens remembered for redaction: the current one and a few before it. */
const REMEMBERED = 4;

/**
 * SENTRY_AUTH_TOKEN_FILE, watched: a token rotated in the mounted Secret (kubelet's `..data` swap) or
 * rewritten in place is used from the next request on, and a 401 makes the exporter read the file again
 * before it gives up. The token never reaches a log line: only the file's path and the reload count do.
 */
export class TokenFile implements TokenSource {
  readonly #file: WatchedFile<string>;
  readonly #seen: string[];

  constructor(path: string, opts: TokenFileOptions) {
    this.#seen = [opts.initial];
    this.#file = new WatchedFile(path, {
      initial: { text: opts.initial, value: opts.initial },
      parse: tokenFromText,
      checkIntervalMs: opts.checkIntervalMs,
      onChange: (token) => {
        this.#seen.push(token);
        if (this.#seen.length > REMEMBERED) this.#seen.shift();
        opts.logger.info(
          { file: path, reloads: this.#file.changes },
          'SENTRY_AUTH_TOKEN_FILE changed; the new token is used from the next request on',
        );
        opts.onReload?.();
      },
      onProblem: (problem) =>
        opts.logger.warn(
          { file: path, problem },
          'SENTRY_AUTH_TOKEN_FILE cannot be used right now; keeping the token read before',
        ),
    });
  }

  current(): string {
    return this.#file.value();
  }

  refused(used: string): boolean {
    this.#file.check();
    return this.current() !== used;
  }

  secrets(): readonly string[] {
    return this.#seen;
  }

  refusalNote(): string | undefined {
    const at = this.#file.changedAt;
    return at === undefined
      ? `SENTRY_AUTH_TOKEN_FILE ${this.#file.path} was read again and still holds the token the exporter started with`
      : `the token was reloaded from SENTRY_AUTH_TOKEN_FILE ${this.#file.path} at ${new Date(at).toISOString()} (reload ${this.#file.changes}) and Sentry refuses that one too`;
  }

  close(): void {
    this.#file.close();
  }
}

/** The file's content without surrounding white space (editors add a final newline); empty is no token. */
function tokenFromText(text: string): string {
  const token = text.trim();
  if (token === '') throw new Error('the file is empty');
  return token;
}
