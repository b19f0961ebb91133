import type { Logger } from 'pino';
import type { HttpConfig } from '../config/schema.js';
import type { ScrapeBody } from '../metrics/snapshot.js';
import type { Readiness } from '../pipeline/readiness.js';

/**
 * Everything the HTTP server needs, passed in as one object. The server never calls Sentry: it only reads
 * what the pipeline has already published.
 */
export interface HttpDeps {
  config: HttpConfig;
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
