import type { FastifyInstance } from 'fastify';
import { publicReadiness } from '../../pipeline/readiness.js';
import { hasValidCredentials, type Authenticator } from '../auth.js';
import type { HttpDeps } from '../deps.js';

/** Paths that never require credentials and are never rate limited (probes must keep working). */
export const HEALTH_PATHS: readonly string[] = ['/healthz', '/livez'];

/**
 * `/healthz` (readiness: 200 once the project list is read and a collector has fresh data, every collector
 * listed with its state, ages and last error) and `/livez` (200 while the process serves). Neither asks for
 * credentials (probes must work), but where /metrics needs them, /healthz without them tells only the verdict
 * and each collector's state: its errors name the Sentry URL, the organization and projects.
 */
export async function healthRoutes(
  app: FastifyInstance,
  opts: { readiness: HttpDeps['readiness']; auth: Authenticator },
): Promise<void> {
  app.get('/healthz', async (req, reply) => {
    const full = opts.readiness();
    const r = (await hasValidCredentials(opts.auth, req.headers.authorization))
      ? full
      : publicReadiness(full);
    void reply.header('cache-control', 'no-store');
    if (r.ready) {
      return reply
        .code(200)
        .send({ status: 'ok', lastSuccess: r.lastSuccess ?? null, collectors: r.collectors });
    }
    return reply
      .code(503)
      .send({ status: 'unavailable', reason: r.reason ?? 'not ready', collectors: r.collectors });
  });
  app.get('/livez', async (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
}
