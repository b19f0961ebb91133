/**
 * The events endpoint's transaction table (GET /organizations/{org}/events/) as typed rows in base units,
 * converted with the answer's `meta.units` (docs/sentry-api.md, Part 4).
 */
import { array, fail, isObject, items, join, nullableString, object, string } from './json.js';
import type { Json, JsonObject, ParseContext } from './json.js';
import type { TransactionStats } from './types.js';

/** The `field` names of a transaction table, as sent and as the answer's row keys (client.ts). */
export interface TransactionFields {
  project: string;
  transaction: string;
  /** Present when the table is split by environment. */
  environment?: string;
  count: string;
  /** `epm()`. */
  rate: string;
  /** `failure_rate()`. */
  failureRate: string;
  /** One per TRANSACTION_QUANTILES entry, e.g. `p95(span.duration)`. */
  quantiles: readonly string[];
}

/**
 * Duration units Sentry names in `meta.units` (`DURATION_UNITS`, src/sentry/search/events/constants.py), as
 * seconds: `[multiplier, divisor]`, so that milliseconds are divided by 1000 (exact for the decimal values
 * Sentry sends) rather than multiplied by 0.001.
 */
const DURATION_UNIT_SECONDS: Record<string, readonly [number, number]> = {
  nanosecond: [1, 1e9],
  microsecond: [1, 1e6],
  millisecond: [1, 1e3],
  second: [1, 1],
  minute: [60, 1],
  hour: [3600, 1],
  day: [86_400, 1],
  week: [604_800, 1],
};

/** Rate units of `meta.units` (`get_unit_and_type`, src/sentry/api/bases/organization_events.py), per second. */
const RATE_UNIT_PER_SECOND: Record<string, readonly [number, number]> = {
  '1/second': [1, 1],
  '1/minute': [1, 60],
  '1/hour': [1, 3600],
};

/** Rate functions whose unit `get_unit_and_type` derives from the name alone. */
const PER_MINUTE_FUNCTIONS = new Set(['epm()', 'spm()', 'tpm()']);
const PER_SECOND_FUNCTIONS = new Set(['eps()', 'sps()', 'tps()']);

interface EventsMeta {
  fields: JsonObject;
  units: JsonObject;
}

/**
 * The conversion of a field to seconds (durations) or to per second (rates), from the answer's meta, the
 * way Sentry's `handle_unit_meta` and `get_unit_and_type` describe a field: the unit in `meta.units[f]`; if
 * there is none, a field type that is itself a unit name (`"millisecond"`); a `"duration"` without a unit
 * is milliseconds; a `"rate"` of `epm()` is per minute. No unit found is an error naming the field, never
 * a guess.
 */
function unitOf(
  ctx: ParseContext,
  meta: EventsMeta,
  field: string,
  kind: 'duration' | 'rate',
): readonly [number, number] {
  const table = kind === 'duration' ? DURATION_UNIT_SECONDS : RATE_UNIT_PER_SECOND;
  const unit = meta.units[field];
  const type = meta.fields[field];
  if (typeof unit === 'string') {
    const factor = table[unit];
    if (factor === undefined) fail(ctx, `meta.units.${field}`, `a ${kind} unit`, unit);
    return factor;
  }
  if (typeof type === 'string') {
    const named = table[type];
    if (named !== undefined) return named;
    if (kind === 'duration' && type === 'duration') return DURATION_UNIT_SECONDS['millisecond']!;
    if (kind === 'rate' && type === 'rate' && PER_MINUTE_FUNCTIONS.has(field))
      return RATE_UNIT_PER_SECOND['1/minute']!;
    if (kind === 'rate' && type === 'rate' && PER_SECOND_FUNCTIONS.has(field))
      return RATE_UNIT_PER_SECOND['1/second']!;
  }
  fail(ctx, `meta.units.${field}`, `a ${kind} unit (or meta.fields.${field} naming one)`, unit ?? null);
}

/** A number or null; absent counts as null. NaN and infinities cannot come from JSON. */
function nullableNumber(ctx: ParseContext, o: JsonObject, key: string, path: string): number | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number') fail(ctx, join(path, key), 'a number or null', v);
  return v;
}

function convert(value: number, [multiplier, divisor]: readonly [number, number]): number {
  return divisor === 1 ? value * multiplier : value / divisor;
}

/**
 * A transaction table of `GET /organizations/{org}/events/`: `{data: [...], meta: {fields, units, dataset,
 * ...}}` (`handle_results_with_meta`, src/sentry/api/bases/organization_events.py). Rows are keyed by the
 * requested field strings. A body that is a bare array is the answer of 2022 releases when no project can be
 * queried (`except NoProjects: return Response([])`): no rows. Durations come back in seconds and `epm()`
 * per second, converted by the answer's units (`unitOf`); a malformed row is skipped when the caller allows
 * it, a meta that gives no unit for a value fails the answer.
 */
export function parseTransactionStats(
  fields: TransactionFields,
): (ctx: ParseContext, json: Json) => { dataset: string | undefined; rows: TransactionStats[] } {
  return (ctx, json) => {
    if (Array.isArray(json) && json.length === 0) return { dataset: undefined, rows: [] };
    const o = object(ctx, json, '');
    const metaJson = o['meta'] === undefined ? {} : object(ctx, o['meta'], 'meta');
    const dataset = metaJson['dataset'];
    if (dataset !== undefined && typeof dataset !== 'string') fail(ctx, 'meta.dataset', 'a string', dataset);
    const meta: EventsMeta = {
      fields: metaJson['fields'] === undefined ? {} : object(ctx, metaJson['fields'], 'meta.fields'),
      // `units` may be null in a reading of older code; treated as absent.
      units:
        metaJson['units'] === undefined || metaJson['units'] === null
          ? {}
          : object(ctx, metaJson['units'], 'meta.units'),
    };
    const data = array(ctx, o['data'], 'data');
    // The units of the answer, looked up only for fields some row has a value of: an empty answer may
    // carry no meta at all. A meta without a unit fails the answer (not one row).
    const valued = (field: string): boolean =>
      data.some((r) => isObject(r) && r[field] !== undefined && r[field] !== null);
    const rate = valued(fields.rate) ? unitOf(ctx, meta, fields.rate, 'rate') : undefined;
    const durations = fields.quantiles.map((f) => (valued(f) ? unitOf(ctx, meta, f, 'duration') : undefined));
    const rows = items(ctx, data, 'data', (row, p): TransactionStats => {
      const count = row[fields.count];
      if (typeof count !== 'number' || !Number.isFinite(count) || count < 0)
        fail(ctx, join(p, fields.count), 'a non-negative number', count);
      const epm = nullableNumber(ctx, row, fields.rate, p);
      const seconds = fields.quantiles.map((field, i) => {
        const v = nullableNumber(ctx, row, field, p);
        const unit = durations[i];
        return v === null || unit === undefined ? null : convert(v, unit);
      });
      const stats: TransactionStats = {
        project: string(ctx, row, fields.project, p),
        transaction: string(ctx, row, fields.transaction, p),
        count,
        perSecond: epm === null || rate === undefined ? null : convert(epm, rate),
        failureRatio: nullableNumber(ctx, row, fields.failureRate, p),
        seconds,
      };
      if (fields.environment !== undefined)
        stats.environment = nullableString(ctx, row, fields.environment, p);
      return stats;
    });
    return { dataset, rows };
  };
}
