/**
 * `GET /organizations/{org}/stats_v2/`: usage outcomes summed over a time range, grouped by any of project,
 * outcome, category and reason. Grouped by project, current Sentry runs no time-series query: the answer has
 * no `intervals` and no group has `series` (src/sentry/api/endpoints/organization_stats_v2.py,
 * `result_timeseries = None if "project_id" in query.query_groupby`; src/sentry/snuba/outcomes.py
 * `massage_outcomes_result`, `del result["intervals"]`). Older self-hosted releases sent both.
 */
import { CATEGORIES, OUTCOMES, REASONS } from './dataset.js';
import type { Dataset, SimProject } from './dataset.js';
import { DAY, HOUR, isoSeconds, parseDuration } from './durations.js';
import { HttpError, PERMISSION_DENIED } from './http-error.js';

const FIELDS = ['sum(quantity)', 'sum(times_seen)'] as const;
const GROUP_BYS = ['outcome', 'category', 'reason', 'project'] as const;
/** Categories Sentry knows; only error and transaction have data here. */
const KNOWN_CATEGORIES = new Set([
  'error',
  'default',
  'security',
  'transaction',
  'attachment',
  'replay',
  'profile',
  'profile_duration',
  'profile_duration_ui',
  'profile_chunk',
  'profile_chunk_ui',
  'monitor',
  'span',
  'log_item',
  'log_byte',
]);
const KNOWN_OUTCOMES = new Set([...OUTCOMES, 'abuse', 'cardinality_limited']);
const MAX_BUCKETS = 10_000;

/** ISO 8601 or epoch seconds, as Sentry accepts for start/end. */
function parseInstant(name: string, value: string): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Math.floor(Number(value) * 1000);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new HttpError(400, `${name} must be a valid ISO 8601 date or epoch seconds`);
  return ms;
}

function resolveProjects(data: Dataset, raw: string[]): SimProject[] | null {
  if (raw.length === 0 || raw.includes('-1')) return null;
  const out: SimProject[] = [];
  for (const id of raw) {
    if (!/^\d+$/.test(id)) throw new HttpError(400, 'Invalid project parameter. Values must be numbers.');
    const project = data.projectsById.get(id);
    if (!project) throw new HttpError(403, PERMISSION_DENIED);
    out.push(project);
  }
  return out;
}

export function statsV2(
  data: Dataset,
  query: URLSearchParams,
  now: number,
  seriesByProject: boolean,
): Record<string, unknown> {
  const fields = query.getAll('field');
  if (fields.length === 0) throw new HttpError(400, 'At least one "field" is required.');
  for (const f of fields) {
    if (!(FIELDS as readonly string[]).includes(f)) throw new HttpError(400, `Invalid field: "${f}"`);
  }
  const groupBy = query.getAll('groupBy');
  if (groupBy.length === 0) throw new HttpError(400, 'At least one "groupBy" is required.');
  for (const g of groupBy) {
    if (!(GROUP_BYS as readonly string[]).includes(g)) throw new HttpError(400, `Invalid groupBy: "${g}"`);
  }
  const categories = query.getAll('category');
  for (const c of categories)
    if (!KNOWN_CATEGORIES.has(c)) throw new HttpError(400, `Invalid category: "${c}"`);
  const outcomes = query.getAll('outcome');
  for (const o of outcomes) if (!KNOWN_OUTCOMES.has(o)) throw new HttpError(400, `Invalid outcome: "${o}"`);
  const reasons = query.getAll('reason');
  const projects = resolveProjects(data, query.getAll('project'));

  const intervalText = query.get('interval') ?? '1h';
  const interval = parseDuration(intervalText);
  if (interval === undefined) throw new HttpError(400, `Invalid interval: "${intervalText}"`);
  if (interval < HOUR) throw new HttpError(400, 'The interval has to be at least one hour.');
  if (interval > DAY && interval % DAY !== 0) throw new HttpError(400, 'The interval should divide one day.');

  let start: number;
  let end: number;
  const startText = query.get('start');
  const endText = query.get('end');
  if (startText !== null || endText !== null) {
    if (startText === null || endText === null) throw new HttpError(400, 'start and end are both required');
    start = parseInstant('start', startText);
    end = parseInstant('end', endText);
  } else {
    const period = query.get('statsPeriod') ?? '24h';
    const ms = parseDuration(period);
    if (ms === undefined) throw new HttpError(400, `Invalid statsPeriod: "${period}"`);
    end = now;
    start = now - ms;
  }
  if (end <= start) throw new HttpError(400, 'start must be before end');
  // Sentry widens the range to whole intervals.
  const rangeStart = Math.floor(start / interval) * interval;
  const rangeEnd = Math.ceil(end / interval) * interval;
  const buckets = Math.max(1, Math.round((rangeEnd - rangeStart) / interval));
  if (buckets > MAX_BUCKETS) {
    throw new HttpError(
      400,
      'Your interval and date range would create too many results. Use a larger interval.',
    );
  }
  const intervals: string[] = [];
  for (let i = 0; i < buckets; i++) intervals.push(isoSeconds(rangeStart + i * interval));

  const projectFilter = projects ? new Set(projects.map((p) => p.index)) : null;
  const categoryFilter = categories.length > 0 ? new Set(categories) : null;
  const outcomeFilter = outcomes.length > 0 ? new Set(outcomes) : null;
  const reasonFilter = reasons.length > 0 ? new Set(reasons) : null;
  const withSeries = seriesByProject || !groupBy.includes('project');
  const byProject = groupBy.includes('project');
  const byCategory = groupBy.includes('category');
  const byOutcome = groupBy.includes('outcome');
  const byReason = groupBy.includes('reason');
  // Numeric group keys: this loop runs over hundreds of thousands of rows for large organizations.
  const groups = new Map<
    number,
    { by: Record<string, string | number>; totals: number[]; series: number[][] }
  >();
  const useQuantity = fields.map((f) => f === 'sum(quantity)');

  const t = data.outcomes;
  let i = lowerBound(t.time, rangeStart);
  for (; i < t.time.length; i++) {
    const time = t.time[i] ?? 0;
    if (time >= rangeEnd) break;
    const projectIndex = t.project[i] ?? 0;
    if (projectFilter && !projectFilter.has(projectIndex)) continue;
    const c = t.category[i] ?? 0;
    if (categoryFilter && !categoryFilter.has(CATEGORIES[c] ?? '')) continue;
    const o = t.outcome[i] ?? 0;
    if (outcomeFilter && !outcomeFilter.has(OUTCOMES[o] ?? '')) continue;
    const r = t.reason[i] ?? 0;
    if (reasonFilter && !reasonFilter.has(REASONS[r] ?? '')) continue;
    const key =
      (((byProject ? projectIndex : 0) * CATEGORIES.length + (byCategory ? c : 0)) * OUTCOMES.length +
        (byOutcome ? o : 0)) *
        REASONS.length +
      (byReason ? r : 0);
    let group = groups.get(key);
    if (!group) {
      const by: Record<string, string | number> = {};
      for (const g of groupBy) {
        if (g === 'project') by.project = data.projects[projectIndex]?.idNum ?? 0;
        else if (g === 'outcome') by.outcome = OUTCOMES[o] ?? '';
        else if (g === 'category') by.category = CATEGORIES[c] ?? '';
        else by.reason = REASONS[r] ?? '';
      }
      group = {
        by,
        totals: fields.map(() => 0),
        series: withSeries ? fields.map(() => new Array<number>(buckets).fill(0)) : [],
      };
      groups.set(key, group);
    }
    const bucket = Math.floor((time - rangeStart) / interval);
    for (let fi = 0; fi < fields.length; fi++) {
      const value = useQuantity[fi] ? (t.quantity[i] ?? 0) : (t.timesSeen[i] ?? 0);
      group.totals[fi] = (group.totals[fi] ?? 0) + value;
      const series = group.series[fi];
      if (series) series[bucket] = (series[bucket] ?? 0) + value;
    }
  }

  const sortedKeys = [...groups.keys()].sort((a, b) => a - b);
  const body: Record<string, unknown> = {
    start: isoSeconds(rangeStart),
    end: isoSeconds(rangeEnd),
    groups: sortedKeys.map((key) => {
      const g = groups.get(key);
      if (!g) throw new Error('unreachable');
      const totals: Record<string, number> = {};
      const series: Record<string, number[]> = {};
      fields.forEach((f, fi) => {
        totals[f] = g.totals[fi] ?? 0;
        const s = g.series[fi];
        if (s) series[f] = s;
      });
      return withSeries ? { by: g.by, totals, series } : { by: g.by, totals };
    }),
  };
  if (withSeries) body.intervals = intervals;
  return body;
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
