import type { Logger } from 'pino';
import type { ExporterConfig } from '../config/types.js';
import type { ScrapeBody } from '../metrics/snapshot.js';
import type { Readiness } from '../pipeline/scheduler.js';

/**
 * Everything the HTTP server needs, passed in as one object. The server never calls Sentry: it only reads
 * what the pipeline has already published.
 */
export interface HttpDeps {
  config: ExporterConfig['http'];
  logger: Logger;
  version: string;
  /**
   * Pre-rendered exposition; never waits on Sentry. Synchronous while the exposition is unchanged (the
   * common case, served without a promise), a promise when a body has to be built first.
   */
  scrape(acceptGzip: boolean): ScrapeBody | Promise<ScrapeBody>;
  readiness(): Readiness;
  /** Called once per rejected basic-auth attempt (feeds a self-metric). */
  onAuthFailure(): void;
  /** Poll interval in seconds, shown on the landing page. */
  pollInterval: number;
}
