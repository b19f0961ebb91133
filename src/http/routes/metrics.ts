import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { acceptsGzip } from '../accept-encoding.js';
import type { HttpDeps } from '../deps.js';

/** Content type of the Prometheus text exposition format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const PLAIN_HEADERS = {
  'content-type': METRICS_CONTENT_TYPE,
  vary: 'Accept-Encoding',
  'cache-control': 'no-store',
};
const GZIP_HEADERS = { ...PLAIN_HEADERS, 'content-encoding': 'gzip' };

export interface MetricsRoutesOptions {
  scrape: HttpDeps['scrape'];
  protect: onRequestHookHandler[];
}

/**
 * `/metrics` and `/metrics/` (the Python exporter served both): the pre-rendered exposition, gzip when the
 * scraper accepts it. Kept minimal on purpose, it is the hot path: the headers are set at once, the
 * Accept-Encoding decision is remembered for the header a scraper sends every time, and one cached buffer is
 * sent as it is.
 */
export async function metricsRoutes(app: FastifyInstance, opts: MetricsRoutesOptions): Promise<void> {
  let last: { header: string | string[] | undefined; gzip: boolean } = { header: undefined, gzip: false };
  const gzipFor = (header: string | string[] | undefined): boolean => {
    if (header !== last.header) last = { header, gzip: acceptsGzip(header) };
    return last.gzip;
  };
  const serve = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const scraped = await opts.scrape(gzipFor(req.headers['accept-encoding']));
    void reply.headers(scraped.gzip ? GZIP_HEADERS : PLAIN_HEADERS);
    void reply.header('content-length', scraped.length);
    // One buffer is sent as it is; several are streamed rather than copied into one per scrape.
    const [only, ...more] = scraped.chunks;
    return reply.send(only !== undefined && more.length === 0 ? only : Readable.from(scraped.chunks));
  };
  app.get('/metrics', { onRequest: opts.protect }, serve);
  app.get('/metrics/', { onRequest: opts.protect }, serve);
}
