import type { Logger } from 'pino';
import type { HttpConfig } from '../config/schema.js';
import type { ScrapeBody } from '../metrics/snapshot.js';
import type { CollectionStatus } from '../pipeline/collection.js';
import type { Readiness } from '../pipeline/readiness.js';

/**
 * Everything the HTTP server needs, passed in as one object. The server never calls Sentry: it only reads
 * what the pipeline has already published.
 */
export interface HttpDeps {
  config: HttpConfig;
  logger: Logger;
  version: string;
  /**
   * Pre-rendered exposition; never waits on Sentry. Synchronous while the exposition is unchanged (the
   * common case, served without a promise), a promise when a body has to be built first.
   */
  scrape(acceptGzip: boolean): ScrapeBody | Promise<ScrapeBody>;
  readiness(): Readiness;
  /** What the status page shows; held by the exporter, never asked of Sentry. */
  status(): CollectionStatus;
  /** Called once per rejected basic-auth attempt (feeds a self-metric). */
  onAuthFailure(): void;
  /** Shown on the status page. */
  org: string;
  /** SENTRY_BASE_URL (shown without credentials). */
  sentryUrl: string;
  /** When the exporter started, ms since the epoch. */
  startedAt: number;
}
