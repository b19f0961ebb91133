/**
 * The ground truth: what a correct exporter publishes for the simulated data at a given instant. Computed
 * straight from the dataset, never through the HTTP layer, so it can check the client end to end.
 */
import { CATEGORIES, OUTCOMES, REASONS } from './dataset.js';
import { eventsWindow, lowerBound as firstSpanAt } from './events.js';
import type { EventsRelease } from './events.js';
import { DAY, HOUR } from './durations.js';
import type { Dataset } from './entities.js';
import { isListed, listedEnvironments, monitorIsMuted } from './monitors.js';
import { OLDER_SESSION_STATUSES, SESSION_STATUSES, Tally, complement, lowerBound } from './sessions.js';
import { FIRST_FAILURE_STATUS, quantile, round9 } from './spans.js';
import type {
  EventsTruth,
  GroundTruth,
  IssueWindowTruth,
  MonitorTruth,
  OpenIssueTruth,
  OrganizationOutcomeTruth,
  OutcomeTruth,
  PerformanceTruthQuery,
  ProjectInfoTruth,
  QuotaTruth,
  RateLimitTruth,
  ReleaseHealthTruth,
  TransactionTruth,
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

/**
 * The billing cycle `now` is in: from day `day` (1 to 28) of this month at 00:00 UTC, or of the month before
 * when that day has not come yet, to the same day of the next month.
 */
function billingCycle(now: number, day: number): { start: number; end: number } {
  const d = new Date(now);
  let year = d.getUTCFullYear();
  let month = d.getUTCMonth();
  if (d.getUTCDate() < day) {
    month -= 1;
    if (month < 0) {
      month = 11;
      year -= 1;
    }
  }
  const next = month === 11 ? Date.UTC(year + 1, 0, day) : Date.UTC(year, month + 1, day);
  return { start: Date.UTC(year, month, day), end: next };
}

/**
 * Quantity per project, reported category, outcome and reported reason from `from` up to `now`, for the
 * listed projects (deleted projects' rows left out).
 */
function cycleOutcomes(data: Dataset, from: number, now: number): OutcomeTruth[] {
  const rows = new Map<string, OutcomeTruth>();
  const t = data.outcomes;
  for (let i = 0; i < t.time.length; i++) {
    const time = t.time[i] ?? 0;
    if (time < from || time > now) continue;
    const project = data.projects[t.project[i] ?? 0]?.slug;
    if (project === undefined) continue; // a deleted project
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
function cycleEvents(data: Dataset, outcomes: readonly OutcomeTruth[]): EventsTruth[] {
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

/** The whole organization's outcomes from `from` up to `now`: every row, deleted projects' too. */
function organizationOutcomes(data: Dataset, from: number, now: number): OrganizationOutcomeTruth[] {
  const rows = new Map<string, OrganizationOutcomeTruth>();
  const t = data.outcomes;
  for (let i = 0; i < t.time.length; i++) {
    const time = t.time[i] ?? 0;
    if (time < from || time > now) continue;
    const category = reportedCategory(CATEGORIES[t.category[i] ?? 0] ?? '');
    const outcome = OUTCOMES[t.outcome[i] ?? 0] ?? '';
    const reason = reportedReason(REASONS[t.reason[i] ?? 0] ?? '');
    const key = `${category}\u0000${outcome}\u0000${reason}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { category, outcome, reason, quantity: 0 }));
    row.quantity += t.quantity[i] ?? 0;
  }
  return [...rows.values()];
}

/** What counts against the quota: what Sentry accepted, per category, over the whole organization. */
function quota(organization: readonly OrganizationOutcomeTruth[]): QuotaTruth[] {
  const usage = new Map<string, number>();
  for (const o of organization) {
    if (o.outcome === 'accepted') usage.set(o.category, (usage.get(o.category) ?? 0) + o.quantity);
  }
  return [...usage].map(([category, quantity]) => ({ category, quantity }));
}

/** The project list's platform and teams (sorted slugs). */
function projectInfo(data: Dataset): ProjectInfoTruth[] {
  return data.projects.map((p) => ({
    project: p.slug,
    id: p.id,
    platform: p.platform ?? 'None',
    teams: p.teams
      .map((t) => t.slug)
      .sort()
      .join(','),
  }));
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

/** Tallies of the session buckets in [from, to], keyed by project, environment (and release). */
function sessionTallies(
  data: Dataset,
  from: number,
  to: number,
  byRelease: boolean,
): Map<string, { project: number; environment: string; release: string; tally: Tally }> {
  const t = data.sessions;
  const out = new Map<string, { project: number; environment: string; release: string; tally: Tally }>();
  for (let row = lowerBound(t.time, from); row < t.length && (t.time[row] ?? 0) <= to; row++) {
    const project = t.project[row] ?? 0;
    const environment = t.envNames[t.env[row] ?? 0] ?? '';
    const release = byRelease ? (data.projects[project]?.releases[t.release[row] ?? 0]?.version ?? '') : '';
    const key = `${project}\u0000${environment}\u0000${release}`;
    let entry = out.get(key);
    if (!entry) out.set(key, (entry = { project, environment, release, tally: new Tally() }));
    entry.tally.add(t, row, true);
  }
  return out;
}

/**
 * Release health: sessions by status from `from` (the billing cycle's start), and crash-free rates over the
 * last 24 hours, measured from the start of the hour 24 hours ago (what a query with interval=1h covers), per
 * project and environment and per release. Sessions without an environment are `environment="None"`.
 */
function releaseHealth(data: Dataset, from: number, now: number, withUnhandled: boolean): ReleaseHealthTruth {
  const windowStart = Math.floor(now / HOUR) * HOUR - 24 * HOUR;
  const statuses = withUnhandled ? SESSION_STATUSES : OLDER_SESSION_STATUSES;
  const label = (env: string): string => (env === '' ? NO_ENVIRONMENT : env);
  const slug = (project: number): string => data.projects[project]?.slug ?? '';

  const sessions: ReleaseHealthTruth['sessions'] = [];
  for (const { project, environment, tally } of sessionTallies(data, from, now, false).values()) {
    for (const status of statuses) {
      sessions.push({
        project: slug(project),
        environment: label(environment),
        status,
        sessions: tally.sessions(status, withUnhandled),
      });
    }
  }
  const crashFree: ReleaseHealthTruth['crashFree'] = [];
  for (const { project, environment, tally } of sessionTallies(data, windowStart, now, false).values()) {
    crashFree.push({
      project: slug(project),
      environment: label(environment),
      sessions: complement(tally.crashRate()) ?? Number.NaN,
      users: complement(tally.crashUserRate()),
    });
  }
  const perRelease = [...sessionTallies(data, windowStart, now, true).values()];
  // Each project's releases ranked by sessions over all environments; ties by version.
  const totals = new Map<string, number>();
  for (const e of perRelease) {
    const key = `${e.project}\u0000${e.release}`;
    totals.set(key, (totals.get(key) ?? 0) + e.tally.total);
  }
  const ranks = new Map<string, number>();
  const byProject = new Map<number, Array<{ release: string; sessions: number }>>();
  for (const [key, total] of totals) {
    const [project, release] = key.split('\u0000') as [string, string];
    const list = byProject.get(Number(project)) ?? [];
    list.push({ release, sessions: total });
    byProject.set(Number(project), list);
  }
  for (const [project, list] of byProject) {
    list.sort(
      (a, b) => b.sessions - a.sessions || (a.release < b.release ? -1 : a.release > b.release ? 1 : 0),
    );
    list.forEach((r, i) => ranks.set(`${project}\u0000${r.release}`, i));
  }
  const releases: ReleaseHealthTruth['releases'] = perRelease.map((e) => ({
    project: slug(e.project),
    environment: label(e.environment),
    release: e.release,
    rank: ranks.get(`${e.project}\u0000${e.release}`) ?? 0,
    sessions: complement(e.tally.crashRate()) ?? Number.NaN,
    users: complement(e.tally.crashUserRate()),
  }));
  return { sessions, crashFree, releases };
}

export function computeTruth(
  data: Dataset,
  now: number,
  opts: { sessionUnhandledStatus?: boolean; billingCycleDay?: number } = {},
): GroundTruth {
  const day = opts.billingCycleDay ?? 1;
  if (!Number.isInteger(day) || day < 1 || day > 28)
    throw new RangeError(`billingCycleDay must be 1 to 28, got ${day}`);
  const cycle = billingCycle(now, day);
  const outcomes = cycleOutcomes(data, cycle.start, now);
  const organization = organizationOutcomes(data, cycle.start, now);
  return {
    issueWindows: issueWindows(data, now),
    openIssues: openIssues(data, now),
    events: cycleEvents(data, outcomes),
    outcomes,
    organizationOutcomes: organization,
    quota: quota(organization),
    billingCycle: { start: cycle.start / 1000, end: cycle.end / 1000 },
    projects: projectInfo(data),
    rateLimits: rateLimits(data),
    monitors: monitors(data),
    releaseHealth: releaseHealth(data, cycle.start, now, opts.sessionUnhandledStatus ?? true),
  };
}

/**
 * The busiest transactions over the window that a query with `statsPeriod` of `windowSeconds` covers at
 * `now`, from the dataset a correct exporter reads in this release: the spans of the EAP store (their own
 * durations, percentiles rounded to 9 decimals like snuba's) on current Sentry, the transactions table
 * (whole milliseconds) otherwise. Counted are stored transactions, never extrapolated.
 */
export function performanceTruth(
  data: Dataset,
  now: number,
  release: EventsRelease,
  q: PerformanceTruthQuery,
): TransactionTruth[] {
  const spans = release === 'current';
  const { start, end } = eventsWindow(
    new URLSearchParams({ statsPeriod: `${q.windowSeconds}s` }),
    now,
    Number(data.org.id),
  );
  const seconds = (end - start) / 1000;
  const t = data.spans();
  const envs = q.environments !== undefined && q.environments.length > 0 ? new Set(q.environments) : null;
  const projects = q.projects === undefined ? null : new Set(q.projects);
  const groups = new Map<
    string,
    { project: string; name: string; env: string | null; durations: number[]; failures: number }
  >();
  for (let i = firstSpanAt(t.time, start); i < t.length && (t.time[i] ?? 0) < end; i++) {
    if (t.segment[i] !== 1) continue;
    const project = data.projects[t.project[i] ?? 0]?.slug ?? '';
    if (projects && !projects.has(project)) continue;
    const envIndex = t.env[i] ?? -1;
    const env = envIndex >= 0 ? (t.envNames[envIndex] ?? null) : null;
    if (envs && (env === null || !envs.has(env))) continue;
    const name = t.names[t.name[i] ?? 0] ?? '';
    if (q.op !== undefined && t.ops[t.name[i] ?? 0] !== q.op) continue;
    const key = `${project}\u0000${name}\u0000${envs ? (env ?? '\u0001') : ''}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { project, name, env: envs ? env : null, durations: [], failures: 0 }));
    const ms = t.durationMs[i] ?? 0;
    g.durations.push(spans ? ms : Math.floor(ms));
    if ((t.status[i] ?? 0) >= FIRST_FAILURE_STATUS) g.failures++;
  }
  const byCode = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const rows = [...groups.values()].map((g): TransactionTruth => {
    g.durations.sort((a, b) => a - b);
    const at = (level: number): number => {
      const v = quantile(g.durations, level) ?? Number.NaN;
      return (spans ? round9(v) : v) / 1000;
    };
    const row: TransactionTruth = {
      project: g.project,
      transaction: g.name,
      count: g.durations.length,
      perSecond: g.durations.length / seconds,
      failureRatio: g.failures / g.durations.length,
      seconds: [at(0.5), at(0.75), at(0.95), at(0.99)],
    };
    if (envs) row.environment = g.env;
    return row;
  });
  rows.sort(
    (a, b) =>
      b.count - a.count ||
      byCode(a.project, b.project) ||
      byCode(a.transaction, b.transaction) ||
      // events without an environment sort last, as SQL NULLs do
      (a.environment === b.environment
        ? 0
        : a.environment === null || a.environment === undefined
          ? 1
          : b.environment === null || b.environment === undefined
            ? -1
            : byCode(a.environment, b.environment)),
  );
  return rows.slice(0, q.top);
}
