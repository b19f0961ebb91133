import type { GroundTruth } from '../../sim/index.js';
import { parseExposition } from './exporter.js';

/**
 * Units of Sentry's quantities, written out here rather than taken from the exporter: relay's
 * CategoryUnit::from_category (relay-base-schema/src/data_category.rs). Bytes stay bytes; milliseconds are
 * published as seconds.
 */
const BYTE_CATEGORIES = new Set(['attachment', 'log_byte']);
const MILLISECOND_CATEGORIES = new Set(['profile_duration', 'profile_duration_ui']);
const OUTCOME_FAMILIES = new Set([
  'sentry_outcomes_total',
  'sentry_outcome_bytes_total',
  'sentry_outcome_seconds_total',
]);

/** The family and value a correct exporter publishes for a quantity of a category, as Sentry stores it. */
export function outcomeSample(category: string, quantity: number): { family: string; value: number } {
  if (BYTE_CATEGORIES.has(category)) return { family: 'sentry_outcome_bytes_total', value: quantity };
  if (MILLISECOND_CATEGORIES.has(category))
    return { family: 'sentry_outcome_seconds_total', value: quantity / 1000 };
  return { family: 'sentry_outcomes_total', value: quantity };
}

/**
 * The members of the sentry_monitor_status state set: the statuses Sentry's monitor list shows (current
 * releases: active, disabled, ok, error; older ones also missed_checkin and timeout).
 */
export const MONITOR_STATUS_SET = ['active', 'disabled', 'ok', 'error', 'missed_checkin', 'timeout'];

/** The Sentry families of an exposition, keyed so they can be compared with the ground truth. */
export function exportedNumbers(text: string): {
  buckets: Map<string, number>;
  open: Map<string, number>;
  events: Map<string, number>;
  /** `family project/category/outcome/reason` -> value. */
  outcomes: Map<string, number>;
  rateLimits: Map<string, number>;
  /** `<family>/<project>/<monitor>/<environment>[/<status>]` of the four sentry_monitor_* families. */
  monitors: Map<string, number>;
} {
  const buckets = new Map<string, number>();
  const open = new Map<string, number>();
  const events = new Map<string, number>();
  const outcomes = new Map<string, number>();
  const rateLimits = new Map<string, number>();
  const monitors = new Map<string, number>();
  for (const r of parseExposition(text)) {
    const l = r.labels;
    if (OUTCOME_FAMILIES.has(r.name))
      outcomes.set(`${r.name} ${l.project_slug}/${l.category}/${l.outcome}/${l.reason}`, r.value);
    if (r.name === 'sentry_issues_bucket') buckets.set(`${l.project_slug}/${l.environment}/${l.le}`, r.value);
    if (r.name === 'sentry_open_issue_events') open.set(`${l.issue_id}/${l.environment}`, r.value);
    if (r.name === 'sentry_events_total') events.set(`${l.project_slug}/${l.stat}`, r.value);
    if (r.name === 'sentry_rate_limit_events_sec') rateLimits.set(l.project_slug ?? '', r.value);
    if (r.name.startsWith('sentry_monitor_')) {
      const key = `${r.name}/${l.project_slug}/${l.monitor}/${l.environment}`;
      monitors.set(l.status === undefined ? key : `${key}/${l.status}`, r.value);
    }
  }
  return { buckets, open, events, outcomes, rateLimits, monitors };
}

/** The same keys, from the simulator's ground truth (restricted to `projects` when given). */
export function expectedNumbers(
  truth: GroundTruth,
  projects?: readonly string[],
): ReturnType<typeof exportedNumbers> {
  const keep = (p: string) => projects === undefined || projects.includes(p);
  const buckets = new Map<string, number>();
  for (const w of truth.issueWindows.filter((w) => keep(w.project))) {
    buckets.set(`${w.project}/${w.environment}/1h`, w.h1);
    buckets.set(`${w.project}/${w.environment}/24h`, w.h24);
    buckets.set(`${w.project}/${w.environment}/+Inf`, w.d14);
  }
  const open = new Map(
    truth.openIssues.filter((i) => keep(i.project)).map((i) => [`${i.issueId}/${i.environment}`, i.count]),
  );
  const events = new Map<string, number>();
  for (const e of truth.events.filter((e) => keep(e.project))) {
    events.set(`${e.project}/received`, e.received);
    events.set(`${e.project}/rejected`, e.rejected);
    events.set(`${e.project}/blacklisted`, e.blacklisted);
  }
  const outcomes = new Map<string, number>();
  for (const o of truth.outcomes.filter((o) => keep(o.project))) {
    const { family, value } = outcomeSample(o.category, o.quantity);
    outcomes.set(`${family} ${o.project}/${o.category}/${o.outcome}/${o.reason}`, value);
  }
  const rateLimits = new Map(
    truth.rateLimits.filter((r) => keep(r.project)).map((r) => [r.project, r.eventsPerSecond]),
  );
  const monitors = new Map<string, number>();
  for (const m of truth.monitors.filter((m) => keep(m.project))) {
    const id = `${m.project}/${m.monitor}/${m.environment}`;
    for (const status of new Set([...MONITOR_STATUS_SET, m.status])) {
      monitors.set(`sentry_monitor_status/${id}/${status}`, status === m.status ? 1 : 0);
    }
    monitors.set(`sentry_monitor_muted/${id}`, m.muted ? 1 : 0);
    if (m.lastCheckIn !== null)
      monitors.set(`sentry_monitor_last_checkin_timestamp_seconds/${id}`, m.lastCheckIn);
    if (m.nextCheckInLatest !== null) {
      monitors.set(`sentry_monitor_next_checkin_latest_timestamp_seconds/${id}`, m.nextCheckInLatest);
    }
  }
  return { buckets, open, events, outcomes, rateLimits, monitors };
}
