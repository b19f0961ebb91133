/**
 * A scheduler on a mocked clock (node:test's mock timers drive `setTimeout`, `setInterval` and `Date.now`)
 * and small collectors written for it, whose runs the test ends when it wants: shared by the scheduler's tests.
 */
import { mock } from 'node:test';
import type { Logger } from 'pino';
import type { CollectContext, Collector, Family, ProjectInfo } from '../../src/collectors/collector.js';
import type { ScheduleConfig } from '../../src/config/schema.js';
import { SelfMetrics } from '../../src/metrics/self-metrics.js';
import { Scheduler } from '../../src/pipeline/scheduler.js';
import { memoryLogger } from '../helpers/exporter.js';
import { logRecords } from '../hardening/helpers.js';

export const T0 = Date.parse('2026-12-01T00:00:00Z');
export const PROJECTS: ProjectInfo[] = [{ id: '1', slug: 'web', environments: ['production'] }];

/** A collector whose runs are recorded and ended by the test (`finish`, `fail`), or at once (`auto`). */
export class ScriptedCollector implements Collector<string[]> {
  /** When each run started (ms after T0), and its signal. */
  readonly starts: number[] = [];
  readonly signals: AbortSignal[] = [];
  readonly contexts: CollectContext[] = [];
  private pending: Array<{ resolve: (rows: string[]) => void; reject: (err: Error) => void }> = [];

  /** Requests each run counts as made (`requests`), and what a failing run throws (`error`). */
  requestsPerRun = 0;
  error: () => Error = () => new Error(`${this.name} refused`);
  /** Families its render gives: one by default, none with `families: 0`. */
  families = 1;

  constructor(
    readonly name: string,
    readonly interval: number,
    /** 'ok': every run succeeds at once; 'fail': fails at once; 'manual': the test ends each run. */
    public mode: 'ok' | 'fail' | 'manual' = 'ok',
    private readonly stats?: { requests: number; rateLimited: number },
  ) {}

  collect(ctx: CollectContext): Promise<string[]> {
    this.starts.push(ctx.now - T0);
    this.signals.push(ctx.signal);
    this.contexts.push(ctx);
    if (this.stats !== undefined) this.stats.requests += this.requestsPerRun;
    if (this.mode === 'ok') return Promise.resolve(ctx.projects.map((p) => p.slug));
    if (this.mode === 'fail') return Promise.reject(this.error());
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      ctx.signal.addEventListener('abort', () => reject(new Error('abandoned')), { once: true });
    });
  }

  finish(): void {
    this.pending.shift()?.resolve(['done']);
  }

  fail(): void {
    this.pending.shift()?.reject(new Error(`${this.name} failed`));
  }

  render(rows: string[]): Family[] {
    if (this.families === 0) return [];
    return [
      {
        name: `x_${this.name}`,
        help: 'x',
        type: 'gauge',
        samples: [{ name: `x_${this.name}`, labels: [], value: rows.length }],
      },
    ];
  }
}

export class ProjectList implements Collector<ProjectInfo[]> {
  readonly name = 'metadata';
  runs = 0;
  constructor(readonly interval: number) {}
  collect(): Promise<ProjectInfo[]> {
    this.runs++;
    return Promise.resolve(PROJECTS);
  }
  render(): Family[] {
    return [];
  }
}

/** Lets promise continuations run (the mocked clock does not move). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Moves the mocked clock forward a second at a time, letting each step's runs settle (a mocked timer fires
 * with the clock at the end of the step: every time here is a whole second).
 */
export async function advance(ms: number, step = 1000): Promise<void> {
  mock.timers.tick(0);
  await settle();
  for (let done = 0; done < ms; done += step) {
    mock.timers.tick(Math.min(step, ms - done));
    await settle();
  }
}

/** Stops the schedule, moving the mocked clock past the shutdown grace for runs still going. */
export async function stop(scheduler: Scheduler): Promise<void> {
  const stopped = scheduler.stop();
  await advance(3_500);
  await stopped;
}

/** Cumulative requests as the Sentry client would count them; collectors made with it add to it. */
export const stats = { requests: 0, rateLimited: 0 };

export function setup(metrics: Array<Collector<unknown>>, schedule: Partial<ScheduleConfig> = {}) {
  stats.requests = 0;
  stats.rateLimited = 0;
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: T0 });
  const { logger, lines } = memoryLogger('debug');
  const published: Array<{ name: string; at: number }> = [];
  const metadata = new ProjectList(600);
  const self = new SelfMetrics({ pollInterval: 60, version: 'test' });
  const scheduler = new Scheduler({
    collectors: { metadata, metrics },
    schedule: { pollInterval: 60, metadataInterval: 600, readyMaxAge: 0, cycleDeadline: 0, ...schedule },
    legacyMetrics: false,
    requestStats: () => ({ ...stats }),
    logger: logger as Logger,
    self,
    sections: {
      publishFamilies: (name: string) => {
        published.push({ name, at: Date.now() - T0 });
        return Promise.resolve();
      },
    },
  });
  return {
    scheduler,
    metadata,
    self,
    published,
    logs: () => logRecords(lines()),
    metric: async (name: string, labels: Record<string, string> = {}) =>
      (await self.registry.getSingleMetric(name)?.get())?.values.find((v) =>
        Object.entries(labels).every(([k, x]) => v.labels[k] === x),
      )?.value,
  };
}
