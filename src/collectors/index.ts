/**
 * The collectors this configuration runs, in the order their families appear in the exposition. A new
 * metric family is a new collector file and one line here.
 */
import type { Logger } from 'pino';
import type { ExporterConfig } from '../config/types.js';
import type { SentryApi } from '../sentry/api.js';
import type { Collector, ProjectInfo } from './collector.js';
import { IssueCollector } from './issues.js';
import { MetadataCollector } from './metadata.js';
import { MonitorCollector } from './monitors.js';
import { OutcomesCollector } from './outcomes.js';
import { RateLimitCollector } from './rate-limits.js';
import { ReleaseHealthCollector } from './sessions.js';

export interface CollectorSet {
  /** The project list every other collector splits its series by; runs first, exports nothing itself. */
  metadata: Collector<ProjectInfo[]>;
  /** The collectors that export families, each enabled by its SENTRY_SCRAPE_* setting. */
  metrics: Collector[];
}

export function createCollectors(config: ExporterConfig, api: SentryApi, logger: Logger): CollectorSet {
  const { scrape, schedule, sentry } = config;
  const metrics: Array<Collector | false> = [
    scrape.issueMetrics &&
      new IssueCollector({
        api,
        logger,
        interval: schedule.pollInterval,
        windows: { h1: scrape.issues1h, h24: scrape.issues24h, d14: scrape.issues14d },
        openIssues: true,
        openIssuesMax: scrape.openIssuesMax,
        releaseTtlMs: schedule.metadataInterval * 1000,
        releaseLookups: Math.max(4, 2 * sentry.concurrency),
        restrictedSelection: sentry.projects.length > 0,
      }),
    (scrape.outcomeMetrics || scrape.eventMetrics) &&
      new OutcomesCollector({
        api,
        interval: schedule.outcomesInterval,
        outcomes: scrape.outcomeMetrics,
        events: scrape.eventMetrics,
      }),
    scrape.rateLimitMetrics && new RateLimitCollector({ api, logger }, schedule.metadataInterval),
    scrape.monitorMetrics && new MonitorCollector({ api, logger }, schedule.pollInterval),
    scrape.releaseHealthMetrics &&
      new ReleaseHealthCollector({
        api,
        logger,
        interval: schedule.releaseHealthInterval,
        releasesPerProject: scrape.releaseHealthReleases,
        restrictedSelection: sentry.projects.length > 0,
      }),
  ];
  return {
    metadata: new MetadataCollector({
      api,
      logger,
      selectedSlugs: sentry.projects,
      interval: schedule.metadataInterval,
    }),
    metrics: metrics.filter((c): c is Collector => c !== false),
  };
}
