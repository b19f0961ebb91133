import type { Logger } from 'pino';
import type { ExporterConfig } from '../config/types.js';

/**
 * The body for one scrape: pre-rendered byte chunks (the big cached part, then the small self-metrics),
 * gzip-encoded when the scraper accepts it. The server writes the chunks as they are, so a scrape never
 * copies the cached exposition.
 */
export class ScrapeBody {
  constructor(
    readonly chunks: readonly Buffer[],
    readonly gzip: boolean,
  ) {}

  get length(): number {
    return this.chunks.reduce((sum, c) => sum + c.length, 0);
  }

  /** All bytes in one buffer: a copy, for tests and tools; the server streams `chunks`. */
  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** What /healthz reports. */
export interface Readiness {
  ready: boolean;
  /** Short reason when not ready, e.g. `no successful collection yet`, `data is 412s old (max 180s)`. */
  reason?: string;
  /** Unix seconds of the newest fully successful cycle, when there was one. */
  lastSuccess?: number;
}

/**
 * Everything the HTTP server needs, passed in as one object. The server never calls Sentry: it only reads
 * what the scheduler has already published.
 */
export interface HttpDeps {
  config: ExporterConfig['http'];
  logger: Logger;
  version: string;
  /** Pre-rendered exposition; cheap, never waits on Sentry. */
  scrape(acceptGzip: boolean): Promise<ScrapeBody>;
  readiness(): Readiness;
  /** Called once per rejected basic-auth attempt (feeds a self-metric). */
  onAuthFailure(): void;
  /** Poll interval in seconds, shown on the landing page. */
  pollInterval: number;
}
