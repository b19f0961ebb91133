/**
 * Reading Sentry's JSON: each reader checks one value and fails naming the endpoint and the field's path
 * (`[3].count`), or, for the items of a list, counts a malformed one in the caller's `ItemCheck`. parse.ts
 * builds the endpoints' typed objects with them.
 */
import { SentryApiError } from './errors.js';

/** Malformed items of one call described in full (URL and field); the others are only counted. */
export const SKIP_EXAMPLES = 3;

/**
 * The malformed items of one call (every page of a list walk): how many items were read, how many were
 * malformed and left out, and the first SKIP_EXAMPLES problems. Counting the rest costs no error object: a
 * hostile answer of a million malformed items is skipped in O(items) with a small constant.
 */
export class ItemCheck {
  items = 0;
  malformed = 0;
  readonly examples: SentryApiError[] = [];
}

/**
 * More than this share of the items of one call malformed fails the call: not a few odd items but a shape
 * the exporter does not know.
 */
export const MAX_MALFORMED_SHARE = 0.5;

/**
 * The error of a call with more than MAX_MALFORMED_SHARE of its items malformed, naming the endpoint and the
 * first bad field; undefined when the malformed items are few enough to be left out.
 */
export function malformedShare(ctx: ParseContext, check: ItemCheck): SentryApiError | undefined {
  const first = check.examples[0];
  if (first === undefined || check.malformed <= check.items * MAX_MALFORMED_SHARE) return undefined;
  const start = unexpected(ctx);
  const problem = first.message.startsWith(start) ? first.message.slice(start.length) : first.message;
  return new SentryApiError(
    `${start}${check.malformed} of ${check.items} items malformed, more than ${MAX_MALFORMED_SHARE * 100} %: the answer does not have the shape the exporter reads (has Sentry's API changed?); the first: ${problem}`,
    { kind: 'parse', endpoint: ctx.endpoint, project: ctx.project },
  );
}

/** Thrown by `fail` in place of an error while `ctx.quiet`: the item is only counted. */
const MALFORMED: unique symbol = Symbol('malformed item');

/** Where a parse happens: carried into every error. */
export interface ParseContext {
  /** Path template, e.g. `/organizations/{org}/issues/`. */
  endpoint: string;
  /** The URL asked, without its query: what messages name. */
  url?: string | undefined;
  project?: string | undefined;
  /**
   * Lists only: a malformed item is left out and counted here, instead of failing the whole answer. The
   * answer's envelope (not an array) still fails it. The caller decides what the count means (request.ts:
   * more than half of the items malformed fails the call).
   */
  check?: ItemCheck | undefined;
  /** Set by `items` once the check holds enough examples: `fail` then throws no error object. */
  quiet?: boolean;
  /** Groups an aggregate answer repeated, dropped by `unique` (the caller counts them). */
  repeated?: number;
}

export type Json = unknown;
export type JsonObject = Record<string, Json>;

export function describe(value: Json): string {
  if (value === undefined) return 'nothing (the field is absent)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value.length > 40 ? `a string of ${value.length} chars` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function fail(ctx: ParseContext, path: string, expected: string, got: Json): never {
  // Caught by `items`, never escapes it.
  if (ctx.quiet === true) throw MALFORMED;
  const where = path === '' ? 'the body' : path;
  throw new SentryApiError(`${unexpected(ctx)}${where} should be ${expected}, got ${describe(got)}`, {
    kind: 'parse',
    endpoint: ctx.endpoint,
    project: ctx.project,
  });
}

/** `Unexpected response from Sentry <url>: `, the start of every message about an answer's content. */
export function unexpected(ctx: Pick<ParseContext, 'url' | 'endpoint'>): string {
  return `Unexpected response from Sentry ${ctx.url ?? ctx.endpoint}: `;
}

export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

export function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function object(ctx: ParseContext, v: Json, path: string): JsonObject {
  if (!isObject(v)) fail(ctx, path, 'an object', v);
  return v;
}

export function array(ctx: ParseContext, v: Json, path: string): Json[] {
  if (!Array.isArray(v)) fail(ctx, path, 'an array', v);
  return v;
}

export function string(ctx: ParseContext, o: JsonObject, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string') fail(ctx, join(path, key), 'a string', v);
  return v;
}

/** `null` when absent or null; a string otherwise. */
export function nullableString(ctx: ParseContext, o: JsonObject, key: string, path: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') fail(ctx, join(path, key), 'a string or null', v);
  return v;
}

export function boolean(
  ctx: ParseContext,
  o: JsonObject,
  key: string,
  path: string,
  absent?: boolean,
): boolean {
  const v = o[key];
  if (v === undefined && absent !== undefined) return absent;
  if (typeof v !== 'boolean') fail(ctx, join(path, key), 'a boolean', v);
  return v;
}

/** Sentry ids are strings, a few (a key's `projectId`) integers; both become non-empty strings. */
export function id(ctx: ParseContext, o: JsonObject, key: string, path: string): string {
  const v = o[key];
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  fail(ctx, join(path, key), 'an id (non-empty string)', v);
}

export function integer(ctx: ParseContext, o: JsonObject, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(ctx, join(path, key), 'an integer', v);
  return v;
}

/**
 * Issue `count`: Sentry sends a string of digits ("42", `str(times_seen)`); a plain integer is accepted
 * too. A count past 2^53 ("9007199254740993") becomes the nearest double, as Prometheus stores every
 * value; it is not an error.
 */
export function countField(ctx: ParseContext, o: JsonObject, key: string, path: string): number {
  const v = o[key];
  if (typeof v === 'string' && /^\d{1,300}$/.test(v)) return Number(v);
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  fail(ctx, join(path, key), 'a non-negative integer string', v);
}

/** A timestamp the exporter computes with (`firstSeen`): null, or a string `Date.parse` understands. */
export function nullableDate(ctx: ParseContext, o: JsonObject, key: string, path: string): string | null {
  const v = nullableString(ctx, o, key, path);
  if (v !== null && Number.isNaN(Date.parse(v))) fail(ctx, join(path, key), 'a date or null', v);
  return v;
}

/**
 * The items of a list answer. With `ctx.check`, an item that is not what the endpoint documents is left
 * out and counted there; without it, it fails the whole answer.
 */
export function list<T>(ctx: ParseContext, json: Json, item: (o: JsonObject, path: string) => T): T[] {
  return items(ctx, array(ctx, json, ''), '', item);
}

/** The items of an array found at `at` (`''`: the body), each skipped or failing as `list` says. */
export function items<T>(
  ctx: ParseContext,
  values: readonly Json[],
  at: string,
  item: (o: JsonObject, path: string) => T,
): T[] {
  const out: T[] = [];
  const check = ctx.check;
  if (check === undefined) {
    for (let i = 0; i < values.length; i++) {
      const path = `${at}[${i}]`;
      out.push(item(object(ctx, values[i], path), path));
    }
    return out;
  }
  try {
    for (let i = 0; i < values.length; i++) {
      check.items++;
      ctx.quiet = check.examples.length >= SKIP_EXAMPLES;
      const path = `${at}[${i}]`;
      try {
        out.push(item(object(ctx, values[i], path), path));
      } catch (err) {
        if (err === MALFORMED) {
          check.malformed++;
          continue;
        }
        if (!(err instanceof SentryApiError)) throw err;
        check.malformed++;
        check.examples.push(err);
      }
    }
  } finally {
    ctx.quiet = false;
  }
  return out;
}

/**
 * The first of each group of `values` with the same `key`: an aggregate answer (stats_v2, sessions) holds
 * each combination of its `groupBy` values once, since Sentry builds its groups as the keys of a dict
 * (snuba/sessions_v2.py `massage_sessions_result`, which stats_v2's `massage_outcomes_result` uses too). A
 * repeat is the same group sent twice, so counting it again would double it; it is dropped and counted in
 * `ctx.repeated`.
 */
export function unique<T>(ctx: ParseContext, values: T[], key: (value: T) => string): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const v of values) {
    const k = key(v);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(v);
  }
  if (out.length < values.length) ctx.repeated = (ctx.repeated ?? 0) + values.length - out.length;
  return out;
}
