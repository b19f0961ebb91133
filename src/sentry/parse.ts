/**
 * The one place where Sentry's JSON becomes the typed objects of `types.ts`.
 *
 * Rule: a field the exporter needs that is present with the wrong type, or a required one that is missing,
 * is an error naming the endpoint and the field (`[3].count`), never a silently wrong metric. Fields that
 * older self-hosted Sentry versions do not send get a documented default instead (e.g. `isUnhandled`).
 */
import { SentryApiError } from './errors.js';
import type {
  CurrentReleaseVersion,
  SentryEnvironment,
  SentryIssue,
  SentryMonitor,
  SentryMonitorEnvironment,
  SentryProject,
  SentryProjectKey,
  SessionGroup,
  SessionsPage,
  StatsGroupBy,
  StatsV2,
  StatsV2Group,
} from './types.js';

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

type Json = unknown;
type JsonObject = Record<string, Json>;

function describe(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value.length > 40 ? `a string of ${value.length} chars` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function fail(ctx: ParseContext, path: string, expected: string, got: Json): never {
  const where = path === '' ? 'the body' : path;
  throw new SentryApiError(
    `Unexpected response from Sentry ${ctx.url ?? ctx.endpoint}: ${where} should be ${expected}, got ${describe(got)}`,
    { kind: 'parse', endpoint: ctx.endpoint, project: ctx.project },
  );
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function object(ctx: ParseContext, v: Json, path: string): JsonObject {
  if (!isObject(v)) fail(ctx, path, 'an object', v);
  return v;
}

function array(ctx: ParseContext, v: Json, path: string): Json[] {
  if (!Array.isArray(v)) fail(ctx, path, 'an array', v);
  return v;
}

function string(ctx: ParseContext, o: JsonObject, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string') fail(ctx, join(path, key), 'a string', v);
  return v;
}

/** `null` when absent or null; a string otherwise. */
function nullableString(ctx: ParseContext, o: JsonObject, key: string, path: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') fail(ctx, join(path, key), 'a string or null', v);
  return v;
}

function boolean(ctx: ParseContext, o: JsonObject, key: string, path: string, absent?: boolean): boolean {
  const v = o[key];
  if (v === undefined && absent !== undefined) return absent;
  if (typeof v !== 'boolean') fail(ctx, join(path, key), 'a boolean', v);
  return v;
}

/** Sentry ids are strings, a few (a key's `projectId`) integers; both become non-empty strings. */
function id(ctx: ParseContext, o: JsonObject, key: string, path: string): string {
  const v = o[key];
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  fail(ctx, join(path, key), 'an id (non-empty string)', v);
}

function integer(ctx: ParseContext, o: JsonObject, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(ctx, join(path, key), 'an integer', v);
  return v;
}

/**
 * Issue `count`: Sentry sends a string of digits ("42", `str(times_seen)`); a plain integer is accepted
 * too. A count past 2^53 ("9007199254740993") becomes the nearest double, as Prometheus stores every
 * value; it is not an error.
 */
function countField(ctx: ParseContext, o: JsonObject, key: string, path: string): number {
  const v = o[key];
  if (typeof v === 'string' && /^\d{1,300}$/.test(v)) return Number(v);
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  fail(ctx, join(path, key), 'a non-negative integer string', v);
}

/** A timestamp the exporter computes with (`firstSeen`): null, or a string `Date.parse` understands. */
function nullableDate(ctx: ParseContext, o: JsonObject, key: string, path: string): string | null {
  const v = nullableString(ctx, o, key, path);
  if (v !== null && Number.isNaN(Date.parse(v))) fail(ctx, join(path, key), 'a date or null', v);
  return v;
}

/**
 * The items of a list answer. With `ctx.skip`, an item that is not what the endpoint documents is left
 * out and reported there; without it, it fails the whole answer.
 */
function list<T>(ctx: ParseContext, json: Json, item: (o: JsonObject, path: string) => T): T[] {
  return items(ctx, array(ctx, json, ''), '', item);
}

/** The items of an array found at `at` (`''`: the body), each skipped or failing as `list` says. */
function items<T>(
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

/** Parses a response body; a body that is not JSON at all (HTML error page, truncation) is a parse error. */
export function parseJsonBody(ctx: ParseContext, body: string, contentType: string | undefined): Json {
  try {
    return JSON.parse(body) as Json;
  } catch {
    const what =
      body.trim() === '' ? 'an empty body' : `${body.length} bytes of ${contentType ?? 'unknown type'}`;
    throw new SentryApiError(
      `Unexpected response from Sentry ${ctx.url ?? ctx.endpoint}: expected JSON, got ${what}`,
      {
        kind: 'parse',
        endpoint: ctx.endpoint,
        project: ctx.project,
      },
    );
  }
}

/** Sentry's `{"detail": "..."}` from an error body, when there is one. */
export function errorDetail(body: string): string | undefined {
  try {
    const json = JSON.parse(body) as Json;
    if (isObject(json)) {
      const d = json['detail'];
      if (typeof d === 'string') return d;
      if (isObject(d) && typeof d['message'] === 'string') return d['message'];
    }
  } catch {
    // Not JSON (a proxy's HTML page): there is no detail to report.
  }
  return undefined;
}

/** The API index (src/sentry/api/endpoints/index.py): only that it is Sentry's, `version` "0". */
export function parseApiIndex(ctx: ParseContext, json: Json): true {
  const o = object(ctx, json, '');
  if (o['version'] !== '0') fail(ctx, 'version', '"0"', o['version']);
  return true;
}

export function parseProjects(ctx: ParseContext, json: Json): SentryProject[] {
  return list(ctx, json, (o, p) => {
    const envs = o['environments'];
    let environments: string[] | undefined;
    if (envs !== undefined && envs !== null) {
      environments = array(ctx, envs, `${p}.environments`).map((e, i) => {
        if (typeof e !== 'string') fail(ctx, `${p}.environments[${i}]`, 'a string', e);
        return e;
      });
    }
    // `platform` (string or null) and `teams` (`[{id, slug, name}]`, [] without a team) are in every project
    // summary since 2020 (ProjectSummarySerializer); a server that leaves them out gets null and [].
    const platform = nullableString(ctx, o, 'platform', p);
    const teamList =
      o['teams'] === undefined || o['teams'] === null ? [] : array(ctx, o['teams'], `${p}.teams`);
    const teams = teamList.map((t, i) => {
      const at = `${p}.teams[${i}]`;
      return string(ctx, object(ctx, t, at), 'slug', at);
    });
    return { id: id(ctx, o, 'id', p), slug: string(ctx, o, 'slug', p), environments, platform, teams };
  });
}

export function parseEnvironments(ctx: ParseContext, json: Json): SentryEnvironment[] {
  return list(ctx, json, (o, p) => ({ name: string(ctx, o, 'name', p) }));
}

export function parseIssues(ctx: ParseContext, json: Json): SentryIssue[] {
  return list(ctx, json, (o, p) => {
    const project = object(ctx, o['project'], `${p}.project`);
    return {
      id: id(ctx, o, 'id', p),
      projectSlug: string(ctx, project, 'slug', `${p}.project`),
      logger: nullableString(ctx, o, 'logger', p),
      level: string(ctx, o, 'level', p),
      status: string(ctx, o, 'status', p),
      platform: nullableString(ctx, o, 'platform', p),
      isUnhandled: boolean(ctx, o, 'isUnhandled', p, false),
      count: countField(ctx, o, 'count', p),
      firstSeen: nullableDate(ctx, o, 'firstSeen', p),
      lastSeen: nullableString(ctx, o, 'lastSeen', p),
    };
  });
}

function projectKey(ctx: ParseContext, o: JsonObject, p: string): SentryProjectKey {
  const rl = o['rateLimit'];
  let rateLimit: SentryProjectKey['rateLimit'] = null;
  if (rl !== undefined && rl !== null) {
    const r = object(ctx, rl, `${p}.rateLimit`);
    rateLimit = {
      window: integer(ctx, r, 'window', `${p}.rateLimit`),
      count: integer(ctx, r, 'count', `${p}.rateLimit`),
    };
  }
  return { isActive: boolean(ctx, o, 'isActive', p), rateLimit };
}

/** A project's keys: the project is known, so `projectId` is not read. */
export function parseProjectKeys(ctx: ParseContext, json: Json): SentryProjectKey[] {
  return list(ctx, json, (o, p) => projectKey(ctx, o, p));
}

/** The organization's keys: each must name its project. */
export function parseOrganizationProjectKeys(
  ctx: ParseContext,
  json: Json,
): Array<SentryProjectKey & { projectId: string }> {
  return list(ctx, json, (o, p) => ({ ...projectKey(ctx, o, p), projectId: id(ctx, o, 'projectId', p) }));
}

/**
 * Only `groups[].by` and `groups[].totals` are read: grouped by project, Sentry sends no `intervals` and no
 * `series` (organization_stats_v2.py; snuba/outcomes.py `massage_outcomes_result`), older releases did.
 */
export function parseStatsV2(groupBy: readonly StatsGroupBy[]): (ctx: ParseContext, json: Json) => StatsV2 {
  return (ctx, json) => {
    const o = object(ctx, json, '');
    const groups = items(ctx, array(ctx, o['groups'], 'groups'), 'groups', (g, path): StatsV2Group => {
      const by = object(ctx, g['by'], `${path}.by`);
      const totals = object(ctx, g['totals'], `${path}.totals`);
      const quantity = totals['sum(quantity)'];
      if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 0)
        fail(ctx, `${path}.totals.sum(quantity)`, 'a non-negative integer', quantity);
      const group: StatsV2Group = { quantity };
      for (const key of groupBy) {
        const at = `${path}.by`;
        // Sentry names a group without a reason "none" (snuba/outcomes.py ReasonDimension); null is read so.
        if (key === 'reason' && by['reason'] === null) group.reason = 'none';
        else group[key] = key === 'project' ? id(ctx, by, key, at) : string(ctx, by, key, at);
      }
      return group;
    });
    return { groups };
  };
}

export function parseCurrentRelease(ctx: ParseContext, json: Json): CurrentReleaseVersion {
  const o = object(ctx, json, '');
  if (!('currentRelease' in o)) fail(ctx, 'currentRelease', 'present (null or an object)', undefined);
  const cr = o['currentRelease'];
  if (cr === null) return null;
  const release = object(ctx, object(ctx, cr, 'currentRelease')['release'], 'currentRelease.release');
  return string(ctx, release, 'version', 'currentRelease.release');
}

/** ISO 8601 with a UTC designator or offset, as Sentry writes datetimes: fractions beyond ms are kept. */
const ISO_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;

/** Unix seconds of an ISO timestamp; `null` when absent or null. A time without its zone is rejected. */
function nullableTimestamp(ctx: ParseContext, o: JsonObject, key: string, path: string): number | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  const m = typeof v === 'string' ? ISO_TIMESTAMP.exec(v) : null;
  const whole = m ? Date.parse(`${m[1]}${m[3]}`) : Number.NaN;
  if (!m || Number.isNaN(whole))
    fail(ctx, join(path, key), 'an ISO 8601 timestamp with a time zone, or null', v);
  // Read as one decimal number: the nearest double to the exact time, as `ms / 1000` is for milliseconds.
  if (m[2] === undefined) return whole / 1000;
  return whole >= 0 ? Number(`${whole / 1000}.${m[2]}`) : whole / 1000 + Number(`0.${m[2]}`);
}

function monitorEnvironment(ctx: ParseContext, o: JsonObject, p: string): SentryMonitorEnvironment {
  return {
    name: string(ctx, o, 'name', p),
    status: string(ctx, o, 'status', p),
    isMuted: boolean(ctx, o, 'isMuted', p, false),
    lastCheckIn: nullableTimestamp(ctx, o, 'lastCheckIn', p),
    nextCheckInLatest: nullableTimestamp(ctx, o, 'nextCheckInLatest', p),
  };
}

/**
 * Cron monitors. `environments` is an array (the spec says an object); `isMuted` of the monitor and of each
 * environment count as false when absent. Other fields (config, owner, activeIncident) are not read.
 */
export function parseMonitors(ctx: ParseContext, json: Json): SentryMonitor[] {
  return list(ctx, json, (o, p) => {
    const project = object(ctx, o['project'], `${p}.project`);
    return {
      id: id(ctx, o, 'id', p),
      slug: string(ctx, o, 'slug', p),
      status: string(ctx, o, 'status', p),
      isMuted: boolean(ctx, o, 'isMuted', p, false),
      projectId: id(ctx, project, 'id', `${p}.project`),
      projectSlug: string(ctx, project, 'slug', `${p}.project`),
      environments: array(ctx, o['environments'], `${p}.environments`).map((e, i) => {
        const path = `${p}.environments[${i}]`;
        return monitorEnvironment(ctx, object(ctx, e, path), path);
      }),
    };
  });
}

/** `by` values of a sessions group: absent or a string (an integer for `project`). */
function sessionBy(ctx: ParseContext, by: JsonObject, key: string, path: string): string | undefined {
  const v = by[key];
  if (v === undefined) return undefined;
  if (key === 'project') return id(ctx, by, key, path);
  if (typeof v !== 'string') fail(ctx, join(path, key), 'a string', v);
  return v;
}

/**
 * `GET /organizations/{org}/sessions/` (organization_sessions.py; release_health/metrics_sessions_v2.py
 * run_sessions_query): `intervals` is read for its length, `groups[].by` for the groupBy values and
 * `groups[].totals` for the requested `fields` only; `series` is never read. `sum(session)` and
 * `count_unique(user)` are non-negative integers; a rate is a number from 0 to 1, or null when the group has
 * no sessions (or no users).
 */
export function parseSessions(
  fields: readonly string[],
): (ctx: ParseContext, json: Json) => Omit<SessionsPage, 'next'> {
  return (ctx, json) => {
    const o = object(ctx, json, '');
    const intervals = array(ctx, o['intervals'], 'intervals').length;
    return { intervals, groups: parseSessionGroups(fields)(ctx, json) };
  };
}

/** The `groups` of a sessions answer (see parseSessions). */
export function parseSessionGroups(
  fields: readonly string[],
): (ctx: ParseContext, json: Json) => SessionGroup[] {
  return (ctx, json) => {
    const o = object(ctx, json, '');
    return array(ctx, o['groups'], 'groups').map((g, i): SessionGroup => {
      const path = `groups[${i}]`;
      const go = object(ctx, g, path);
      const by = object(ctx, go['by'], `${path}.by`);
      const totalsIn = object(ctx, go['totals'], `${path}.totals`);
      const totals: Record<string, number | null> = {};
      for (const field of fields) {
        const v = totalsIn[field];
        const where = `${path}.totals["${field}"]`;
        if (field === 'sum(session)' || field === 'count_unique(user)') {
          if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
            fail(ctx, where, 'a non-negative integer', v);
          totals[field] = v;
        } else if (v === null) {
          totals[field] = null;
        } else {
          if (typeof v !== 'number' || !(v >= 0 && v <= 1))
            fail(ctx, where, 'a number from 0 to 1 or null', v);
          totals[field] = v;
        }
      }
      return {
        project: sessionBy(ctx, by, 'project', `${path}.by`),
        environment: sessionBy(ctx, by, 'environment', `${path}.by`),
        release: sessionBy(ctx, by, 'release', `${path}.by`),
        status: sessionBy(ctx, by, 'session.status', `${path}.by`),
        totals,
      };
    });
  };
}
