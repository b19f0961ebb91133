import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { HttpDeps } from '../deps.js';
import { renderStatusPage, type StatusPageInfo } from '../status-page.js';

/**
 * `/`: the status page, behind the same credentials as `/metrics`. `?refresh=N` reloads it every N seconds
 * (5 to 300).
 */
export async function landingRoutes(
  app: FastifyInstance,
  opts: StatusPageInfo & { status: HttpDeps['status']; protect: onRequestHookHandler[] },
): Promise<void> {
  app.get<{ Querystring: { refresh?: string } }>('/', { onRequest: opts.protect }, async (req, reply) => {
    const asked = Number(req.query.refresh);
    const refresh =
      Number.isFinite(asked) && asked > 0 ? Math.min(300, Math.max(5, Math.round(asked))) : undefined;
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(renderStatusPage(opts, opts.status(), Date.now(), refresh));
  });
}
