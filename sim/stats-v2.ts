/**
 * `GET /organizations/{org}/stats_v2/`: usage outcomes summed over a time range, grouped by any of project,
 * outcome, category and reason, answered the way Sentry's code does (docs/sentry-api.md, Part 2):
 *
 * - checks and their texts from src/sentry/snuba/outcomes.py (`QueryDefinition`, `CategoryDimension`,
 *   `OutcomeDimension`) and src/sentry/snuba/sessions_v2.py (`get_constrained_date_range`);
 * - two snuba queries, totals and time series, each cut at 10,000 rows with no ORDER BY and no word of it
 *   (`run_outcomes_query_totals`, `run_outcomes_query_timeseries`: `Limit(10000)`); the rows are counted
 *   before Sentry folds `default` and `security` into `error` and renames `smart_rate_limit` to
 *   `spike_protection` (`_format_rows`);
 * - the groups are the union of both queries' keys (a group only in the time series has totals 0), in no
 *   particular order (`massage_sessions_result` builds them from a set);
 * - grouped by project, current Sentry runs no time-series query: no `intervals` and no `series`
 *   (src/sentry/api/endpoints/organization_stats_v2.py; `massage_outcomes_result`). Older self-hosted
 *   releases sent both (`seriesByProject`).
 */
import { CATEGORIES, OUTCOMES, REASONS } from './dataset.js';
import { DAY, isoSeconds, parseDuration } from './durations.js';
import type { Dataset, SimProject } from './entities.js';
import { HttpError, PERMISSION_DENIED } from './http-error.js';
import { Prng } from './prng.js';
import { reportedCategory, reportedReason } from './truth.js';

const FIELDS = ['sum(quantity)', 'sum(times_seen)'] as const;
const GROUP_BYS = ['outcome', 'category', 'reason', 'project'] as const;
/** Every name relay's `DataCategory::from_name` parses (relay-base-schema/src/data_category.rs). */
const KNOWN_CATEGORIES = new Set([
  'default',
  'error',
  'transaction',
  'security',
  'attachment',
  'session',
  'profile',
  'profile_indexed',
  'replay',
  'transaction_processed',
  'transaction_indexed',
  'monitor',
  'span',
  'log_item',
  'log_byte',
  'monitor_seat',
  'feedback',
  'user_report_v2',
  'metric_bucket',
  'span_indexed',
  'profile_duration',
  'profile_duration_ui',
  'profile_chunk',
  'profile_chunk_ui',
  'metric_second',
  'replay_video',
  'uptime',
  'attachment_item',
  'seer_autofix',
  'seer_scanner',
  'prevent_user',
  'prevent_review',
  'size_analysis',
  'installable_build',
  'trace_metric',
  'seer_user',
  'profile_backend',
  'profile_ui',
]);
/** snuba's row limit on each of the two queries (sessions_v2.py: 10,000 is snuba's maximum). */
const SNUBA_ROW_LIMIT = 10_000;
/** sessions_v2.py `MAX_POINTS`. */
const MAX_POINTS = 1000;
/** api/utils.py `MAX_STATS_PERIOD`: the range when neither statsPeriod nor start/end is given. */
const DEFAULT_RANGE = 90 * DAY;
const ONE_DAY_SECONDS = 86_400;

/** Which rows survive a cut, and the order of groups: arbitrary in Sentry, varied here per answer. */
const arbitrary = new Prng(0x57a75);

/** ISO 8601 or epoch seconds, as Sentry accepts for start/end. */
function parseInstant(name: string, value: string): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Math.floor(Number(value) * 1000);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new HttpError(400, `${name} must be a valid ISO 8601 date or epoch seconds`);
  return ms;
}

/**
 * The projects a query counts, as organization_stats_v2.py `_get_projects_for_orgstats_query` picks them;
 * null: the whole organization. `_is_org_total_query`: no `project` or exactly `project=-1`, and the LAST
 * `groupBy` value not containing "project" (QueryDict.get), is an organization-wide query: snuba filters on
 * the organization only, so every project counts, deleted ones too. Otherwise `get_projects`
 * (src/sentry/api/bases/organization.py): no `project` means the member projects, `-1` every project the
 * caller can access (open membership: every active one), ids each an active project of the organization,
 * else 403; no project at all is a 400.
 */
function resolveProjects(data: Dataset, raw: string[], groupBy: string[]): Set<number> | null {
  for (const id of raw) {
    if (!/^-?\d+$/.test(id)) throw new HttpError(400, 'Invalid project parameter. Values must be numbers.');
  }
  const ids = new Set(raw.map(Number));
  const allAccessible = ids.size === 1 && ids.has(-1);
  if ((ids.size === 0 || allAccessible) && !(groupBy.at(-1) ?? '').includes('project')) return null;
  let projects: SimProject[];
  if (ids.size === 0) projects = data.projects.filter((p) => p.isMember);
  else if (ids.has(-1)) projects = data.projects;
  else {
    projects = [];
    for (const id of raw) {
      const project = data.projectsById.get(id);
      if (!project) throw new HttpError(403, PERMISSION_DENIED);
      projects.push(project);
    }
  }
  if (projects.length === 0) throw new HttpError(400, 'No projects available');
  return new Set(projects.map((p) => p.index));
}

/** utils/dates.py `parse_stats_period`: `<n>[smhdw]`, a bare number is seconds; anything else: undefined. */
function parseStatsPeriod(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  return parseDuration(text);
}

/** sessions_v2.py `get_constrained_date_range` with `AllowedResolution.one_minute`. */
function dateRange(
  query: URLSearchParams,
  now: number,
): { start: number; end: number; interval: number; buckets: number } {
  // An interval that does not parse is silently one hour.
  const intervalSeconds = Math.floor((parseStatsPeriod(query.get('interval') ?? '1h') ?? 3_600_000) / 1000);
  if (intervalSeconds < 60 || intervalSeconds % 60 !== 0) {
    throw new HttpError(400, 'The interval has to be a multiple of the minimum interval of one minute.');
  }
  if (intervalSeconds > ONE_DAY_SECONDS)
    throw new HttpError(400, 'The interval has to be less than one day.');
  if (ONE_DAY_SECONDS % intervalSeconds !== 0) {
    throw new HttpError(400, 'The interval should divide one day without a remainder.');
  }
  const interval = intervalSeconds * 1000;
  let start: number;
  let end: number;
  const startText = query.get('start');
  const endText = query.get('end');
  const period = query.get('statsPeriod');
  if (startText !== null || endText !== null) {
    if (startText === null || endText === null) throw new HttpError(400, 'start and end are both required');
    start = parseInstant('start', startText);
    end = parseInstant('end', endText);
    if (start >= end) throw new HttpError(400, 'start must be before end');
  } else if (period !== null) {
    const ms = parseStatsPeriod(period);
    if (ms === undefined) throw new HttpError(400, `Invalid statsPeriod: '${period}'`);
    end = now;
    start = now - ms;
  } else {
    end = now;
    start = now - DEFAULT_RANGE;
  }
  // A start in the future is clamped to now; start snaps down to the interval, end to the boundary after it.
  start = Math.floor(Math.min(start, now) / interval) * interval;
  end = (Math.floor(end / interval) + 1) * interval;
  const buckets = Math.round((end - start) / interval);
  if (buckets > MAX_POINTS) {
    throw new HttpError(
      400,
      'Your interval and date range would create too many results. Use a larger interval, or a smaller date range.',
    );
  }
  return { start, end, interval, buckets };
}

/** `CategoryDimension.resolve_filter`: stored category names; `error` is error, default and security. */
function resolveCategories(raw: string[]): Set<string> | null {
  if (raw.length === 0) return null;
  const out = new Set<string>();
  for (const name of raw) {
    if (!KNOWN_CATEGORIES.has(name)) throw new HttpError(400, `Invalid category: "${name}"`);
    if (name === 'error') for (const c of ['default', 'error', 'security']) out.add(c);
    else out.add(name === 'user_report_v2' ? 'feedback' : name);
  }
  if (out.has('attachment') && out.size > 1) {
    throw new HttpError(400, 'if filtering by attachment no other category may be present');
  }
  return out;
}

interface RawGroup {
  project: number;
  category: number;
  outcome: number;
  reason: number;
  values: number[];
}

interface OutGroup {
  by: Record<string, string | number>;
  totals: number[];
  series: number[][];
}

function shuffled<T>(rows: T[]): T[] {
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(arbitrary.next() * (i + 1));
    [rows[i], rows[j]] = [rows[j] as T, rows[i] as T];
  }
  return rows;
}

/** Keeps `limit` of the rows, which ones left to chance, as snuba does without an ORDER BY. */
function cut<T>(rows: T[], limit: number): T[] {
  return rows.length <= limit ? rows : shuffled(rows).slice(0, limit);
}

export function statsV2(
  data: Dataset,
  query: URLSearchParams,
  now: number,
  seriesByProject: boolean,
  onCut: () => void = () => {},
): Record<string, unknown> {
  const groupBy = query.getAll('groupBy');
  const projectFilter = resolveProjects(data, query.getAll('project'), groupBy);
  const fields = query.getAll('field');
  if (fields.length === 0) throw new HttpError(400, 'At least one "field" is required.');
  const range = dateRange(query, now);
  for (const f of fields) {
    if (!(FIELDS as readonly string[]).includes(f)) throw new HttpError(400, `Invalid field: "${f}"`);
  }
  for (const g of groupBy) {
    if (!(GROUP_BYS as readonly string[]).includes(g)) throw new HttpError(400, `Invalid groupBy: "${g}"`);
  }
  if (query.getAll('category').length === 0 && !groupBy.includes('category')) {
    throw new HttpError(400, 'Query must have category as groupby or filter');
  }
  // get_conditions: the filters in DIMENSION_MAP order (outcome, category, reason).
  const outcomes = query.getAll('outcome').map((o) => {
    const name = o.toLowerCase();
    if (!(OUTCOMES as readonly string[]).includes(name)) throw new HttpError(400, `Invalid outcome: "${o}"`);
    return name;
  });
  const categoryFilter = resolveCategories(query.getAll('category'));
  const reasons = query.getAll('reason').map((r) => (r === 'spike_protection' ? 'smart_rate_limit' : r));

  const { start, end, interval, buckets } = range;
  const outcomeFilter = outcomes.length > 0 ? new Set(outcomes) : null;
  const reasonFilter = reasons.length > 0 ? new Set(reasons) : null;
  const withSeries = seriesByProject || !groupBy.includes('project');
  const byProject = groupBy.includes('project');
  const byCategory = groupBy.includes('category');
  const byOutcome = groupBy.includes('outcome');
  const byReason = groupBy.includes('reason');
  const useQuantity = fields.map((f) => f === 'sum(quantity)');

  // The two snuba queries, grouped by the stored values. Numeric keys: this loop runs over up to a million
  // rows for large organizations.
  const totals = new Map<number, RawGroup>();
  const timeseries = new Map<number, RawGroup & { bucket: number }>();
  const t = data.outcomes;
  for (let i = lowerBound(t.time, start); i < t.time.length; i++) {
    const time = t.time[i] ?? 0;
    if (time >= end) break;
    const project = t.project[i] ?? 0;
    if (projectFilter && !projectFilter.has(project)) continue;
    const category = t.category[i] ?? 0;
    if (categoryFilter && !categoryFilter.has(CATEGORIES[category] ?? '')) continue;
    const outcome = t.outcome[i] ?? 0;
    if (outcomeFilter && !outcomeFilter.has(OUTCOMES[outcome] ?? '')) continue;
    const reason = t.reason[i] ?? 0;
    if (reasonFilter && !reasonFilter.has(REASONS[reason] ?? '')) continue;
    const g = {
      project: byProject ? project : 0,
      category: byCategory ? category : 0,
      outcome: byOutcome ? outcome : 0,
      reason: byReason ? reason : 0,
    };
    const key =
      ((g.project * CATEGORIES.length + g.category) * OUTCOMES.length + g.outcome) * REASONS.length +
      g.reason;
    const values = fields.map((_, fi) => (useQuantity[fi] ? (t.quantity[i] ?? 0) : (t.timesSeen[i] ?? 0)));
    const total = totals.get(key);
    if (total) values.forEach((v, fi) => (total.values[fi] = (total.values[fi] ?? 0) + v));
    else totals.set(key, { ...g, values: [...values] });
    if (!withSeries) continue;
    const bucket = Math.floor((time - start) / interval);
    const seriesKey = key * buckets + bucket;
    const point = timeseries.get(seriesKey);
    if (point) values.forEach((v, fi) => (point.values[fi] = (point.values[fi] ?? 0) + v));
    else timeseries.set(seriesKey, { ...g, values, bucket });
  }

  // _format_rows: rename, then merge rows whose presented key is the same.
  const groups = new Map<string, OutGroup>();
  const groupOf = (row: RawGroup): OutGroup => {
    const by: Record<string, string | number> = {};
    for (const name of groupBy) {
      if (name === 'project') by.project = projectAt(data, row.project)?.idNum ?? 0;
      else if (name === 'category') by.category = reportedCategory(CATEGORIES[row.category] ?? '');
      else if (name === 'outcome') by.outcome = OUTCOMES[row.outcome] ?? '';
      else by.reason = reportedReason(REASONS[row.reason] ?? '');
    }
    const key = JSON.stringify(groupBy.map((name) => by[name]));
    let group = groups.get(key);
    if (!group) {
      group = {
        by,
        totals: fields.map(() => 0),
        series: withSeries ? fields.map(() => new Array<number>(buckets).fill(0)) : [],
      };
      groups.set(key, group);
    }
    return group;
  };
  if (totals.size > SNUBA_ROW_LIMIT || timeseries.size > SNUBA_ROW_LIMIT) onCut();
  for (const row of cut([...totals.values()], SNUBA_ROW_LIMIT)) {
    const group = groupOf(row);
    row.values.forEach((v, fi) => (group.totals[fi] = (group.totals[fi] ?? 0) + v));
  }
  for (const point of cut([...timeseries.values()], SNUBA_ROW_LIMIT)) {
    const group = groupOf(point);
    point.values.forEach((v, fi) => {
      const series = group.series[fi];
      if (series) series[point.bucket] = (series[point.bucket] ?? 0) + v;
    });
  }
  // Without groupBy there is always the one group `by: {}` (test_future_request: all zeros).
  if (groupBy.length === 0 && groups.size === 0)
    groupOf({ project: 0, category: 0, outcome: 0, reason: 0, values: [] });

  const body: Record<string, unknown> = {
    start: isoSeconds(start),
    end: isoSeconds(end),
    groups: shuffled([...groups.values()]).map((g) => {
      const totalsOut: Record<string, number> = {};
      const seriesOut: Record<string, number[]> = {};
      fields.forEach((f, fi) => {
        totalsOut[f] = g.totals[fi] ?? 0;
        const s = g.series[fi];
        if (s) seriesOut[f] = s;
      });
      return withSeries
        ? { by: g.by, totals: totalsOut, series: seriesOut }
        : { by: g.by, totals: totalsOut };
    }),
  };
  if (withSeries) {
    const intervals: string[] = [];
    for (let i = 0; i < buckets; i++) intervals.push(isoSeconds(start + i * interval));
    body.intervals = intervals;
  }
  return body;
}

/** An active or deleted project by its index (deleted projects' indexes follow the active ones'). */
function projectAt(data: Dataset, index: number): SimProject | undefined {
  return data.projects[index] ?? data.deletedProjects[index - data.projects.length];
}

/** First index whose value is >= target in an ascending array. */
function lowerBound(values: number[], target: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] ?? 0) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
