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

/** Ratios are compared to 6 decimals. */
function ratio(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

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
  sessions: Map<string, number>;
  crashFreeSessions: Map<string, number>;
  crashFreeUsers: Map<string, number>;
  releaseCrashFreeSessions: Map<string, number>;
  releaseCrashFreeUsers: Map<string, number>;
  /** `<family>/<project>/<monitor>/<environment>[/<status>]` of the four sentry_monitor_* families. */
  monitors: Map<string, number>;
  /** sentry_quota_usage_total: category -> items, bytes or seconds. */
  quota: Map<string, number>;
  /** sentry_billing_cycle_{start,end}_timestamp_seconds: `start`/`end` -> Unix seconds. */
  billingCycle: Map<string, number>;
  /** sentry_project_info: `project/id/platform/teams` -> 1. */
  projects: Map<string, number>;
} {
  const buckets = new Map<string, number>();
  const open = new Map<string, number>();
  const events = new Map<string, number>();
  const outcomes = new Map<string, number>();
  const rateLimits = new Map<string, number>();
  const sessions = new Map<string, number>();
  const crashFreeSessions = new Map<string, number>();
  const crashFreeUsers = new Map<string, number>();
  const releaseCrashFreeSessions = new Map<string, number>();
  const releaseCrashFreeUsers = new Map<string, number>();
  const monitors = new Map<string, number>();
  const quota = new Map<string, number>();
  const billingCycle = new Map<string, number>();
  const projects = new Map<string, number>();
  for (const r of parseExposition(text)) {
    const l = r.labels;
    if (OUTCOME_FAMILIES.has(r.name))
      outcomes.set(`${r.name} ${l.project_slug}/${l.category}/${l.outcome}/${l.reason}`, r.value);
    if (r.name === 'sentry_issues_bucket') buckets.set(`${l.project_slug}/${l.environment}/${l.le}`, r.value);
    if (r.name === 'sentry_open_issue_events') open.set(`${l.issue_id}/${l.environment}`, r.value);
    if (r.name === 'sentry_events_total') events.set(`${l.project_slug}/${l.stat}`, r.value);
    if (r.name === 'sentry_rate_limit_events_sec') rateLimits.set(l.project_slug ?? '', r.value);
    if (r.name === 'sentry_sessions_total')
      sessions.set(`${l.project_slug}/${l.environment}/${l.status}`, r.value);
    if (r.name === 'sentry_crash_free_sessions_ratio')
      crashFreeSessions.set(`${l.project_slug}/${l.environment}`, ratio(r.value));
    if (r.name === 'sentry_crash_free_users_ratio')
      crashFreeUsers.set(`${l.project_slug}/${l.environment}`, ratio(r.value));
    if (r.name === 'sentry_release_crash_free_sessions_ratio')
      releaseCrashFreeSessions.set(`${l.project_slug}/${l.environment}/${l.release}`, ratio(r.value));
    if (r.name === 'sentry_release_crash_free_users_ratio')
      releaseCrashFreeUsers.set(`${l.project_slug}/${l.environment}/${l.release}`, ratio(r.value));
    if (r.name === 'sentry_quota_usage_total') quota.set(l.category ?? '', r.value);
    if (r.name === 'sentry_billing_cycle_start_timestamp_seconds') billingCycle.set('start', r.value);
    if (r.name === 'sentry_billing_cycle_end_timestamp_seconds') billingCycle.set('end', r.value);
    if (r.name === 'sentry_project_info')
      projects.set(`${l.project_slug}/${l.project_id}/${l.platform}/${l.teams}`, r.value);
    if (r.name.startsWith('sentry_monitor_')) {
      const key = `${r.name}/${l.project_slug}/${l.monitor}/${l.environment}`;
      monitors.set(l.status === undefined ? key : `${key}/${l.status}`, r.value);
    }
  }
  return {
    buckets,
    open,
    events,
    outcomes,
    rateLimits,
    sessions,
    crashFreeSessions,
    crashFreeUsers,
    releaseCrashFreeSessions,
    releaseCrashFreeUsers,
    monitors,
    quota,
    billingCycle,
    projects,
  };
}

/**
 * The same keys, from the simulator's ground truth (restricted to `projects` when given; per-release
 * ratios for the `releasesPerProject` releases of each project with the most sessions, as
 * SENTRY_RELEASE_HEALTH_RELEASES does, none by default).
 */
export function expectedNumbers(
  truth: GroundTruth,
  projects?: readonly string[],
  opts: { releasesPerProject?: number } = {},
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
  const rh = truth.releaseHealth;
  const sessions = new Map(
    rh.sessions
      .filter((s) => keep(s.project))
      .map((s) => [`${s.project}/${s.environment}/${s.status}`, s.sessions]),
  );
  const crashFreeSessions = new Map<string, number>();
  const crashFreeUsers = new Map<string, number>();
  for (const c of rh.crashFree.filter((c) => keep(c.project))) {
    crashFreeSessions.set(`${c.project}/${c.environment}`, ratio(c.sessions));
    if (c.users !== null) crashFreeUsers.set(`${c.project}/${c.environment}`, ratio(c.users));
  }
  const releaseCrashFreeSessions = new Map<string, number>();
  const releaseCrashFreeUsers = new Map<string, number>();
  const n = opts.releasesPerProject ?? 0;
  for (const r of rh.releases.filter((r) => keep(r.project) && r.rank < n)) {
    releaseCrashFreeSessions.set(`${r.project}/${r.environment}/${r.release}`, ratio(r.sessions));
    if (r.users !== null)
      releaseCrashFreeUsers.set(`${r.project}/${r.environment}/${r.release}`, ratio(r.users));
  }
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
  return {
    buckets,
    open,
    events,
    outcomes,
    rateLimits,
    sessions,
    crashFreeSessions,
    crashFreeUsers,
    releaseCrashFreeSessions,
    releaseCrashFreeUsers,
    monitors,
    // The organization's: not restricted to `projects`.
    quota: new Map(truth.quota.map((q) => [q.category, outcomeSample(q.category, q.quantity).value])),
    billingCycle: new Map([
      ['start', truth.billingCycle.start],
      ['end', truth.billingCycle.end],
    ]),
    projects: new Map(
      truth.projects
        .filter((p) => keep(p.project))
        .map((p) => [`${p.project}/${p.id}/${p.platform}/${p.teams}`, 1]),
    ),
  };
}

/** Releases of the last 24 hours that SENTRY_RELEASE_HEALTH_RELEASES=n leaves out, over every project. */
export function expectedReleasesDropped(truth: GroundTruth, n: number, projects?: readonly string[]): number {
  const keep = (p: string) => projects === undefined || projects.includes(p);
  const perProject = new Map<string, Set<string>>();
  for (const r of truth.releaseHealth.releases.filter((r) => keep(r.project))) {
    const set = perProject.get(r.project) ?? new Set<string>();
    set.add(r.release);
    perProject.set(r.project, set);
  }
  let dropped = 0;
  for (const set of perProject.values()) dropped += Math.max(0, set.size - n);
  return dropped;
}
