import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { ExporterConfig } from '../config/types.js';
import type { Readiness } from '../http/deps.js';
import { eventFamilies, issueWindowFamilies, rateLimitFamilies } from '../metrics/families.js';
import type { FamilyOptions } from '../metrics/families.js';
import { renderFamiliesSliced } from '../metrics/exposition.js';
import type { CollectorName, SelfMetrics } from '../metrics/self-metrics.js';
import type { Snapshot } from '../metrics/snapshot.js';
import type { SentryApi } from '../sentry/api.js';
import { SentryApiError } from '../sentry/errors.js';
import { collectEventTotals } from '../collectors/events.js';
import { IssueCollector } from '../collectors/issues.js';
import { MetadataCollector } from '../collectors/metadata.js';
import type { ProjectInfo } from '../collectors/model.js';
import { RateLimitCollector } from '../collectors/rate-limits.js';

/** Cumulative request counts of the Sentry client, read before and after a cycle. */
export interface ClientStats {
  stats(): { requests: number; rateLimited: number; errors: number };
}

export interface SchedulerDeps {
  api: SentryApi & ClientStats;
  config: ExporterConfig;
  logger: Logger;
  self: SelfMetrics;
  snapshot: Snapshot;
  /** Milliseconds since the epoch; tests may pass their own. */
  clock?: () => number;
}

export interface CycleReport {
  cycle: number;
  durationMs: number;
  requests: number;
  rateLimited: number;
  /** Collectors that ran and failed this cycle. */
  failed: CollectorName[];
  /** Collectors that ran (a collector whose data is not due does not run). */
  ran: CollectorName[];
}

/** Order of the sections in the exposition. */
const SECTION_ORDER = ['issues', 'events', 'rate_limits'] as const;

/** How long shutdown waits for a running cycle before abandoning it. */
const SHUTDOWN_GRACE_MS = 3000;

/**
 * Runs a collection cycle at start and then every SENTRY_POLL_INTERVAL seconds. A cycle builds every
 * due collector's families and publishes them to the snapshot at once; a tick that comes while a cycle
 * still runs is skipped and counted, never queued. A collector that fails keeps its last good values.
 */
export class Scheduler {
  private readonly clock: () => number;
  private readonly metadata: MetadataCollector;
  private readonly issues: IssueCollector;
  private readonly rateLimits: RateLimitCollector;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<CycleReport> | undefined;
  private runningAbort: AbortController | undefined;
  private cycleCount = 0;
  private projects: ProjectInfo[] | undefined;
  private readonly lastSuccess = new Map<CollectorName, number>();
  private stopped = false;

  constructor(private readonly deps: SchedulerDeps) {
    this.clock = deps.clock ?? Date.now;
    const { api, logger, config } = deps;
    this.metadata = new MetadataCollector({ api, logger, selectedSlugs: config.sentry.projects });
    this.issues = new IssueCollector({
      api,
      logger,
      windows: { h1: config.scrape.issues1h, h24: config.scrape.issues24h, d14: config.scrape.issues14d },
      openIssues: true,
      openIssuesMax: config.scrape.openIssuesMax,
      releaseTtlMs: config.schedule.metadataInterval * 1000,
      restrictedSelection: config.sentry.projects.length > 0,
    });
    this.rateLimits = new RateLimitCollector({ api, logger });
  }

  /** The collectors this configuration exports (metadata always runs: the others depend on it). */
  enabledCollectors(): CollectorName[] {
    const { scrape } = this.deps.config;
    const names: CollectorName[] = ['metadata'];
    if (scrape.issueMetrics) names.push('issues');
    if (scrape.eventMetrics) names.push('events');
    if (scrape.rateLimitMetrics) names.push('rate_limits');
    return names;
  }

  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.deps.config.schedule.pollInterval * 1000);
  }

  /** Stops the schedule; waits a little for a running cycle to finish, then abandons it. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const running = this.running;
    if (running === undefined) return;
    const grace = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), SHUTDOWN_GRACE_MS).unref(),
    );
    if (
      (await Promise.race([
        running.then(
          () => 'done' as const,
          () => 'done' as const,
        ),
        grace,
      ])) === 'timeout'
    ) {
      this.runningAbort?.abort(new Error('exporter shutting down'));
      await running.catch(() => undefined);
    }
  }

  private async tick(): Promise<void> {
    if (this.running !== undefined) {
      this.deps.self.cyclesSkipped.inc();
      this.deps.logger.warn(
        { cycle: this.cycleCount },
        'previous collection cycle still running; this one is skipped (raise SENTRY_POLL_INTERVAL or SENTRY_API_RATE)',
      );
      return;
    }
    try {
      await this.runCycle();
    } catch (err) {
      // runCycle reports collector failures itself; anything reaching here is a bug, logged, not thrown
      // out of a timer callback (which would crash the process while /metrics can still serve).
      this.deps.logger.error({ err }, 'collection cycle failed unexpectedly');
    }
  }

  /** Runs one cycle now (the schedule calls it; tests too). Overlapping calls share the running cycle. */
  runCycle(): Promise<CycleReport> {
    if (this.running !== undefined) return this.running;
    const abort = new AbortController();
    // Every request of the cycle listens to this signal, so there can be hundreds at once.
    setMaxListeners(0, abort.signal);
    this.runningAbort = abort;
    this.running = this.cycle(abort).finally(() => {
      this.running = undefined;
      this.runningAbort = undefined;
    });
    return this.running;
  }

  private async cycle(abort: AbortController): Promise<CycleReport> {
    const { self, logger, config, snapshot, api } = this.deps;
    const cycle = ++this.cycleCount;
    const started = this.clock();
    const before = api.stats();
    const deadline = setTimeout(
      () => abort.abort(new Error(`cycle deadline of ${config.schedule.cycleDeadline}s passed`)),
      config.schedule.cycleDeadline * 1000,
    );
    const signal = abort.signal;
    const ran: CollectorName[] = [];
    const failed: CollectorName[] = [];
    const sections = new Map<string, string>();
    // Success counts for readiness only once the values are published: /healthz never runs ahead of /metrics.
    const succeeded = new Map<CollectorName, number>();

    const run = async <T>(name: CollectorName, work: () => Promise<T>): Promise<T | undefined> => {
      ran.push(name);
      const t0 = this.clock();
      try {
        const result = await work();
        const t1 = this.clock();
        self.collectionDuration.set({ collector: name }, (t1 - t0) / 1000);
        succeeded.set(name, t1);
        return result;
      } catch (err) {
        self.collectionDuration.set({ collector: name }, (this.clock() - t0) / 1000);
        self.collectionErrors.inc({ collector: name });
        failed.push(name);
        // Logged once per collector and cycle; the collector's last good values stay published.
        logger.error(
          {
            cycle,
            collector: name,
            err: describe(err, signal),
          },
          'collector failed; keeping its last good values',
        );
        return undefined;
      }
    };

    try {
      const metadataInterval = config.schedule.metadataInterval * 1000;
      if (this.projects === undefined || this.isDue('metadata', metadataInterval)) {
        const projects = await run('metadata', () => this.metadata.collect(signal));
        if (projects !== undefined) this.projects = projects;
      }
      const projects = this.projects;
      const familyOptions: FamilyOptions = {
        legacy: config.scrape.legacyMetrics,
        buckets: { h1: config.scrape.issues1h, h24: config.scrape.issues24h, d14: config.scrape.issues14d },
        pollInterval: config.schedule.pollInterval,
        now: new Date(this.clock()),
      };
      const noProjects = (): Promise<never> =>
        Promise.reject(new Error('no project list yet: the metadata collector has not succeeded'));

      const jobs: Array<Promise<unknown>> = [];
      if (config.scrape.issueMetrics) {
        jobs.push(
          run('issues', () =>
            projects ? this.issues.collect(projects, this.clock(), signal) : noProjects(),
          ).then(async (data) => {
            if (data === undefined) return;
            self.openIssuesDropped.set(data.openIssuesDropped);
            sections.set('issues', await renderFamiliesSliced(issueWindowFamilies(data, familyOptions)));
          }),
        );
      }
      if (config.scrape.eventMetrics) {
        jobs.push(
          run('events', () =>
            projects ? collectEventTotals(api, projects, new Date(this.clock()), signal) : noProjects(),
          ).then(async (rows) => {
            if (rows !== undefined) {
              sections.set('events', await renderFamiliesSliced(eventFamilies(rows, familyOptions)));
            }
          }),
        );
      }
      // Client-key rate limits change rarely: refreshed with the metadata, or when the project list did.
      if (
        config.scrape.rateLimitMetrics &&
        (this.isDue('rate_limits', metadataInterval) || ran.includes('metadata'))
      ) {
        jobs.push(
          run('rate_limits', () =>
            projects ? this.rateLimits.collect(projects, signal) : noProjects(),
          ).then(async (rows) => {
            if (rows !== undefined) {
              sections.set('rate_limits', await renderFamiliesSliced(rateLimitFamilies(rows, familyOptions)));
            }
          }),
        );
      }
      await Promise.all(jobs);
      await snapshot.publish(sections, SECTION_ORDER, this.clock());
      for (const [name, at] of succeeded) {
        self.lastSuccess.set({ collector: name }, Math.floor(at / 1000));
        this.lastSuccess.set(name, at);
      }
    } finally {
      clearTimeout(deadline);
    }

    const finished = this.clock();
    const after = api.stats();
    const report: CycleReport = {
      cycle,
      durationMs: finished - started,
      requests: after.requests - before.requests,
      rateLimited: after.rateLimited - before.rateLimited,
      failed,
      ran,
    };
    self.cycleDuration.set(report.durationMs / 1000);
    self.up.set(failed.length === 0 ? 1 : 0);
    self.cycles.inc({
      result: failed.length === 0 ? 'success' : failed.length < ran.length ? 'partial' : 'failure',
    });
    logger.info(
      {
        cycle,
        durationMs: report.durationMs,
        requests: report.requests,
        rateLimited: report.rateLimited,
        failed,
      },
      failed.length === 0 ? 'collection cycle done' : 'collection cycle done with errors',
    );
    return report;
  }

  private isDue(name: CollectorName, intervalMs: number): boolean {
    const last = this.lastSuccess.get(name);
    return last === undefined || this.clock() - last >= intervalMs;
  }

  /**
   * Ready once every exported collector has succeeded, and while each one's last success is recent for
   * its cadence: SENTRY_READY_MAX_AGE for the per-cycle collectors; metadata and client-key rate limits,
   * refreshed every SENTRY_METADATA_INTERVAL, get that interval on top. Then every family is fresh.
   */
  readiness(): Readiness {
    const { readyMaxAge, metadataInterval } = this.deps.config.schedule;
    const now = this.clock();
    let oldestPerCycle: number | undefined;
    for (const name of this.enabledCollectors()) {
      const last = this.lastSuccess.get(name);
      if (last === undefined) return { ready: false, reason: `no successful ${name} collection yet` };
      const slow = name === 'metadata' || name === 'rate_limits';
      const maxAgeMs = (readyMaxAge + (slow ? metadataInterval : 0)) * 1000;
      if (now - last > maxAgeMs) {
        return {
          ready: false,
          reason: `${name} data is ${Math.round((now - last) / 1000)}s old (max ${maxAgeMs / 1000}s)`,
          lastSuccess: Math.floor(last / 1000),
        };
      }
      if (!slow && (oldestPerCycle === undefined || last < oldestPerCycle)) oldestPerCycle = last;
    }
    return oldestPerCycle === undefined
      ? { ready: true }
      : { ready: true, lastSuccess: Math.floor(oldestPerCycle / 1000) };
  }
}

/**
 * A failure as a log object. When the cycle's signal fired (deadline or shutdown), its reason is added: the
 * client only knows that its call was abandoned, the operator needs to know why.
 */
function describe(err: unknown, signal: AbortSignal): Record<string, unknown> {
  const base: Record<string, unknown> =
    err instanceof SentryApiError
      ? err.toLog()
      : { message: err instanceof Error ? err.message : String(err) };
  if (!signal.aborted) return base;
  const reason: unknown = signal.reason;
  return { ...base, aborted: reason instanceof Error ? reason.message : String(reason) };
}
