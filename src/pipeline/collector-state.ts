/** What the scheduler keeps of each collector between and during its runs. */
import type { Collector } from '../collectors/collector.js';
import type { ScheduleConfig } from '../config/schema.js';
import type { Caller } from '../sentry/caller.js';
import type { ErrorReport } from './readiness.js';

export interface CollectorState<Rows> {
  collector: Collector<Rows>;
  running: Promise<Rows | undefined> | undefined;
  abort: AbortController | undefined;
  lastStart: number | undefined;
  lastEnd: number | undefined;
  /** When its last run succeeded (its final values published). */
  lastSuccess: number | undefined;
  /** When values of it were last published: at the end of a run or as a run's progress. */
  lastPublished: number | undefined;
  lastRunOk: boolean | undefined;
  lastDurationMs: number | undefined;
  /** Sentry requests its last run made (each attempt and page). */
  lastRequests: number | undefined;
  /** The run under way: its requests so far, and what it said of its progress. */
  current: { caller: Caller; progress: Map<string, { done: number; total?: number }> } | undefined;
  /** Failures since the last success. */
  failures: number;
  lastError: ErrorReport | undefined;
  /** When it is due again after a success (start-aligned: start + k × interval). */
  nextDue: number;
  /** The families of its section as last published. */
  families: Set<string>;
}

export function initialState<Rows>(collector: Collector<Rows>): CollectorState<Rows> {
  return {
    collector,
    running: undefined,
    abort: undefined,
    lastStart: undefined,
    lastEnd: undefined,
    lastSuccess: undefined,
    lastPublished: undefined,
    lastRunOk: undefined,
    lastDurationMs: undefined,
    lastRequests: undefined,
    current: undefined,
    failures: 0,
    lastError: undefined,
    nextDue: 0,
    families: new Set(),
  };
}

/** SENTRY_READY_MAX_AGE, with 0 meaning 3 × SENTRY_POLL_INTERVAL. */
export function readyMaxAgeOf(s: ScheduleConfig): number {
  return s.readyMaxAge > 0 ? s.readyMaxAge : 3 * s.pollInterval;
}

/** SENTRY_CYCLE_DEADLINE, with 0 meaning max(10 × SENTRY_POLL_INTERVAL, 300). */
export function cycleDeadlineOf(s: ScheduleConfig): number {
  return s.cycleDeadline > 0 ? s.cycleDeadline : Math.max(10 * s.pollInterval, 300);
}
