/**
 * Basic auth for `/metrics` and `/`: the Python exporter's user and password from the environment, the web
 * config file's bcrypt users, or both (either is accepted). Health endpoints never ask for credentials.
 */
import fastifyBasicAuth from '@fastify/basic-auth';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { HttpDeps } from './deps.js';
import { StaticCredentials } from './static-credentials.js';
import type { BcryptUsers } from './toolkit/bcrypt-users.js';

/** Realm sent in `WWW-Authenticate` on every 401. */
export const AUTH_REALM = 'sentry-prometheus-exporter';
export const WWW_AUTHENTICATE = `Basic realm="${AUTH_REALM}"`;

/** Basic-auth checks in force; either set of credentials is accepted. */
export interface Authenticator {
  staticCredentials: StaticCredentials | undefined;
  /** The web config's users, as they are now (the file is followed while the exporter runs). */
  bcryptUsers: () => BcryptUsers | undefined;
  /** True when any credentials are configured. */
  required: boolean;
}

export function buildAuthenticator(
  basicAuth: HttpDeps['config']['basicAuth'],
  bcryptUsers: () => BcryptUsers | undefined,
): Authenticator {
  const { enabled, user, pass } = basicAuth;
  if (enabled && (user === '' || pass === '')) {
    throw new Error(
      'basic auth is enabled (SENTRY_EXPORTER_BASIC_AUTH) but SENTRY_EXPORTER_BASIC_AUTH_USER or _PASS is empty',
    );
  }
  const staticCredentials = enabled ? new StaticCredentials(user, pass) : undefined;
  return {
    staticCredentials,
    bcryptUsers,
    required: staticCredentials !== undefined || bcryptUsers() !== undefined,
  };
}

/**
 * Whether a user name and password are accepted: the static pair first (it is cheap), then the web config's
 * bcrypt users, whose remembered successes make repeat checks cheap too. An answer without a promise where
 * none is needed: only a bcrypt comparison waits.
 */
function accepts(auth: Authenticator, user: string, pass: string): boolean | Promise<boolean> {
  if (auth.staticCredentials?.matches(user, pass)) return true;
  const users = auth.bcryptUsers();
  if (users === undefined) return false;
  return users.cached(user, pass) || users.verify(user, pass);
}

/**
 * Registers the basic-auth check on the root instance and returns the hooks a protected route lists (none
 * when no credentials are configured). A failure is thrown as a 401 for the error handler, which answers
 * every failure identically.
 */
export async function registerBasicAuth(
  app: FastifyInstance,
  auth: Authenticator,
): Promise<onRequestHookHandler[]> {
  const refused = (): Error => new Error('invalid credentials');
  await app.register(fastifyBasicAuth, {
    authenticate: false, // WWW-Authenticate is set by the error handler, identical for every failure
    // Callback style: the static pair and a remembered bcrypt success are checked without a promise (every
    // scrape of a protected /metrics passes here); only a bcrypt comparison waits.
    validate: (user, pass, _req, _reply, done) => {
      const ok = accepts(auth, user, pass);
      if (typeof ok === 'boolean') return done(ok ? undefined : refused());
      ok.then(
        (yes) => done(yes ? undefined : refused()),
        (err: unknown) => done(err instanceof Error ? err : refused()),
      );
    },
  });
  return auth.required ? [app.basicAuth] : [];
}

/**
 * Whether a request carries credentials /metrics would accept, without refusing it: /healthz answers every
 * probe, and says more to a caller that could read /metrics anyway. True when none are configured.
 */
export async function hasValidCredentials(auth: Authenticator, header: string | undefined): Promise<boolean> {
  if (!auth.required) return true;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (m === null) return false;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return false;
  return accepts(auth, decoded.slice(0, colon), decoded.slice(colon + 1));
}
