import type { Logger } from 'pino';
import { WatchedFile } from '../../config/watched-file.js';
import { BcryptUsers } from './bcrypt-users.js';
import { parseWebConfig } from './web-config.js';
import type { WebConfig } from './web-config.js';

/**
 * The parts of the web config file that apply while the exporter runs, as exporter-toolkit (which reads
 * the file again for every request) applies them: `basic_auth_users` and `http_server_config.headers`.
 * The file is read again when it changed, at most once a second, on the next request (see `WatchedFile`:
 * a Secret rotated by kubelet or a file rewritten in place). A file that no longer parses keeps the last
 * good settings and is logged. Changes that need a restart are logged and not applied: TLS settings (the
 * certificate files themselves are reloaded, see certificate-reloader.ts), the rate limit, and turning
 * bcrypt authentication on or off (adding the first user, or removing the last one).
 */
export class LiveWebConfig {
  readonly #file: WatchedFile<WebConfig>;
  readonly #log: Logger;
  #applied: WebConfig;
  #users: BcryptUsers | undefined;
  #headers: Array<[string, string]>;

  constructor(initial: { text: string; config: WebConfig }, log: Logger) {
    this.#log = log;
    this.#applied = initial.config;
    this.#users = usersOf(initial.config);
    this.#headers = Object.entries(initial.config.headers);
    this.#file = new WatchedFile(initial.config.path, {
      initial: { text: initial.text, value: initial.config },
      parse: (text) => parseWebConfig(initial.config.path, text),
      onProblem: (problem) =>
        log.error(
          { file: initial.config.path, problem },
          'web config file changed but cannot be used; keeping the settings read before',
        ),
    });
  }

  /** The bcrypt users in force (undefined: none). */
  users(): BcryptUsers | undefined {
    this.#refresh();
    return this.#users;
  }

  /** The extra response headers in force. */
  headers(): ReadonlyArray<[string, string]> {
    this.#refresh();
    return this.#headers;
  }

  close(): void {
    this.#file.close();
  }

  #refresh(): void {
    const next = this.#file.value();
    if (next === this.#applied) return;
    const before = this.#applied;
    this.#applied = next;
    const file = next.path;
    const restart: string[] = [];
    if (JSON.stringify(tlsSettings(before)) !== JSON.stringify(tlsSettings(next)))
      restart.push('tls_server_config');
    if (JSON.stringify(before.rateLimit) !== JSON.stringify(next.rateLimit)) restart.push('rate_limit');
    const usersBefore = before.basicAuthUsers.size > 0;
    const usersNow = next.basicAuthUsers.size > 0;
    if (usersBefore !== usersNow) restart.push('basic_auth_users (turning bcrypt authentication on or off)');
    else if (!sameUsers(before.basicAuthUsers, next.basicAuthUsers)) this.#users = usersOf(next);
    this.#headers = Object.entries(next.headers);
    for (const warning of next.warnings) this.#log.warn({ file }, warning);
    this.#log.info(
      { file, bcryptUsers: this.#users?.size ?? 0, headers: this.#headers.length },
      'web config file changed; its basic_auth_users and headers are in force',
    );
    if (restart.length > 0) {
      this.#log.warn({ file, settings: restart }, 'web config changes that take effect only after a restart');
    }
  }
}

function usersOf(config: WebConfig): BcryptUsers | undefined {
  return config.basicAuthUsers.size > 0 ? new BcryptUsers(config.basicAuthUsers) : undefined;
}

function sameUsers(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([user, hash]) => b.get(user) === hash);
}

/** The TLS settings, without the contents of PEM files (the certificate reloader follows those). */
function tlsSettings(config: WebConfig): unknown {
  const t = config.tls;
  if (t === undefined) return undefined;
  return {
    ...t,
    cert: t.certFile === undefined ? t.cert : undefined,
    key: t.keyFile === undefined ? t.key : undefined,
    clientCa: t.clientCaFile === undefined ? t.clientCa : undefined,
  };
}
