/**
 * The pipeline: runs each collector when it is due, renders what it collected and publishes it to the
 * snapshot at once, and knows from that whether the exporter is ready. Nothing here calls Sentry directly
 * and nothing here serves HTTP.
 */
import type { Logger } from 'pino';
import type { CollectorSet } from '../collectors/index.js';
import type { Family, ProjectInfo } from '../collectors/collector.js';
import type { ScheduleConfig } from '../config/schema.js';
import type { SectionRenderer } from '../metrics/section-renderer.js';
import type { SelfMetrics } from '../metrics/self-metrics.js';
import { callerScope } from '../sentry/caller.js';
import { SkippedItems } from '../sentry/skipped.js';
import { cycleDeadlineOf, initialState, readyMaxAgeOf } from './collector-state.js';
import type { CollectorState } from './collector-state.js';
import { ProgressPublisher } from './progress.js';
import { readinessOf } from './readiness.js';
import type { CollectorHealth, CollectorStatus, Readiness } from './readiness.js';
import { errorForLog, errorReport } from './run-errors.js';

export interface SchedulerDeps {
  collectors: Pick<CollectorSet, 'metadata' | 'metrics'>;
  schedule: ScheduleConfig;
  /** SENTRY_EXPORTER_LEGACY_METRICS: the Python exporter's names and label spellings. */
  legacyMetrics: boolean;
  /** Cumulative Sentry request counts, read before and after a cycle for its log line. */
  requestStats: () => { requests: number; rateLimited: number };
  logger: Logger;
  self: SelfMetrics;
  /** Renders what a collector publishes into its section of the exposition. */
  sections: Pick<SectionRenderer, 'publishFamilies'>;
  /** Called whenever what `readiness()` answers may have changed. */
  onChange?: () => void;
  /** Milliseconds since the epoch; tests may pass their own. */
  clock?: () => number;
}

/** A collector as the status page shows it: its health, its interval and requests, and its run under way. */
export interface CollectorReport extends CollectorHealth {
  name: string;
  /** Seconds between runs. */
  interval: number;
  /** Sentry requests its last run made (every attempt and page). */
  requestsLastRun?: number;
  running?: { forSeconds: number; requests: number; progress: string };
  /** Seconds until its next run, when it is scheduled (not while it runs or waits for the project list). */
  nextRunInSeconds?: number;
}

export interface CycleReport {
  cycle: number;
  durationMs: number;
  /** Sentry requests made while the cycle ran. */
  requests: number;
  rateLimited: number;
  /** Collectors that ran and failed this cycle. */
  failed: string[];
  /** Collectors that ran (a collector whose data is not due does not run). */
  ran: string[];
}

/**
 * How long shutdown waits for running collectors before abandoning them: with the collection thread's own
 * limit (thread.ts) and the HTTP drain (drain.ts), the whole shutdown stays within 5 s.
 */
export const SHUTDOWN_GRACE_MS = 2500;
/** First retry delay of a collector that has never succeeded; doubled per failure up to its interval. */
const FIRST_RETRY_MS = 2000;
/** Collectors due within this much of each other run in the same cycle. */
const DUE_TOGETHER_MS = 50;
/** Least time between two publishes of a running collector's progress. */
const PROGRESS_GAP_MS = 1000;
/** While runs take longer than this, the progress is logged this often. */
const PROGRESS_LOG_MS = 10_000;

/** Why a run's signal fired at shutdown: a run abandoned for it is no failure. */
class ShuttingDown extends Error {
  constructor() {
    super('exporter shutting down');
  }
}

/**
 * Each collector runs on its own interval: the metadata collector (the project list) first, the others once
 * a project list is known. A collector publishes its section as soon as its run is done, so a slow one
 * never holds back the others, and a run is never started while the collector's previous run still goes:
 * the tick is skipped and counted. A collector that fails keeps its last good values; one that has never
 * succeeded is retried sooner (2 s, 4 s, ... up to its interval).
 */
export class Scheduler {
  private readonly clock: () => number;
  private readonly metadata: CollectorState<ProjectInfo[]>;
  private readonly metrics: Array<CollectorState<unknown>>;
  private projects: ProjectInfo[] | undefined;
  private timer: NodeJS.Timeout | undefined;
  private progressLog: NodeJS.Timeout | undefined;
  private readonly series = new Map<string, number>();
  private started = false;
  private stopped = false;
  private cycleCount = 0;

  constructor(private readonly deps: SchedulerDeps) {
    this.clock = deps.clock ?? Date.now;
    this.metadata = initialState(deps.collectors.metadata);
    this.metrics = deps.collectors.metrics.map(initialState);
    deps.self.up.set(1);
    for (const { collector } of this.all()) {
      deps.self.collectorInterval.set({ collector: collector.name }, collector.interval);
      deps.self.collectionErrors.inc({ collector: collector.name }, 0);
    }
  }

  /** The collectors this configuration runs, the metadata collector first. */
  collectorNames(): string[] {
    return this.all().map((s) => s.collector.name);
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.arm(0);
    this.progressLog = setInterval(() => this.logProgress(), PROGRESS_LOG_MS);
    this.progressLog.unref();
  }

  /** Stops the schedule; waits a little for running collectors to finish, then abandons them. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    clearInterval(this.progressLog);
    const running = this.all()
      .map((s) => s.running)
      .filter((r) => r !== undefined);
    if (running.length === 0) return;
    let grace: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.all(running).then(() => false),
      new Promise<boolean>((resolve) => {
        grace = setTimeout(() => resolve(true), SHUTDOWN_GRACE_MS);
      }),
    ]);
    clearTimeout(grace);
    if (!timedOut) return;
    const abandoned = this.all().filter((s) => s.abort !== undefined);
    this.deps.logger.info(
      { collectors: abandoned.map((s) => s.collector.name) },
      `stopping: abandoned the runs of ${abandoned.length} collector(s) still waiting for Sentry`,
    );
    for (const s of abandoned) s.abort?.abort(new ShuttingDown());
    await Promise.all(running);
  }

  /**
   * Runs one cycle now, as if a poll tick had come (the schedule's own cycles run only what is due; tests
   * call this): the metadata collector when it is due or has never succeeded, then every collector that
   * refreshes each poll interval, and the slower ones (client keys, release health) when they are due. A
   * collector already running is waited for, not started twice.
   */
  runCycle(): Promise<CycleReport> {
    return this.cycle(true);
  }

  /** What /healthz answers (see readiness.ts), now. */
  readiness(): Readiness {
    const status = (s: CollectorState<unknown>): CollectorStatus => ({
      name: s.collector.name,
      ...(s.lastSuccess === undefined ? {} : { lastSuccess: s.lastSuccess }),
      ...(s.lastPublished === undefined ? {} : { lastPublished: s.lastPublished }),
      ...(s.lastRunOk === undefined ? {} : { lastRunOk: s.lastRunOk }),
      ...(s.lastDurationMs === undefined ? {} : { lastDurationMs: s.lastDurationMs }),
      ...(s.lastError === undefined ? {} : { lastError: s.lastError }),
    });
    return readinessOf(
      { metadata: status(this.metadata), metrics: this.metrics.map(status) },
      readyMaxAgeOf(this.deps.schedule),
      this.clock(),
    );
  }

  /** Each collector as the status page shows it, now: its health and its schedule. */
  report(): CollectorReport[] {
    const now = this.clock();
    const { collectors } = this.readiness();
    return this.all().map((s) => {
      const health = collectors[s.collector.name] ?? { state: 'not yet run' };
      const due = this.dueAt(s);
      return {
        name: s.collector.name,
        interval: s.collector.interval,
        ...health,
        ...(s.lastRequests === undefined ? {} : { requestsLastRun: s.lastRequests }),
        ...(s.current === undefined || s.lastStart === undefined
          ? {}
          : {
              running: {
                forSeconds: Math.round((now - s.lastStart) / 1000),
                requests: s.current.caller.requests,
                progress: progressText(s.current.progress),
              },
            }),
        ...(Number.isFinite(due) && this.started && !this.stopped
          ? { nextRunInSeconds: Math.max(0, Math.round((due - now) / 1000)) }
          : {}),
      };
    });
  }

  /** While a run has gone on for PROGRESS_LOG_MS or more: one line saying what is done and what is left. */
  private logProgress(): void {
    const now = this.clock();
    const long = this.all().some(
      (s) => s.current !== undefined && s.lastStart !== undefined && now - s.lastStart >= PROGRESS_LOG_MS,
    );
    if (!long) return;
    const parts = this.report().map((r) => {
      if (r.running !== undefined) {
        const detail = [`${r.running.requests} requests`, r.running.progress].filter((x) => x !== '');
        return `${r.name} running for ${r.running.forSeconds}s (${detail.join(', ')})`;
      }
      return `${r.name} ${r.state === 'ok' ? 'done' : r.state === 'failing' ? 'failed' : 'waiting'}`;
    });
    const first = this.metrics.some((s) => s.lastSuccess === undefined);
    this.deps.logger.info(
      { progress: parts.join('; ') },
      first ? 'first collection in progress' : 'collection in progress',
    );
  }

  private all(): Array<CollectorState<unknown>> {
    return [this.metadata, ...this.metrics];
  }

  /** Sets the one timer to the next due time, at least `minDelayMs` from now. */
  private arm(minDelayMs = 0): void {
    if (this.stopped || !this.started) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const next = Math.min(...this.all().map((s) => this.dueAt(s)));
    if (!Number.isFinite(next)) return; // everything is running; the end of a run re-arms
    const delay = Math.max(minDelayMs, next - this.clock());
    // setTimeout fires after at most ~24.8 days; a longer wait is simply re-armed then.
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.cycle(false).catch((err: unknown) => {
          // cycle() reports collector failures itself; anything reaching here is a bug, logged, not thrown
          // out of a timer callback (which would crash the process while /metrics can still serve).
          this.deps.logger.error({ error: errorForLog(err) }, 'collection cycle failed unexpectedly');
        });
      },
      Math.min(delay, 2 ** 31 - 1),
    );
  }

  /** When the collector should run next (ms), Infinity while it runs or waits for the project list. */
  private dueAt(s: CollectorState<unknown>): number {
    if (s.running !== undefined) return Number.POSITIVE_INFINITY;
    if (s !== this.metadata && this.projects === undefined) return Number.POSITIVE_INFINITY;
    if (s.lastStart === undefined) return 0;
    if (s.lastSuccess === undefined) return (s.lastEnd ?? s.lastStart) + retryDelayMs(s);
    return s.nextDue;
  }

  private async cycle(force: boolean): Promise<CycleReport> {
    const { self, logger } = this.deps;
    const cycle = ++this.cycleCount;
    const started = this.clock();
    const before = this.deps.requestStats();
    const ran: string[] = [];
    const failed: string[] = [];
    const track = async (s: CollectorState<unknown>, run: Promise<unknown>): Promise<void> => {
      ran.push(s.collector.name);
      if ((await run) === undefined) failed.push(s.collector.name);
    };

    const forced = (s: CollectorState<unknown>): boolean =>
      force && s.collector.interval <= this.deps.schedule.pollInterval;
    const metadataDue =
      this.projects === undefined || this.dueAt(this.metadata) <= started || forced(this.metadata);
    if (this.metadata.running !== undefined) await track(this.metadata, this.metadata.running);
    else if (metadataDue) {
      await track(
        this.metadata,
        // Set before the run's promise settles: a cycle waiting for it sees the list at once.
        this.run(this.metadata, cycle, (projects) => (this.projects = projects)),
      );
    }

    const now = this.clock();
    const jobs: Array<Promise<void>> = [];
    for (const s of this.metrics) {
      if (this.projects === undefined) break;
      // Collectors that started together come due a few milliseconds apart: they run together again.
      const due = this.dueAt(s) <= now + DUE_TOGETHER_MS || forced(s);
      if (s.running !== undefined) {
        if (force) jobs.push(track(s, s.running));
      } else if (due) {
        jobs.push(track(s, this.run(s, cycle)));
      }
    }
    // A collector that comes due while these run starts on time, not when they are done.
    this.arm();
    await Promise.all(jobs);

    const after = this.deps.requestStats();
    const report: CycleReport = {
      cycle,
      durationMs: this.clock() - started,
      requests: after.requests - before.requests,
      rateLimited: after.rateLimited - before.rateLimited,
      failed,
      ran,
    };
    // A cycle cut short by shutdown is neither logged nor counted: stop() said what it abandoned.
    if (ran.length > 0 && !this.stopped) {
      self.cycleDuration.set(report.durationMs / 1000);
      self.cycles.inc({
        result: failed.length === 0 ? 'success' : failed.length < ran.length ? 'partial' : 'failure',
      });
      logger.info(
        {
          cycle,
          durationMs: report.durationMs,
          requests: report.requests,
          rateLimited: report.rateLimited,
          ran,
          failed,
          series: [...this.series.values()].reduce((a, b) => a + b, 0),
        },
        failed.length === 0 ? 'collection cycle done' : 'collection cycle done with errors',
      );
    }
    self.invalidate();
    this.arm();
    return report;
  }

  /** Starts a run of the collector; resolves to its rows, or undefined when it failed (it never rejects). */
  private run<Rows>(
    s: CollectorState<Rows>,
    cycle: number,
    onSuccess?: (rows: Rows) => void,
  ): Promise<Rows | undefined> {
    const run = this.execute(s, cycle, onSuccess).finally(() => {
      s.running = undefined;
      s.abort = undefined;
      this.arm();
    });
    s.running = run;
    return run;
  }

  private async execute<Rows>(
    s: CollectorState<Rows>,
    cycle: number,
    onSuccess?: (rows: Rows) => void,
  ): Promise<Rows | undefined> {
    const { self, logger, sections, schedule, onChange } = this.deps;
    const { collector } = s;
    const abort = new AbortController();
    s.abort = abort;
    const deadlineSeconds = cycleDeadlineOf(schedule);
    const deadline = setTimeout(
      () => abort.abort(new Error(`cycle deadline of ${deadlineSeconds}s passed`)),
      deadlineSeconds * 1000,
    );
    const start = this.clock();
    s.lastStart = start;
    const render = { legacy: this.deps.legacyMetrics, now: new Date(start) };
    const publish = async (rows: Rows): Promise<void> => {
      const families = collector.render(rows, render);
      if (families.length > 0) await sections.publishFamilies(collector.name, families, this.clock());
      this.countSeries(s, families);
      // Counted for readiness only once the values are published: /healthz never runs ahead of /metrics.
      s.lastPublished = this.clock();
      onChange?.();
    };
    const progress = new ProgressPublisher(publish, PROGRESS_GAP_MS, (err: unknown) =>
      logger.warn(
        { cycle, collector: collector.name, error: errorForLog(err) },
        "publishing a collector's progress failed",
      ),
    );
    const skipped = new SkippedItems();
    const current = { caller: { name: collector.name, requests: 0 }, progress: new Map() };
    s.current = current;
    let succeeded = false;
    try {
      // Its Sentry requests are counted for it (callerScope), however deep in the client they are made.
      const rows = await callerScope.run(current.caller, () =>
        collector.collect({
          signal: abort.signal,
          now: start,
          projects: this.projects ?? [],
          skipped,
          publish: (partial) => progress.offer(partial),
          progress: (what, done, total) =>
            current.progress.set(what, total === undefined ? { done } : { done, total }),
        }),
      );
      await progress.close(false);
      await publish(rows);
      const end = this.clock();
      onSuccess?.(rows);
      s.lastSuccess = end;
      s.failures = 0;
      s.lastError = undefined;
      s.lastRunOk = true;
      self.lastSuccess.set({ collector: collector.name }, Math.floor(end / 1000));
      succeeded = true;
      return rows;
    } catch (err) {
      // Logged once for all collectors by stop(); what it published so far stays.
      if (abort.signal.reason instanceof ShuttingDown) return undefined;
      s.failures++;
      s.lastRunOk = false;
      s.lastError = errorReport(err, abort.signal);
      self.collectionErrors.inc({ collector: collector.name });
      // Logged once per collector and run.
      logger.error(
        { cycle, collector: collector.name, failures: s.failures, error: errorForLog(err, abort.signal) },
        s.lastSuccess !== undefined
          ? 'collector failed; keeping its last good values'
          : s.lastPublished === undefined
            ? `collector failed; it has no data yet and is retried in ${Math.round(retryDelayMs(s) / 1000)}s`
            : `collector failed; keeping the values it published so far, and retried in ${Math.round(retryDelayMs(s) / 1000)}s`,
      );
      return undefined;
    } finally {
      clearTimeout(deadline);
      // A failed run keeps what it had published of its progress, and what was still waiting to be.
      if (!succeeded) await progress.close(true);
      if (skipped.count > 0) {
        logger.warn(
          { collector: collector.name, skipped: skipped.toLog() },
          'malformed items left out of Sentry answers this run; the rest of each answer is used',
        );
      }
      const end = this.clock();
      s.lastEnd = end;
      s.lastDurationMs = end - start;
      s.lastRequests = current.caller.requests;
      s.current = undefined;
      self.collectionDuration.set({ collector: collector.name }, (end - start) / 1000);
      if (!this.stopped) this.scheduleNext(s, start, end);
      // 0 only when a collector's latest run failed: one that has not ended its first run has not failed.
      self.up.set(this.all().some((x) => x.lastRunOk === false) ? 0 : 1);
      self.invalidate();
      onChange?.();
    }
  }

  /** Series per family in the exposition (sentry_exporter_series), as the collector's section now holds them. */
  private countSeries(s: CollectorState<unknown>, families: readonly Family[]): void {
    const now = new Set<string>();
    for (const f of families) {
      now.add(f.name);
      this.series.set(f.name, f.samples.length);
      this.deps.self.series.set({ family: f.name }, f.samples.length);
    }
    for (const name of s.families) {
      if (now.has(name)) continue;
      this.series.delete(name);
      this.deps.self.series.remove({ family: name });
    }
    s.families = now;
  }

  /** Series in the collectors' sections, by family. */
  seriesByFamily(): ReadonlyMap<string, number> {
    return this.series;
  }

  /** Start-aligned: the next tick after the run ended; ticks that passed while it ran are skipped and counted. */
  private scheduleNext(s: CollectorState<unknown>, start: number, end: number): void {
    const intervalMs = s.collector.interval * 1000;
    const ticks = Math.max(1, Math.ceil((end - start) / intervalMs));
    s.nextDue = start + ticks * intervalMs;
    if (ticks > 1) {
      this.deps.self.cyclesSkipped.inc(ticks - 1);
      this.deps.logger.warn(
        { collector: s.collector.name, durationMs: end - start, skipped: ticks - 1 },
        'a collector run took longer than its interval; the ticks in between were skipped (raise SENTRY_POLL_INTERVAL or SENTRY_API_RATE)',
      );
    }
  }
}

/** `releases 40/240, pages 12`. */
function progressText(progress: ReadonlyMap<string, { done: number; total?: number }>): string {
  return [...progress]
    .map(([what, p]) => `${what} ${p.done}${p.total === undefined ? '' : `/${p.total}`}`)
    .join(', ');
}

/** A collector that has never succeeded is retried after 2 s, 4 s, 8 s, ... up to its interval. */
function retryDelayMs(s: CollectorState<unknown>): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, s.failures - 1), s.collector.interval * 1000);
}
