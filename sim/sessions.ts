/**
 * Release health: the sessions of every project, environment and release over time, and
 * `GET /organizations/{org}/sessions/` answering like Sentry's metrics backend
 * (src/sentry/api/endpoints/organization_sessions.py, src/sentry/release_health/metrics_sessions_v2.py,
 * src/sentry/snuba/sessions_v2.py, src/sentry/snuba/metrics/query.py; docs/sentry-api.md Part 3 §1):
 *
 * - fields sum(session), count_unique(user), crash_rate(...) and crash_free_rate(...) computed from the data;
 *   the other fields Sentry knows (durations, ANR and other rates) are accepted and answered null: the
 *   simulated sessions carry no durations or ANR mechanisms.
 * - groupBy project (an integer id), environment, release, session.status; every status of a group is
 *   present, zero-filled (Field.ensure_status_groups); a rate field grouped or filtered by session.status is
 *   a 400 (SimpleForwardingField).
 * - start floored and end ceiled to the interval, counted from the epoch; the interval a multiple of ten
 *   seconds that divides a day.
 * - the silent cut: the metrics query returns at most ⌊10,000 ÷ len(intervals)⌋ metric groups, or
 *   per_page + 1 when per_page is given ((per_page + 1) × len(intervals) > 10,000 is a 400); grouped by
 *   session.status each metric group becomes one output group per status, while the paginator announces a
 *   next page only when it receives exactly per_page + 1 output groups (SessionsDataSeriesPaginator).
 *
 * Sessions are stored as buckets: one per hour for the last 47 hours (no bucket between 22 and 26 hours
 * ago at generation, so the last-24-hours window holds the same buckets for two hours whatever the clock
 * does), one per day (at 00:00 UTC) before that, 35 days back. User ids are bits of a 32-user pool per
 * project, so distinct users over any window are the popcount of the OR of the buckets' masks.
 */
import { DAY, HOUR, isoSeconds } from './durations.js';
import type { Dataset, SessionTable, SimProject } from './entities.js';
import { HttpError, NOT_FOUND, PERMISSION_DENIED } from './http-error.js';
import { linkEntry } from './pagination.js';
import { Prng } from './prng.js';

/** Session statuses in Sentry's enum order (metrics_sessions_v2.py SessionStatus). */
export const SESSION_STATUSES = ['abnormal', 'crashed', 'errored', 'healthy', 'unhandled'] as const;
/** Before `unhandled` existed (older metrics_sessions_v2.py): its sessions counted as errored. */
export const OLDER_SESSION_STATUSES = ['abnormal', 'crashed', 'errored', 'healthy'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** Status index in the per-bucket count columns. */
const ABNORMAL = 0;
const CRASHED = 1;
const ERRORED = 2;
const HEALTHY = 3;
const UNHANDLED = 4;

/** User masks per bucket: all users, and the users with a crashed, abnormal, unhandled, non-healthy session. */
const U_ALL = 0;
const U_CRASHED = 1;
const U_ABNORMAL = 2;
const U_UNHANDLED = 3;
const U_UNHEALTHY = 4;
const MASKS = 5;

const HOURLY_HOURS = 47;
/** Hours ago (at generation) with no bucket: the last-24-hours window is stable for two hours. */
const GAP_FROM = 22;
const GAP_TO = 26;
const DAYS_BACK = 35;

function popcount(x: number): number {
  let v = x >>> 0;
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** A random subset of `mask` with at most `n` members. */
function subset(rng: Prng, mask: number, n: number): number {
  let out = 0;
  let left = n;
  for (let bit = 0; bit < 32 && left > 0; bit++) {
    const b = (1 << bit) >>> 0;
    if ((mask & b) !== 0 && rng.chance(0.5)) {
      out = (out | b) >>> 0;
      left--;
    }
  }
  return out;
}

interface EnvPlan {
  env: number;
  scale: number;
  /** Sessions within the last 24 hours. */
  recent: boolean;
}

interface ProjectPlan {
  project: SimProject;
  tracksUsers: boolean;
  envs: EnvPlan[];
}

/** Bucket start times, ascending: days before the hourly region, then hours (minus the gap). */
function bucketTimes(now: number): Array<{ time: number; hourly: boolean; hoursAgo: number }> {
  const hour = Math.floor(now / HOUR) * HOUR;
  const firstHourly = hour - (HOURLY_HOURS - 1) * HOUR;
  const out: Array<{ time: number; hourly: boolean; hoursAgo: number }> = [];
  const firstDay = Math.floor(now / DAY) * DAY - DAYS_BACK * DAY;
  for (let day = firstDay; day < firstHourly; day += DAY) {
    out.push({ time: day, hourly: false, hoursAgo: (hour - day) / HOUR });
  }
  for (let h = HOURLY_HOURS - 1; h >= 0; h--) {
    if (h >= GAP_FROM && h <= GAP_TO) continue;
    out.push({ time: hour - h * HOUR, hourly: true, hoursAgo: h });
  }
  return out;
}

export function generateSessions(projects: readonly SimProject[], now: number, seed: number): SessionTable {
  const rng = new Prng(seed);
  const envNames: string[] = [];
  const envIndex = (name: string): number => {
    let i = envNames.indexOf(name);
    if (i === -1) i = envNames.push(name) - 1;
    return i;
  };
  const plans: ProjectPlan[] = [];
  for (const project of projects) {
    // Release health needs an SDK that sends sessions: some projects have none at all.
    if (project.index !== 0 && rng.chance(0.15)) continue;
    const names = project.visibleEnvironments.length > 0 ? [...project.visibleEnvironments] : [''];
    // Sessions in a hidden environment: not in the project summary, still in release health.
    for (const e of project.environments) if (e.isHidden && rng.chance(0.5)) names.push(e.name);
    const envs: EnvPlan[] = [];
    for (const name of names) {
      if (project.index !== 0 && rng.chance(0.1)) continue;
      envs.push({ env: envIndex(name), scale: rng.range(0.3, 3), recent: !rng.chance(0.15) });
    }
    plans.push({ project, tracksUsers: project.index === 0 || !rng.chance(0.12), envs });
  }

  const time: number[] = [];
  const projectCol: number[] = [];
  const envCol: number[] = [];
  const releaseCol: number[] = [];
  const counts: number[] = [];
  const users: number[] = [];
  for (const bucket of bucketTimes(now)) {
    for (const plan of plans) {
      const releases = plan.project.releases;
      // The newest release created before the bucket, and sometimes the one before it as well.
      let newest = 0;
      for (let r = 0; r < releases.length; r++) {
        if (Date.parse(releases[r]?.dateCreated ?? '') <= bucket.time) newest = r;
      }
      for (const e of plan.envs) {
        if (bucket.hourly && bucket.hoursAgo < GAP_FROM && !e.recent) continue;
        if (!rng.chance(bucket.hourly ? 0.7 : 0.8)) continue;
        const active = newest > 0 && rng.chance(0.5) ? [newest, newest - 1] : [newest];
        for (const release of active) {
          const base = bucket.hourly ? rng.int(2, 60) : rng.int(60, 1500);
          const total = Math.max(1, Math.round(base * e.scale));
          const crashed = rng.chance(0.35) ? 0 : Math.floor(total * rng.range(0, 0.05));
          const abnormal = rng.chance(0.6) ? 0 : Math.floor(total * rng.range(0, 0.02));
          const unhandled = rng.chance(0.6) ? 0 : Math.floor(total * rng.range(0, 0.02));
          const errored = Math.floor(total * rng.range(0, 0.1));
          const healthy = Math.max(0, total - crashed - abnormal - unhandled - errored);
          time.push(bucket.time);
          projectCol.push(plan.project.index);
          envCol.push(e.env);
          releaseCol.push(release);
          counts.push(abnormal, crashed, errored, healthy, unhandled);
          let all = 0;
          if (plan.tracksUsers) {
            const k = Math.min(32, rng.int(1, Math.max(1, Math.min(32, total))));
            for (let n = 0; n < k; n++) all = (all | (1 << rng.int(0, 31))) >>> 0;
          }
          const crashedU = crashed > 0 ? subset(rng, all, Math.min(crashed, 3)) : 0;
          const abnormalU = abnormal > 0 ? subset(rng, all, Math.min(abnormal, 2)) : 0;
          const unhandledU = unhandled > 0 ? subset(rng, all, Math.min(unhandled, 2)) : 0;
          const erroredU = errored > 0 ? subset(rng, all, Math.min(errored, 4)) : 0;
          users.push(
            all,
            crashedU,
            abnormalU,
            unhandledU,
            (crashedU | abnormalU | unhandledU | erroredU) >>> 0,
          );
        }
      }
    }
  }
  return {
    time: Float64Array.from(time),
    project: Int32Array.from(projectCol),
    env: Int32Array.from(envCol),
    release: Int32Array.from(releaseCol),
    counts: Int32Array.from(counts),
    users: Uint32Array.from(users),
    length: time.length,
    envNames,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Aggregation shared by the endpoint and the ground truth.

/** Sessions and user masks summed over some buckets. */
export class Tally {
  readonly counts = new Float64Array(5);
  /** project index -> MASKS masks (user ids are per project). */
  readonly masks = new Map<number, Uint32Array>();

  add(table: SessionTable, row: number, withUsers: boolean): void {
    for (let s = 0; s < 5; s++) this.counts[s] = (this.counts[s] ?? 0) + (table.counts[row * 5 + s] ?? 0);
    if (!withUsers) return;
    const p = table.project[row] ?? 0;
    let m = this.masks.get(p);
    if (!m) this.masks.set(p, (m = new Uint32Array(MASKS)));
    for (let u = 0; u < MASKS; u++) m[u] = ((m[u] ?? 0) | (table.users[row * MASKS + u] ?? 0)) >>> 0;
  }

  get total(): number {
    let t = 0;
    for (let s = 0; s < 5; s++) t += this.counts[s] ?? 0;
    return t;
  }

  /** Distinct users in mask `u`, summed over projects. */
  users(u: number): number {
    let n = 0;
    for (const m of this.masks.values()) n += popcount(m[u] ?? 0);
    return n;
  }

  /** Sessions of one status; without `unhandled` (older releases) its sessions are errored. */
  sessions(status: SessionStatus, withUnhandled: boolean): number {
    const c = this.counts;
    switch (status) {
      case 'abnormal':
        return c[ABNORMAL] ?? 0;
      case 'crashed':
        return c[CRASHED] ?? 0;
      case 'errored':
        return (c[ERRORED] ?? 0) + (withUnhandled ? 0 : (c[UNHANDLED] ?? 0));
      case 'healthy':
        return c[HEALTHY] ?? 0;
      case 'unhandled':
        return c[UNHANDLED] ?? 0;
    }
  }

  /** Users of one status, as sessions_v2 defines them: healthy = all − unhealthy, errored = the rest. */
  usersOf(status: SessionStatus, withUnhandled: boolean): number {
    const crashed = this.users(U_CRASHED);
    const abnormal = this.users(U_ABNORMAL);
    const unhandled = withUnhandled ? this.users(U_UNHANDLED) : 0;
    const unhealthy = this.users(U_UNHEALTHY);
    switch (status) {
      case 'abnormal':
        return abnormal;
      case 'crashed':
        return crashed;
      case 'unhandled':
        return unhandled;
      case 'healthy':
        return this.users(U_ALL) - unhealthy;
      case 'errored':
        return Math.max(0, unhealthy - crashed - abnormal - unhandled);
    }
  }

  /** crashed ÷ all sessions; null without sessions (fields/base.py CRASH_RATE). */
  crashRate(): number | null {
    const t = this.total;
    return t === 0 ? null : (this.counts[CRASHED] ?? 0) / t;
  }

  /** crashed users ÷ all users; null without users (CRASH_USER_RATE). */
  crashUserRate(): number | null {
    const all = this.users(U_ALL);
    return all === 0 ? null : this.users(U_CRASHED) / all;
  }
}

/** 1 − rate, as Sentry's `complement` computes it; null stays null. */
export function complement(rate: number | null): number | null {
  return rate === null ? null : 1 - rate;
}

/** First row whose time is >= t. */
export function lowerBound(values: Float64Array, t: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] ?? 0) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------------------
// The endpoint.

const COUNT_FIELDS = ['sum(session)', 'count_unique(user)'] as const;
const DURATION_FIELDS = ['avg', 'p50', 'p75', 'p90', 'p95', 'p99', 'max'].map(
  (op) => `${op}(session.duration)`,
);
/** SimpleForwardingField in the older metrics_sessions_v2.py (4 statuses). */
const OLDER_RATE_FIELDS = [
  'crash_rate(session)',
  'crash_rate(user)',
  'crash_free_rate(session)',
  'crash_free_rate(user)',
  'anr_rate()',
  'foreground_anr_rate()',
];
/** The newest FIELD_MAP adds these, with the `unhandled` status. */
const NEWER_RATE_FIELDS = [
  ...OLDER_RATE_FIELDS,
  'unhandled_rate(session)',
  'unhandled_rate(user)',
  'errored_rate(session)',
  'errored_rate(user)',
  'abnormal_rate(session)',
  'abnormal_rate(user)',
  'unhealthy_rate(session)',
];
/** Rate fields Sentry cannot order by (composite derived metrics): no order is applied. */
const UNSORTED_FIELDS = new Set([
  'errored_rate(session)',
  'errored_rate(user)',
  'unhealthy_rate(session)',
  'unhandled_rate(session)',
  'unhandled_rate(user)',
]);
const GROUP_BYS = ['project', 'environment', 'release', 'session.status'] as const;

/** sessions_v2.py SNUBA_LIMIT: default and largest per_page. */
const SESSIONS_PER_PAGE = 5000;
/** snuba/metrics/utils.py MAX_POINTS: data points per answer. */
const SESSIONS_MAX_POINTS = 10_000;
/** sessions_v2.py MAX_POINTS: points in time. */
const MAX_TIME_POINTS = 1000;
const TEN_SECONDS = 10_000;

export interface SessionsContext {
  data: Dataset;
  query: URLSearchParams;
  /** Absolute URL of the endpoint, for the Link header. */
  base: string;
  now: number;
  /** Current releases: five statuses and the newer rate fields; older ones: four statuses. */
  unhandledStatus: boolean;
  /** Told when the answer leaves groups out without announcing a next page (for tests). */
  onCut?: () => void;
}

export interface SessionsResult {
  body: unknown;
  link: string;
}

/** Python's str(timedelta): `1:00:00`, `1 day, 0:00:00`, `2 days, 3:00:00`. */
function timedelta(ms: number): string {
  const total = Math.round(ms / 1000);
  const days = Math.floor(total / 86400);
  const rest = total % 86400;
  const hms = `${Math.floor(rest / 3600)}:${String(Math.floor((rest % 3600) / 60)).padStart(2, '0')}:${String(rest % 60).padStart(2, '0')}`;
  return days === 0 ? hms : `${days} day${days === 1 ? '' : 's'}, ${hms}`;
}

/** sentry.utils.dates.parse_stats_period: `<n>[smhdw]`, a bare number is seconds; otherwise undefined. */
function statsPeriodMs(text: string): number | undefined {
  const m = /^(\d+)([smhdw]?)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { '': 1000, s: 1000, m: 60_000, h: HOUR, d: DAY, w: 7 * DAY }[m[2] ?? ''] ?? 1000;
  return Number(m[1]) * unit;
}

interface Conditions {
  releases: { values: Set<string>; negated: boolean } | null;
  environments: { values: Set<string>; negated: boolean } | null;
  statuses: Set<SessionStatus> | null;
}

/** The part of Sentry's search syntax the simulator needs: `key:value`, `key:[a,"b c"]`, `!key:value`. */
function parseConditions(text: string, known: readonly SessionStatus[]): Conditions {
  const out: Conditions = { releases: null, environments: null, statuses: null };
  const re = /\s*(!?)([\w.]+):(\[(?:[^\]"]|"(?:[^"\\]|\\.)*")*\]|"(?:[^"\\]|\\.)*"|\S+)/y;
  let rest = text.trim();
  while (rest !== '') {
    re.lastIndex = 0;
    const m = re.exec(rest);
    if (!m) throw new HttpError(400, `Invalid query: ${rest}`);
    rest = rest.slice(m[0].length).trim();
    const negated = m[1] === '!';
    const key = m[2] ?? '';
    const raw = m[3] ?? '';
    const values: string[] = [];
    const one = (v: string): string => {
      const t = v.trim();
      return t.startsWith('"') && t.endsWith('"') && t.length >= 2
        ? t.slice(1, -1).replace(/\\(.)/g, '$1')
        : t;
    };
    if (raw.startsWith('[') && raw.endsWith(']')) {
      for (const part of raw.slice(1, -1).match(/"(?:[^"\\]|\\.)*"|[^,]+/g) ?? []) values.push(one(part));
    } else {
      values.push(one(raw));
    }
    if (values.some((v) => v.includes('*'))) {
      throw new HttpError(400, 'Invalid condition: wildcard search is not supported');
    }
    if (key === 'release') out.releases = { values: new Set(values), negated };
    else if (key === 'environment') out.environments = { values: new Set(values), negated };
    else if (key === 'session.status') {
      const wanted = new Set(
        values.filter((v): v is SessionStatus => (known as readonly string[]).includes(v)),
      );
      const statuses = negated ? new Set(known.filter((s) => !values.includes(s))) : wanted;
      out.statuses = out.statuses ? new Set([...out.statuses].filter((s) => statuses.has(s))) : statuses;
    } else throw new HttpError(400, `Invalid search filter: ${key}`);
  }
  return out;
}

interface TimeRange {
  start: number;
  end: number;
  interval: number;
  buckets: number;
}

function timeRange(query: URLSearchParams, now: number): TimeRange {
  const intervalText = query.get('interval') ?? '1h';
  // An interval Sentry cannot parse falls back to one hour (get_constrained_date_range).
  const interval = statsPeriodMs(intervalText) ?? HOUR;
  if (interval % TEN_SECONDS !== 0 || interval < TEN_SECONDS) {
    throw new HttpError(400, 'The interval has to be a multiple of the minimum interval of ten seconds.');
  }
  if (interval > DAY) throw new HttpError(400, 'The interval has to be less than one day.');
  if (DAY % interval !== 0)
    throw new HttpError(400, 'The interval should divide one day without a remainder.');

  const startText = query.get('start');
  const endText = query.get('end');
  let start: number;
  let end: number;
  if (startText !== null || endText !== null) {
    if (startText === null || endText === null) {
      throw new HttpError(400, 'Invalid date range: start and end are both required');
    }
    start = Date.parse(startText);
    end = Date.parse(endText);
    if (Number.isNaN(start) || Number.isNaN(end)) {
      throw new HttpError(400, 'Invalid date range: start and end must be ISO 8601 dates');
    }
    if (start >= end) throw new HttpError(400, 'Invalid date range: start must be before end');
  } else {
    const period = query.get('statsPeriod') ?? '90d';
    const ms = statsPeriodMs(period);
    if (ms === undefined || ms <= 0) throw new HttpError(400, `Invalid statsPeriod: '${period}'`);
    end = now;
    start = now - ms;
  }
  if (start > now) start = now;
  const rangeStart = Math.floor(start / interval) * interval;
  const rangeEnd = Math.max(rangeStart + interval, Math.ceil(end / interval) * interval);
  const buckets = (rangeEnd - rangeStart) / interval;
  if (buckets > MAX_TIME_POINTS) {
    throw new HttpError(
      400,
      'Your interval and date range would create too many results. Use a larger interval, or a smaller date range.',
    );
  }
  return { start: rangeStart, end: rangeEnd, interval, buckets };
}

function selectedProjects(data: Dataset, raw: string[]): Set<number> {
  const ids = raw.filter((v) => v !== '');
  if (ids.length === 0 || ids.includes('-1')) return new Set(data.projects.map((p) => p.index));
  const out = new Set<number>();
  for (const id of ids) {
    if (!/^\d+$/.test(id)) throw new HttpError(400, 'Invalid project ids');
    const project = data.projectsById.get(id);
    if (!project) throw new HttpError(403, PERMISSION_DENIED);
    out.add(project.index);
  }
  if (out.size === 0) throw new HttpError(400, 'No projects available');
  return out;
}

/** `per_page` and `cursor` as Endpoint.paginate reads them. */
function paging(query: URLSearchParams): { perPage: number | null; offset: number | null } {
  const perPageText = query.get('per_page');
  let perPage: number | null = null;
  if (perPageText !== null) {
    if (!/^\d+$/.test(perPageText)) throw new HttpError(400, 'Invalid per_page parameter.');
    perPage = Number(perPageText);
    if (perPage > SESSIONS_PER_PAGE) {
      throw new HttpError(400, `Invalid per_page value. Cannot exceed ${SESSIONS_PER_PAGE}.`);
    }
    if (perPage < 1) throw new HttpError(400, 'Invalid per_page value.');
  }
  const cursor = query.get('cursor');
  let offset: number | null = null;
  if (cursor !== null) {
    const m = /^\d+:(\d+):[01]$/.exec(cursor);
    if (!m) throw new HttpError(400, 'Invalid cursor parameter.');
    offset = Number(m[1]);
  }
  return { perPage, offset };
}

interface Group {
  key: string;
  project: number;
  env: number;
  release: number;
  totals: Tally;
  series: Tally[];
}

export function sessionsAnswer(ctx: SessionsContext): SessionsResult {
  const { data, query, now } = ctx;
  const statuses: readonly SessionStatus[] = ctx.unhandledStatus ? SESSION_STATUSES : OLDER_SESSION_STATUSES;
  const rateFields = ctx.unhandledStatus ? NEWER_RATE_FIELDS : OLDER_RATE_FIELDS;

  const projects = selectedProjects(data, query.getAll('project'));
  const envParams = query.getAll('environment').filter((e) => e !== '');
  for (const env of envParams) if (!data.orgEnvironments.has(env)) throw new HttpError(404, NOT_FOUND);

  const fields = query.getAll('field');
  if (fields.length === 0) throw new HttpError(400, 'Request is missing a "field"');
  for (const f of fields) {
    if (
      !(COUNT_FIELDS as readonly string[]).includes(f) &&
      !DURATION_FIELDS.includes(f) &&
      !rateFields.includes(f)
    ) {
      throw new HttpError(400, `Invalid field: "${f}"`);
    }
  }
  const groupBy = query.getAll('groupBy');
  for (const g of groupBy) {
    if (!(GROUP_BYS as readonly string[]).includes(g)) throw new HttpError(400, `Invalid groupBy: "${g}"`);
  }
  const range = timeRange(query, now);
  const { perPage, offset } = paging(query);
  const queryText = query.get('query') ?? '';
  const conditions = parseConditions(queryText, statuses);

  const byStatus = groupBy.includes('session.status');
  for (const f of fields) {
    if (!rateFields.includes(f)) continue;
    if (byStatus) throw new HttpError(400, `Cannot group field ${f} by session.status`);
    if (conditions.statuses !== null) throw new HttpError(400, `Cannot filter field ${f} by session.status`);
  }
  if (
    fields.includes('count_unique(user)') &&
    conditions.statuses !== null &&
    conditions.statuses.size > 1 &&
    !byStatus
  ) {
    throw new HttpError(400, 'Cannot filter count_unique by multiple session.status unless it is in groupBy');
  }
  const orderBys = query.getAll('orderBy');
  let order: { field: string; descending: boolean } | null = null;
  if (orderBys.length > 1) throw new HttpError(400, 'Cannot order by multiple fields');
  if (orderBys.length === 1) {
    if (byStatus) throw new HttpError(400, "Cannot use 'orderBy' when grouping by sessions.status");
    const raw = orderBys[0] ?? '';
    const field = raw.startsWith('-') ? raw.slice(1) : raw;
    if (!fields.includes(field)) throw new HttpError(400, "'orderBy' must be one of the provided 'fields'");
    order = { field, descending: raw.startsWith('-') };
  } else {
    // Without orderBy: the first field, descending, but sum(session) wins when requested
    // (_get_primary_field); a composite derived metric gets no order at all.
    const primary = fields.includes('sum(session)') ? 'sum(session)' : (fields[0] ?? '');
    if (!UNSORTED_FIELDS.has(primary)) order = { field: primary, descending: true };
  }

  const intervals: string[] = [];
  for (let i = 0; i < range.buckets; i++) intervals.push(isoSeconds(range.start + i * range.interval));
  const base = {
    start: isoSeconds(range.start),
    end: isoSeconds(range.end),
    intervals,
    query: queryText,
  };
  // session.status:<unknown>: a condition no session meets (_empty_result).
  if (conditions.statuses !== null && conditions.statuses.size === 0) {
    return { body: { ...base, groups: [] }, link: pageLink(ctx, 0, perPage ?? SESSIONS_PER_PAGE, false) };
  }

  const withUsers = fields.some((f) => f.includes('(user)'));
  const envFilter = envParams.length > 0 ? new Set(envParams) : null;
  const table = data.sessions;
  const groups = new Map<string, Group>();
  const byProject = groupBy.includes('project');
  const byEnv = groupBy.includes('environment');
  const byRelease = groupBy.includes('release');
  for (let row = lowerBound(table.time, range.start); row < table.length; row++) {
    const t = table.time[row] ?? 0;
    if (t >= range.end) break;
    const p = table.project[row] ?? 0;
    if (!projects.has(p)) continue;
    const envName = table.envNames[table.env[row] ?? 0] ?? '';
    if (envFilter && !envFilter.has(envName)) continue;
    if (
      conditions.environments &&
      conditions.environments.values.has(envName) === conditions.environments.negated
    )
      continue;
    const project = data.projects[p];
    const releaseName = project?.releases[table.release[row] ?? 0]?.version ?? '';
    if (conditions.releases && conditions.releases.values.has(releaseName) === conditions.releases.negated)
      continue;
    const key = `${byProject ? p : ''}\u0000${byEnv ? envName : ''}\u0000${byRelease ? releaseName : ''}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        key,
        project: p,
        env: table.env[row] ?? 0,
        release: table.release[row] ?? 0,
        totals: new Tally(),
        series: Array.from({ length: range.buckets }, () => new Tally()),
      };
      groups.set(key, g);
    }
    g.totals.add(table, row, withUsers);
    g.series[Math.floor((t - range.start) / range.interval)]?.add(table, row, withUsers);
  }

  const unhandled = ctx.unhandledStatus;
  const filter = conditions.statuses;
  /** A field's value for a tally; `status` only when grouped by session.status. */
  const value = (field: string, tally: Tally, status: SessionStatus | null): number | null => {
    const wanted = status !== null ? [status] : filter !== null ? [...filter] : null;
    if (field === 'sum(session)') {
      if (wanted === null) return tally.total;
      return wanted.reduce((sum, s) => sum + tally.sessions(s, unhandled), 0);
    }
    if (field === 'count_unique(user)') {
      if (wanted === null) return tally.users(U_ALL);
      return wanted.reduce((sum, s) => sum + tally.usersOf(s, unhandled), 0);
    }
    if (field === 'crash_rate(session)') return tally.crashRate();
    if (field === 'crash_free_rate(session)') return complement(tally.crashRate());
    if (field === 'crash_rate(user)') return tally.crashUserRate();
    if (field === 'crash_free_rate(user)') return complement(tally.crashUserRate());
    return null;
  };

  let metricGroups = [...groups.values()];
  metricGroups.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (order !== null) {
    const o = order;
    const keyed = metricGroups.map((g) => ({ g, v: value(o.field, g.totals, null) }));
    keyed.sort((a, b) => {
      if (a.v === null || b.v === null) return a.v === null ? (b.v === null ? 0 : 1) : -1;
      return o.descending ? b.v - a.v : a.v - b.v;
    });
    metricGroups = keyed.map((k) => k.g);
  }

  // The silent cut: per_page + 1 metric groups when per_page was given, ⌊10,000 ÷ len(intervals)⌋ otherwise.
  let limit: number;
  if (perPage !== null) {
    limit = perPage + 1;
    if (limit * range.buckets > SESSIONS_MAX_POINTS) {
      throw new HttpError(
        400,
        `Requested intervals (${range.buckets}) of timedelta of ${timedelta(range.interval)} with statsPeriod timedelta of ${timedelta(range.end - range.start)} is too granular for a per_page of ${limit} elements. Increase your interval, decrease your statsPeriod, or decrease your per_page parameter.`,
      );
    }
  } else {
    limit = Math.max(1, Math.floor(SESSIONS_MAX_POINTS / range.buckets));
  }
  const from = offset ?? 0;
  const page = metricGroups.slice(from, from + limit);

  const output: unknown[] = [];
  const emit = (g: Group, status: SessionStatus | null): void => {
    const by: Record<string, string | number> = {};
    const project = data.projects[g.project];
    if (byProject && project) by.project = project.idNum;
    if (byRelease) by.release = project?.releases[g.release]?.version ?? '';
    if (byEnv) by.environment = table.envNames[g.env] ?? '';
    if (status !== null) by['session.status'] = status;
    const totals: Record<string, number | null> = {};
    const series: Record<string, Array<number | null>> = {};
    for (const f of fields) {
      totals[f] = value(f, g.totals, status);
      series[f] = g.series.map((s) => value(f, s, status));
    }
    output.push({ by, totals, series });
  };
  for (const g of page) {
    if (!byStatus) emit(g, null);
    else for (const s of statuses) if (filter === null || filter.has(s)) emit(g, s);
  }
  if (output.length === 0) {
    // Default groups, as the original sessions implementation answered (run_sessions_query).
    const empty = new Tally();
    if (groupBy.length === 0) {
      output.push({
        by: {},
        totals: Object.fromEntries(fields.map((f) => [f, value(f, empty, null)])),
        series: Object.fromEntries(fields.map((f) => [f, intervals.map(() => value(f, empty, null))])),
      });
    } else if (groupBy.length === 1 && byStatus) {
      for (const s of statuses) {
        output.push({
          by: { 'session.status': s },
          totals: Object.fromEntries(fields.map((f) => [f, value(f, empty, s)])),
          series: Object.fromEntries(fields.map((f) => [f, intervals.map(() => value(f, empty, s))])),
        });
      }
    }
  }
  // SessionsDataSeriesPaginator: more pages only when exactly per_page + 1 output groups came back.
  const pageLimit = perPage ?? SESSIONS_PER_PAGE;
  const hasMore = output.length === pageLimit + 1;
  if (hasMore) output.pop();
  if (!hasMore && metricGroups.length - from > limit) ctx.onCut?.();
  return { body: { ...base, groups: output }, link: pageLink(ctx, from, pageLimit, hasMore) };
}

function pageLink(ctx: SessionsContext, offset: number, limit: number, hasMore: boolean): string {
  return [
    linkEntry(ctx.base, ctx.query, 'previous', offset > 0, `0:${Math.max(0, offset - limit)}:1`),
    linkEntry(ctx.base, ctx.query, 'next', hasMore, `0:${offset + limit}:0`),
  ].join(', ');
}
