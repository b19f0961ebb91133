import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { ScrapeBody } from '../../metrics/snapshot.js';
import { acceptsGzip } from '../accept-encoding.js';
import type { HttpDeps } from '../deps.js';

/** Content type of the Prometheus text exposition format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsRoutesOptions {
  scrape: HttpDeps['scrape'];
  protect: onRequestHookHandler[];
  /**
   * Whether request hooks may have set response headers (the web config file's `http_server_config.headers`):
   * they are then sent along with the route's own (which win).
   */
  hookHeaders: boolean;
}

/** The response headers of one body, built once per body and encoding. */
function headersOf(body: ScrapeBody): OutgoingHttpHeaders {
  return {
    'content-type': METRICS_CONTENT_TYPE,
    ...(body.gzip ? { 'content-encoding': 'gzip' } : {}),
    vary: 'Accept-Encoding',
    'cache-control': 'no-store',
    'content-length': body.length,
  };
}

/**
 * `/metrics` and `/metrics/` (the Python exporter served both): the pre-rendered exposition, gzip when the
 * scraper accepts it. This is the hot path, and it costs a scrape what a bare node:http server sending the
 * same bytes costs, beyond Fastify's routing and its request hooks (basic auth, the web config's headers and
 * rate limit, each only when configured):
 *
 * - the handler is synchronous: the snapshot answers with the same body object while the exposition is
 *   unchanged, so no promise is made per scrape (only when a body has to be built);
 * - the Accept-Encoding decision is remembered for the header value a scraper sends every time;
 * - the reply is taken over from Fastify (`reply.hijack()`, its documented way to write to the Node response
 *   directly) and written like the bare server writes it: status and headers at once, from an object built
 *   once per body, then the body's buffer as it is. Fastify's send path (content-type parsing, header
 *   copying, the HEAD route's onSend hook) is skipped; Node leaves the body out of a HEAD answer itself, and
 *   the onResponse hooks still run.
 */
export async function metricsRoutes(app: FastifyInstance, opts: MetricsRoutesOptions): Promise<void> {
  let last: { header: string | string[] | undefined; gzip: boolean } = { header: undefined, gzip: false };
  const gzipFor = (header: string | string[] | undefined): boolean => {
    if (header !== last.header) last = { header, gzip: acceptsGzip(header) };
    return last.gzip;
  };
  // The headers of the last body of each encoding (a body object is served as long as nothing changed).
  const built: Array<{ body: ScrapeBody; headers: OutgoingHttpHeaders } | undefined> = [undefined, undefined];
  const headersFor = (body: ScrapeBody): OutgoingHttpHeaders => {
    const slot = body.gzip ? 1 : 0;
    const cached = built[slot];
    if (cached?.body === body) return cached.headers;
    const headers = headersOf(body);
    built[slot] = { body, headers };
    return headers;
  };
  const write = (reply: FastifyReply, body: ScrapeBody): void => {
    const own = headersFor(body);
    const headers = opts.hookHeaders ? ({ ...reply.getHeaders(), ...own } as OutgoingHttpHeaders) : own;
    const res = reply.hijack().raw;
    res.writeHead(200, headers);
    // One buffer as it is; several written one after the other rather than copied into one per scrape.
    const { chunks } = body;
    for (let i = 0; i < chunks.length - 1; i++) res.write(chunks[i]);
    res.end(chunks[chunks.length - 1]);
  };
  const serve = (req: FastifyRequest, reply: FastifyReply): Promise<void> | undefined => {
    const scraped = opts.scrape(gzipFor(req.headers['accept-encoding']));
    if (scraped instanceof Promise) return scraped.then((body) => write(reply, body));
    write(reply, scraped);
    return undefined;
  };
  app.get('/metrics', { onRequest: opts.protect }, serve);
  app.get('/metrics/', { onRequest: opts.protect }, serve);
}
