/**
 * `GET /organizations/{org}/events/`, the table of Sentry's Explore and Discover, answered the way Sentry's
 * code does for aggregate tables of transactions (docs/sentry-api.md, Part 4):
 *
 * - src/sentry/api/endpoints/organization_events.py (`OrganizationEventsEndpoint.get`): the empty 404
 *   without the performance features, the answer for no project, the `GenericOffsetPaginator`, the RPC
 *   path for `spans` (`disableAggregateExtrapolation`, `sampling`), the SnQL path for the others;
 * - src/sentry/api/bases/organization_events.py: `get_dataset` and its 400 naming `DATASET_OPTIONS`, the
 *   20-field limit, `quantize_date_params` for a `statsPeriod` over an hour, `handle_results_with_meta` and
 *   `get_unit_and_type` for `meta`, `build_cursor_link`;
 * - src/sentry/snuba/utils.py `DATASET_OPTIONS` of each release modelled (EventsRelease);
 * - src/sentry/search/events/builder/base.py (SnQL: sort fields must be selected) and
 *   src/sentry/snuba/rpc_dataset_common.py (RPC: the same rule, its own words);
 * - src/sentry/search/eap/spans/formulas.py (`failure_rate`, `epm`) and the SnQL `epm`
 *   (src/sentry/search/events/datasets/function_aliases.py `resolve_epm`): a rate per minute of the window.
 *
 * Simplifications, each named where it is made: only aggregate tables; the query language is `[!]key:value`
 * terms of a few keys; discover holds the transactions only (no error events); weighted percentiles are
 * exact (snuba's t-digest approximates).
 */
import { parseDuration } from './durations.js';
import type { Dataset, SimProject, SpanTable } from './entities.js';
import { HttpError, NOT_FOUND, PERMISSION_DENIED } from './http-error.js';
import { paginate, readPage } from './pagination.js';
import { FIRST_FAILURE_STATUS, quantile, round9 } from './spans.js';

/**
 * Which release's events endpoint the simulator answers like:
 * - `current`: spans (EAP, RPC), transactions and discover, with data in all (sentry.io);
 * - `spans-without-eap`: the same datasets, but nothing stored in spans (self-hosted ≈24.10–25.8, or any
 *   install without the EAP consumer): spans answers 200 with no rows;
 * - `before-spans`: transactions and discover, spans refused with a 400 (Aug–Sep 2024, self-hosted ≈24.8);
 * - `before-transactions`: discover only (2023 to July 2024).
 */
export type EventsRelease = 'current' | 'spans-without-eap' | 'before-spans' | 'before-transactions';

const OLDER_OPTIONS = [
  'discover',
  'errors',
  'metricsEnhanced',
  'metrics',
  'profiles',
  'issuePlatform',
  'profileFunctions',
  'spansIndexed',
  'spansMetrics',
];

/**
 * `DATASET_OPTIONS` keys, in order, of each release (src/sentry/snuba/utils.py; the current list from a
 * mid/late-2025 version, `before-spans` from a version of August 2024, `before-transactions` from 2024).
 */
export const DATASET_OPTIONS: Record<EventsRelease, readonly string[]> = {
  current: [
    'discover',
    'errors',
    'metricsEnhanced',
    'metrics',
    'ourlogs',
    'logs',
    'uptimeChecks',
    'uptime_results',
    'profiles',
    'issuePlatform',
    'profileFunctions',
    'spans',
    'spansIndexed',
    'spansMetrics',
    'transactions',
  ],
  'spans-without-eap': [],
  'before-spans': [...OLDER_OPTIONS, 'transactions'],
  'before-transactions': OLDER_OPTIONS,
};
DATASET_OPTIONS['spans-without-eap'] = DATASET_OPTIONS.current;

/** The datasets the simulator answers from; the other known labels get a 400 saying so. */
type Modelled = 'spans' | 'transactions' | 'discover';

/** `MAX_FIELDS` (src/sentry/utils/snuba.py). */
const MAX_FIELDS = 20;
/** `MAX_STATS_PERIOD`: the window without any time parameter. */
const DEFAULT_PERIOD_MS = 90 * 86_400_000;
const SAMPLING_MODES = new Set(['NORMAL', 'HIGHEST_ACCURACY', 'HIGHEST_ACCURACY_FLEX_TIME']);
/** SnQL and RPC word the same rule differently. */
const SNQL_SORT_REFUSAL = 'Cannot sort by a field that is not selected.';
const RPC_SORT_REFUSAL = 'orderby must also be in the selected columns or groupby';

/** utils/dates.py `parse_stats_period`: `<n>[smhdw]`, a bare number is seconds. */
function parseStatsPeriod(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  return parseDuration(text);
}

/**
 * `snuba.quantize_time` (src/sentry/utils/snuba.py): seconds past the hour rounded to `duration` on a grid
 * shifted by `key % duration`, down or up; sub-second parts dropped.
 */
export function quantizeTime(ms: number, key: number, duration: number, up: boolean): number {
  const hour = Math.floor(ms / 3_600_000) * 3_600_000;
  const pastHour = Math.floor((ms - hour) / 1000);
  const jitter = key % duration;
  const windowStart = Math.floor(pastHour / duration) * duration + jitter;
  let seconds = windowStart < pastHour ? windowStart : windowStart - duration;
  if (up) seconds += duration;
  return hour + seconds * 1000;
}

/**
 * The window a query covers, [start, end) in ms: `statsPeriod` up to now, or `start`/`end`; with
 * `statsPeriod` longer than an hour, start rounded down and end up to the minute (15 minutes from 30 days)
 * on the organization's jittered grid (`quantize_date_params`).
 */
export function eventsWindow(
  query: URLSearchParams,
  now: number,
  orgId: number,
): { start: number; end: number } {
  const startText = query.get('start');
  const endText = query.get('end');
  const period = query.get('statsPeriod');
  let start: number;
  let end: number;
  if (period !== null) {
    const ms = parseStatsPeriod(period);
    if (ms === undefined) throw new HttpError(400, `Invalid statsPeriod: '${period}'`);
    end = now;
    start = now - ms;
  } else if (startText !== null || endText !== null) {
    start = Date.parse(startText ?? '');
    end = Date.parse(endText ?? '');
    if (Number.isNaN(start) || Number.isNaN(end)) throw new HttpError(400, 'start and end are both required');
    if (start >= end) throw new HttpError(400, 'start must be before end');
  } else {
    end = now;
    start = now - DEFAULT_PERIOD_MS;
  }
  const seconds = (end - start) / 1000;
  if (period !== null && seconds > 3600) {
    const roundTo = seconds >= 30 * 86_400 ? 900 : 60;
    start = quantizeTime(start, orgId, roundTo, false);
    end = quantizeTime(end, orgId, roundTo, true);
  }
  return { start, end };
}

/** A condition of the simulator's query language: `[!]key:value`, the value bare or in double quotes. */
interface Term {
  negated: boolean;
  key: string;
  value: string;
}

function parseQuery(text: string): Term[] {
  const terms: Term[] = [];
  const re = /\s*(!?)([\w.]+):(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*/y;
  let at = 0;
  const trimmed = text.trim();
  while (at < trimmed.length) {
    re.lastIndex = at;
    const m = re.exec(trimmed);
    if (!m) {
      throw new HttpError(
        400,
        `the simulator understands only key:value search terms, not "${trimmed.slice(at)}"`,
      );
    }
    terms.push({
      negated: m[1] === '!',
      key: m[2] ?? '',
      value: m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[4] ?? ''),
    });
    at = re.lastIndex;
  }
  return terms;
}

const TRUTHY = new Set(['1', 'true']);
const FALSY = new Set(['0', 'false']);

/** Whether span `i` matches a term; an unknown key is a tag no span has (Sentry's tag semantics). */
function matches(
  t: SpanTable,
  i: number,
  term: Term,
  dataset: Modelled,
  projects: Dataset['projects'],
): boolean {
  const value = term.value;
  let hit: boolean;
  switch (term.key) {
    case 'is_transaction':
      if (dataset !== 'spans') {
        hit = false;
        break;
      }
      if (!TRUTHY.has(value) && !FALSY.has(value))
        throw new HttpError(400, `Invalid value for is_transaction: ${value}`);
      hit = (t.segment[i] === 1) === TRUTHY.has(value);
      break;
    case 'event.type':
      hit = dataset !== 'spans' && value === 'transaction';
      break;
    case 'transaction':
      hit = t.names[t.name[i] ?? 0] === value;
      break;
    case 'transaction.op':
      hit = t.ops[t.name[i] ?? 0] === value;
      break;
    case 'environment': {
      const env = t.env[i] ?? -1;
      hit = env >= 0 && t.envNames[env] === value;
      break;
    }
    case 'project':
      hit = projects[t.project[i] ?? 0]?.slug === value;
      break;
    default:
      hit = false;
  }
  return hit !== term.negated;
}

/** The columns of the table: plain fields (grouped by) and aggregates. */
type Column =
  | { field: string; kind: 'project' | 'transaction' | 'environment' | 'transaction.op' | 'tag' }
  | { field: string; kind: 'count' | 'epm' | 'failure_rate' }
  | { field: string; kind: 'percentile'; level: number };

const PERCENTILES: Record<string, number> = { p50: 0.5, p75: 0.75, p90: 0.9, p95: 0.95, p99: 0.99, p100: 1 };
const DURATION_COLUMN: Record<Modelled, string> = {
  spans: 'span.duration',
  transactions: 'transaction.duration',
  discover: 'transaction.duration',
};

function parseColumn(field: string, dataset: Modelled): Column {
  const fn = /^([a-z_0-9]+)\((.*)\)$/.exec(field);
  if (!fn) {
    if (
      field === 'project' ||
      field === 'transaction' ||
      field === 'environment' ||
      field === 'transaction.op'
    )
      return { field, kind: field };
    return { field, kind: 'tag' };
  }
  const [, name = '', arg = ''] = fn;
  if ((name === 'count' || name === 'epm' || name === 'tpm' || name === 'failure_rate') && arg === '')
    return { field, kind: name === 'tpm' ? 'epm' : name };
  const level = PERCENTILES[name];
  if (level !== undefined) {
    const column = arg === '' ? DURATION_COLUMN[dataset] : arg;
    if (column !== DURATION_COLUMN[dataset]) {
      throw new HttpError(
        400,
        `${field}: the simulator knows ${DURATION_COLUMN[dataset]} as the duration of the ${dataset} dataset, not ${column}`,
      );
    }
    return { field, kind: 'percentile', level };
  }
  // QueryBuilder.parse_function (src/sentry/search/events/builder/base.py).
  throw new HttpError(400, `${name} is not a valid function`);
}

/** `meta.fields` type of a column (SnQL `get_json_meta_type`, EAP search types). */
function fieldType(c: Column): string {
  switch (c.kind) {
    case 'count':
      return 'integer';
    case 'epm':
      return 'rate';
    case 'failure_rate':
      return 'percentage';
    case 'percentile':
      return 'duration';
    default:
      return 'string';
  }
}

/** `get_unit_and_type` (src/sentry/api/bases/organization_events.py): the unit of each field type. */
function fieldUnit(c: Column): string | null {
  if (c.kind === 'percentile') return 'millisecond';
  if (c.kind === 'epm') return '1/minute';
  return null;
}

interface Group {
  labels: Array<string | null>;
  durations: number[];
  count: number;
  weighted: number;
  failures: number;
  weightedFailures: number;
}

export interface EventsAnswerInput {
  data: Dataset;
  query: URLSearchParams;
  /** Absolute URL of the endpoint, for the Link header. */
  base: string;
  now: number;
  release: EventsRelease;
  /** The organization has Discover or Performance (`has_feature`); without, an empty 404. */
  performanceView: boolean;
  /** `organizations:global-views`: without it, several projects at once are a 400. */
  globalViews: boolean;
}

/** The body is `undefined` for Sentry's bodiless 404. */
export function eventsAnswer(input: EventsAnswerInput): {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
} {
  const { data, query, now, release } = input;
  if (!input.performanceView) return { status: 404, body: undefined };

  // get_snuba_params: the field count, then the filter params (projects, environments, dates).
  const fields = query.getAll('field');
  if (fields.length > MAX_FIELDS) {
    throw new HttpError(
      400,
      `You can view up to ${MAX_FIELDS} fields at a time. Please delete some and try again.`,
    );
  }
  const projects = resolveProjects(data, query.getAll('project'));
  const envNames = [...new Set(query.getAll('environment').filter((e) => e !== ''))];
  for (const e of envNames) if (!data.orgEnvironments.has(e)) throw new HttpError(404, NOT_FOUND);
  const window = eventsWindow(query, now, Number(data.org.id));
  if (projects.length === 0) {
    return {
      status: 200,
      body: { data: [], meta: { tips: { query: 'Need at least one valid project to query.' } } },
    };
  }
  if (!input.globalViews && projects.length > 1)
    throw new HttpError(400, 'You cannot view events from multiple projects.');

  const label = query.get('dataset') ?? 'discover';
  const options = DATASET_OPTIONS[release];
  if (!options.includes(label)) throw new HttpError(400, `dataset must be one of: ${options.join(', ')}`);
  if (label !== 'spans' && label !== 'transactions' && label !== 'discover')
    throw new HttpError(400, `the simulator does not model the ${label} dataset`);
  const dataset: Modelled = label;
  const rpc = dataset === 'spans';
  // Endpoint.paginate reads per_page and the cursor before any query runs.
  const page = readPage(query, 'per_page');
  if (rpc) {
    const sampling = query.get('sampling');
    if (sampling !== null && !SAMPLING_MODES.has(sampling))
      throw new HttpError(400, `sampling mode: ${sampling} is not supported`);
  }
  const extrapolate = rpc && query.get('disableAggregateExtrapolation') !== '1';

  const columns = fields.map((f) => parseColumn(f, dataset));
  if (
    !columns.some(
      (c) => c.kind === 'count' || c.kind === 'epm' || c.kind === 'failure_rate' || c.kind === 'percentile',
    )
  )
    throw new HttpError(400, 'the simulator answers aggregate tables only (add an aggregate field)');
  const sorts = query.getAll('sort');
  for (const s of sorts) {
    const bare = s.replace(/^-/, '');
    const aliases = rpc ? columns.map((c) => functionAlias(c.field)) : [];
    if (!fields.includes(bare) && !aliases.includes(bare))
      throw new HttpError(400, rpc ? RPC_SORT_REFUSAL : SNQL_SORT_REFUSAL);
  }
  const terms = parseQuery(query.get('query') ?? '');

  const t = data.spans();
  const projectSet = new Set(projects.map((p) => p.index));
  const envSet = envNames.length > 0 ? new Set(envNames) : null;
  const groups = new Map<string, Group>();
  const empty = release === 'spans-without-eap' && rpc;
  for (let i = lowerBound(t.time, window.start); !empty && i < t.length; i++) {
    if ((t.time[i] ?? 0) >= window.end) break;
    // The SnQL datasets hold the transactions (segment spans) only.
    if (!rpc && t.segment[i] !== 1) continue;
    if (!projectSet.has(t.project[i] ?? -1)) continue;
    const env = t.env[i] ?? -1;
    if (envSet && !(env >= 0 && envSet.has(t.envNames[env] ?? ''))) continue;
    if (!terms.every((term) => matches(t, i, term, dataset, data.projects))) continue;
    const labels = columns.flatMap((c): Array<string | null> => {
      switch (c.kind) {
        case 'project':
          return [data.projects[t.project[i] ?? 0]?.slug ?? 'unknown'];
        case 'transaction':
          return [t.names[t.name[i] ?? 0] ?? ''];
        case 'environment':
          return [env >= 0 ? (t.envNames[env] ?? null) : null];
        case 'transaction.op':
          return [t.ops[t.name[i] ?? 0] ?? null];
        case 'tag':
          return [null];
        default:
          return [];
      }
    });
    const key = JSON.stringify(labels);
    let g = groups.get(key);
    if (!g)
      groups.set(
        key,
        (g = { labels, durations: [], count: 0, weighted: 0, failures: 0, weightedFailures: 0 }),
      );
    const weight = t.weight[i] ?? 1;
    const failed = (t.status[i] ?? 0) >= FIRST_FAILURE_STATUS;
    g.count++;
    g.weighted += weight;
    if (failed) {
      g.failures++;
      g.weightedFailures += weight;
    }
    // snuba's transactions table keeps whole milliseconds (UInt32); EAP keeps the span's own value.
    const ms = t.durationMs[i] ?? 0;
    g.durations.push(rpc ? ms : Math.floor(ms));
  }

  // epm divides by the window in minutes: SnQL by its whole seconds (IntervalDefault), RPC by its seconds.
  const windowSeconds = rpc
    ? (window.end - window.start) / 1000
    : Math.floor((window.end - window.start) / 1000);
  const rows = [...groups.values()].map((g) => {
    g.durations.sort((a, b) => a - b);
    const row: Record<string, string | number | null> = {};
    let labelAt = 0;
    for (const c of columns) {
      switch (c.kind) {
        case 'count':
          row[c.field] = extrapolate ? Math.round(g.weighted) : g.count;
          break;
        case 'epm':
          row[c.field] = (extrapolate ? g.weighted : g.count) / (windowSeconds / 60);
          break;
        case 'failure_rate':
          row[c.field] = extrapolate ? g.weightedFailures / g.weighted : g.failures / g.count;
          break;
        case 'percentile': {
          const v = quantile(g.durations, c.level);
          row[c.field] = v === null ? null : rpc ? round9(v) : v;
          break;
        }
        default:
          row[c.field] = g.labels[labelAt++] ?? null;
      }
    }
    return row;
  });
  if (sorts.length > 0) rows.sort(comparator(sorts, columns, rpc));

  const { items, link } = paginate(rows, page, input.base, query);
  const meta: Record<string, unknown> = {
    fields: Object.fromEntries(columns.map((c) => [c.field, fieldType(c)])),
    units: Object.fromEntries(columns.map((c) => [c.field, fieldUnit(c)])),
    isMetricsData: false,
    isMetricsExtractedData: false,
    tips: {},
    datasetReason: 'unchanged',
    dataset: label,
  };
  const body: Record<string, unknown> = { data: items, meta };
  if (rpc && items.length > 0) {
    // process_table_response: a confidence per aggregate of each row, also under meta.accuracy.
    const confidence = items.map(() =>
      Object.fromEntries(columns.filter((c) => fieldType(c) !== 'string').map((c) => [c.field, 'high'])),
    );
    meta.accuracy = { confidence };
    body.confidence = confidence;
  }
  return { status: 200, body, headers: { Link: link } };
}

/** `get_function_alias`: `count()` -> `count`, `p95(span.duration)` -> `p95_span_duration`. */
function functionAlias(field: string): string {
  const m = /^([^(]+)\((.*)\)$/.exec(field);
  if (!m) return field;
  return `${m[1]}_${(m[2] ?? '').replace(/[^\w]/g, '_')}`.replace(/_+$/, '');
}

function comparator(
  sorts: readonly string[],
  columns: readonly Column[],
  rpc: boolean,
): (a: Record<string, unknown>, b: Record<string, unknown>) => number {
  const keys = sorts.map((s) => {
    const bare = s.replace(/^-/, '');
    const column = columns.find((c) => c.field === bare || (rpc && functionAlias(c.field) === bare));
    return { field: column?.field ?? bare, descending: s.startsWith('-') };
  });
  return (a, b) => {
    for (const { field, descending } of keys) {
      const x = a[field];
      const y = b[field];
      if (x === y) continue;
      // NULLs last either way (ClickHouse's default).
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : 1;
      if (order !== 0) return descending ? -order : order;
    }
    return 0;
  };
}

/**
 * The projects of `project`: all for none or -1 (the simulated token is a member of every project), the
 * named ids otherwise; an id not a number is a 400, one the token cannot see a 403 (bases/organization.py).
 */
function resolveProjects(data: Dataset, raw: string[]): SimProject[] {
  const ids = raw.filter((v) => v !== '');
  if (ids.length === 0 || ids.includes('-1')) return data.projects;
  const out = new Set<SimProject>();
  for (const id of ids) {
    if (!/^-?\d+$/.test(id)) throw new HttpError(400, 'Invalid project parameter. Values must be numbers.');
    const project = data.projectsById.get(id);
    if (!project) throw new HttpError(403, PERMISSION_DENIED);
    out.add(project);
  }
  return [...out];
}

/** First index whose time is >= target. */
export function lowerBound(values: Float64Array, target: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] ?? 0) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
