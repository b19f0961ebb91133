/**
 * The ground truth: what a correct exporter publishes for the simulated data at a given instant. Computed
 * straight from the dataset, never through the HTTP layer, so it can check the client end to end.
 */
import type { Dataset } from './dataset.js';
import { CATEGORIES, OUTCOMES, REASONS } from './dataset.js';
import { DAY, HOUR } from './durations.js';
import { isListed, listedEnvironments, monitorIsMuted } from './monitors.js';
import type {
  EventsTruth,
  GroundTruth,
  IssueWindowTruth,
  MonitorTruth,
  OpenIssueTruth,
  OutcomeTruth,
  RateLimitTruth,
} from './types.js';

const NO_ENVIRONMENT = 'None';

function issueWindows(data: Dataset, now: number): IssueWindowTruth[] {
  const out: IssueWindowTruth[] = [];
  for (const project of data.projects) {
    const envs = project.visibleEnvironments.length > 0 ? project.visibleEnvironments : [NO_ENVIRONMENT];
    const rows = new Map<string, IssueWindowTruth>(
      envs.map((env) => [env, { project: project.slug, environment: env, h1: 0, h24: 0, d14: 0 }]),
    );
    for (const issue of data.issuesByProject.get(project) ?? []) {
      if (issue.status !== 'unresolved') continue;
      const age = now - issue.firstSeenMs;
      if (age > 14 * DAY) continue;
      for (const e of issue.envs) {
        const row = rows.get(e.env ?? NO_ENVIRONMENT);
        if (!row) continue;
        row.d14 += e.count;
        if (age <= DAY) row.h24 += e.count;
        if (age <= HOUR) row.h1 += e.count;
      }
    }
    out.push(...rows.values());
  }
  return out;
}

function openIssues(data: Dataset, now: number): OpenIssueTruth[] {
  const out: OpenIssueTruth[] = [];
  for (const issue of data.issues) {
    if (issue.status !== 'unresolved' || now - issue.firstSeenMs > HOUR) continue;
    for (const e of issue.envs) {
      out.push({
        issueId: issue.id,
        project: issue.project.slug,
        environment: e.env ?? NO_ENVIRONMENT,
        count: e.count,
        logger: issue.logger,
        level: issue.level,
        status: issue.status,
        platform: issue.platform,
        release: e.release,
        isUnhandled: issue.isUnhandled,
        firstSeen: issue.firstSeen,
        lastSeen: issue.lastSeen,
      });
    }
  }
  return out;
}

/** What stats_v2 calls a stored category: `default` and `security` count as `error` (CategoryDimension). */
export function reportedCategory(stored: string): string {
  return stored === 'default' || stored === 'security' ? 'error' : stored;
}

/** What stats_v2 calls a stored reason: `smart_rate_limit` is `spike_protection` (ReasonDimension). */
export function reportedReason(stored: string): string {
  return stored === 'smart_rate_limit' ? 'spike_protection' : stored;
}

/** The first millisecond of the UTC calendar month of `now`. */
export function monthStartUtc(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Quantity per project, reported category, outcome and reported reason this UTC month, up to `now`. */
function monthOutcomes(data: Dataset, now: number): OutcomeTruth[] {
  const monthStart = monthStartUtc(now);
  const rows = new Map<string, OutcomeTruth>();
  const t = data.outcomes;
  for (let i = 0; i < t.time.length; i++) {
    const time = t.time[i] ?? 0;
    if (time < monthStart || time > now) continue;
    const project = data.projects[t.project[i] ?? 0]?.slug ?? '';
    const category = reportedCategory(CATEGORIES[t.category[i] ?? 0] ?? '');
    const outcome = OUTCOMES[t.outcome[i] ?? 0] ?? '';
    const reason = reportedReason(REASONS[t.reason[i] ?? 0] ?? '');
    const key = `${project}\u0000${category}\u0000${outcome}\u0000${reason}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { project, category, outcome, reason, quantity: 0 }));
    row.quantity += t.quantity[i] ?? 0;
  }
  return [...rows.values()];
}

/**
 * sentry_events_total, the Python exporter's numbers: error events (error, default and security, as
 * stats_v2's `error` category counts them) with received = accepted + filtered + rate_limited.
 */
function monthEvents(data: Dataset, outcomes: readonly OutcomeTruth[]): EventsTruth[] {
  const rows = new Map(
    data.projects.map((p) => [p.slug, { project: p.slug, received: 0, rejected: 0, blacklisted: 0 }]),
  );
  for (const o of outcomes) {
    const row = rows.get(o.project);
    if (!row || o.category !== 'error') continue;
    if (o.outcome === 'accepted') row.received += o.quantity;
    else if (o.outcome === 'filtered') {
      row.received += o.quantity;
      row.blacklisted += o.quantity;
    } else if (o.outcome === 'rate_limited') {
      row.received += o.quantity;
      row.rejected += o.quantity;
    }
  }
  return [...rows.values()];
}

function rateLimits(data: Dataset): RateLimitTruth[] {
  return data.projects.map((project) => {
    const key = (data.keysByProject.get(project) ?? []).find((k) => k.isActive);
    const limit = key?.rateLimit;
    const eps = limit && limit.window > 0 ? Math.round((limit.count / limit.window) * 1e6) / 1e6 : 0;
    return { project: project.slug, eventsPerSecond: eps };
  });
}

/**
 * Every environment of every listed monitor: a disabled monitor's environments are `disabled` (Sentry stops
 * checking them; disabling changes only the monitor), a monitor without environments is one `None` row with
 * status `active`; muted when the monitor (its serialized `isMuted`) or the environment is.
 */
function monitors(data: Dataset): MonitorTruth[] {
  const out: MonitorTruth[] = [];
  const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);
  for (const m of data.monitors) {
    if (!isListed(m)) continue;
    const monitorMuted = monitorIsMuted(m, data.monitorRelease);
    const disabled = m.status === 'disabled';
    const envs = listedEnvironments(m);
    if (envs.length === 0) {
      out.push({
        project: m.project.slug,
        monitor: m.slug,
        environment: NO_ENVIRONMENT,
        status: disabled ? 'disabled' : 'active',
        muted: monitorMuted,
        lastCheckIn: null,
        nextCheckInLatest: null,
      });
    }
    for (const e of envs) {
      out.push({
        project: m.project.slug,
        monitor: m.slug,
        environment: e.name,
        status: disabled ? 'disabled' : e.status,
        muted: monitorMuted || e.isMuted,
        lastCheckIn: seconds(e.lastCheckInMs),
        nextCheckInLatest: seconds(e.nextCheckInLatestMs),
      });
    }
  }
  return out;
}

export function computeTruth(data: Dataset, now: number): GroundTruth {
  const outcomes = monthOutcomes(data, now);
  return {
    issueWindows: issueWindows(data, now),
    openIssues: openIssues(data, now),
    events: monthEvents(data, outcomes),
    outcomes,
    rateLimits: rateLimits(data),
    monitors: monitors(data),
  };
}
