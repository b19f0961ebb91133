import type { Logger } from 'pino';
import type { ExporterConfig } from '../config/types.js';

/** The body for one scrape: pre-rendered bytes, gzip-encoded when the scraper accepts it. */
export interface ScrapeBody {
  body: Buffer;
  gzip: boolean;
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
