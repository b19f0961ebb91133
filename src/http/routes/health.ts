import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.js';

/** Paths that never require credentials and are never rate limited (probes must keep working). */
export const HEALTH_PATHS: readonly string[] = ['/healthz', '/livez'];

/**
 * `/healthz` (readiness: 200 once the project list is read and a collector has fresh data, every collector
 * listed with its last success or error) and `/livez` (200 while the process serves).
 */
export async function healthRoutes(
  app: FastifyInstance,
  opts: { readiness: HttpDeps['readiness'] },
): Promise<void> {
  app.get('/healthz', async (_req, reply) => {
    const r = opts.readiness();
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
