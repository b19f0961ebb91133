/**
 * The collection, wired: the token, the Sentry client, the collectors, the scheduler that runs them and
 * the renderer that turns what they collect into sections of the exposition. It runs wherever it is
 * created: in the thread that serves HTTP, or in a worker thread of its own (worker.ts, the default), which
 * only carries its sections, self-metrics and readiness across.
 */
import type { Logger } from 'pino';
import { createCollectors } from '../collectors/index.js';
import type { ExporterConfig } from '../collectors/index.js';
import { TokenFile, fixedToken } from '../config/token-file.js';
import type { ServedSource } from '../metrics/rendering.js';
import { SectionRenderer } from '../metrics/section-renderer.js';
import type { SectionSink } from '../metrics/section-renderer.js';
import { SelfMetrics } from '../metrics/self-metrics.js';
import { createSentryClient } from '../sentry/client.js';
import { VERSION } from '../version.js';
import type { EndpointRateLimit } from '../sentry/rate-limit.js';
import type { Readiness } from './readiness.js';
import { Scheduler } from './scheduler.js';
import type { CollectorReport, CycleReport } from './scheduler.js';

/** What the status page shows of the collection, as of now. */
export interface CollectionStatus {
  readiness: Readiness;
  /** Every collector this configuration runs, the metadata collector first. */
  collectors: CollectorReport[];
  /** The collectors their settings turn off. */
  disabled: string[];
  /** The request budget and what Sentry said of it. */
  requests: {
    /** SENTRY_API_RATE, SENTRY_API_CONCURRENCY. */
    rate: number;
    concurrency: number;
    /** Since the start: HTTP exchanges (every attempt and page), those answered 429, retried attempts. */
    total: number;
    rateLimited: number;
    retries: number;
    /** The latest X-Sentry-Rate-Limit-* reading per endpoint (none from self-hosted Sentry). */
    rateLimits: EndpointRateLimit[];
  };
  /** Series per family in the exposition. */
  series: Record<string, number>;
}

/** What the rest of the exporter (and the tests) see of the collection, wherever it runs. */
export interface Collection {
  /** The collectors this configuration runs, the metadata collector first. */
  readonly collectorNames: readonly string[];
  /** The sections of the exposition, in order (the collectors that export families). */
  readonly sections: readonly string[];
  /** The collection's own metrics (requests to Sentry, runs, errors), rendered. */
  readonly self: ServedSource;
  /** Starts the schedule: the first cycle at once. */
  start(): void;
  /** Runs one cycle now, as if a poll tick had come (see Scheduler.runCycle). */
  runCycle(): Promise<CycleReport>;
  readiness(): Readiness;
  status(): CollectionStatus;
  /** Stops the schedule (running collectors get a short grace), closes Sentry connections. */
  stop(): Promise<void>;
}

export interface CollectionOptions {
  logger: Logger;
  /** Milliseconds since the epoch, for the collected data and readiness; the wall clock by default. */
  clock?: () => number;
  /** Called whenever readiness may have changed (a run started, published or ended). */
  onChange?: () => void;
}

export function createCollection(
  config: ExporterConfig,
  sink: SectionSink,
  { logger, clock, onChange }: CollectionOptions,
): Collection {
  const self = new SelfMetrics({ pollInterval: config.schedule.pollInterval, version: VERSION });
  const { sentry } = config;
  const token =
    sentry.tokenFile === ''
      ? fixedToken(sentry.token)
      : new TokenFile(sentry.tokenFile, {
          initial: sentry.token,
          logger: logger.child({ component: 'config' }),
          onReload: () => self.tokenReloads.inc(),
        });
  const client = createSentryClient({
    ...sentry,
    token,
    logger: logger.child({ component: 'sentry' }),
    onRequest: (o) => self.observeRequest(o),
    onDuplicates: (endpoint, count) => self.duplicateItems.inc({ endpoint }, count),
    onSkipped: (endpoint, count) => self.skippedItems.inc({ endpoint }, count),
  });
  const collectors = createCollectors(config, client, logger.child({ component: 'collect' }));
  const scheduler = new Scheduler({
    collectors,
    schedule: config.schedule,
    legacyMetrics: config.exposition.legacyMetrics,
    requestStats: () => client.stats(),
    logger: logger.child({ component: 'collect' }),
    self,
    sections: new SectionRenderer(sink),
    ...(onChange === undefined ? {} : { onChange }),
    ...(clock === undefined ? {} : { clock }),
  });
  return {
    collectorNames: scheduler.collectorNames(),
    sections: collectors.metrics.map((c) => c.name),
    self,
    start: () => scheduler.start(),
    runCycle: () => scheduler.runCycle(),
    readiness: () => scheduler.readiness(),
    status() {
      const stats = client.stats();
      return {
        readiness: scheduler.readiness(),
        collectors: scheduler.report(),
        disabled: collectors.disabled,
        requests: {
          rate: sentry.rate,
          concurrency: sentry.concurrency,
          total: stats.requests,
          rateLimited: stats.rateLimited,
          retries: stats.retries,
          rateLimits: client.rateLimits(),
        },
        series: Object.fromEntries(scheduler.seriesByFamily()),
      };
    },
    async stop() {
      await scheduler.stop();
      await client.close();
      token.close();
    },
  };
}
