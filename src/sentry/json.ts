/**
 * Reading Sentry's JSON: each reader checks one value and fails naming the endpoint and the field's path
 * (`[3].count`), or hands a malformed list item to the caller's `skip`. parse.ts builds the endpoints'
 * typed objects with them.
 */
import { SentryApiError } from './errors.js';

/** Where a parse happens: carried into every error. */
export interface ParseContext {
  /** Path template, e.g. `/organizations/{org}/issues/`. */
  endpoint: string;
  /** The URL asked, without its query: what messages name. */
  url?: string | undefined;
  project?: string | undefined;
  /**
   * Lists only: a malformed item is handed here and left out, instead of failing the whole answer. The
   * answer's envelope (not an array) still fails it.
   */
  skip?: ((problem: SentryApiError) => void) | undefined;
}

export type Json = unknown;
export type JsonObject = Record<string, Json>;

export function describe(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value.length > 40 ? `a string of ${value.length} chars` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function fail(ctx: ParseContext, path: string, expected: string, got: Json): never {
  const where = path === '' ? 'the body' : path;
  throw new SentryApiError(
    `Unexpected response from Sentry ${ctx.url ?? ctx.endpoint}: ${where} should be ${expected}, got ${describe(got)}`,
    { kind: 'parse', endpoint: ctx.endpoint, project: ctx.project },
  );
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
 * The items of a list answer. With `ctx.skip`, an item that is not what the endpoint documents is left
 * out and reported there; without it, it fails the whole answer.
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
  for (let i = 0; i < values.length; i++) {
    const path = `${at}[${i}]`;
    if (ctx.skip === undefined) {
      out.push(item(object(ctx, values[i], path), path));
      continue;
    }
    try {
      out.push(item(object(ctx, values[i], path), path));
    } catch (err) {
      if (!(err instanceof SentryApiError)) throw err;
      ctx.skip(err);
    }
  }
  return out;
}
