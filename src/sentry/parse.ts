/**
 * Where Sentry's JSON becomes the typed objects of `types.ts` (the events endpoint's in parse-events.ts).
 *
 * Rule: a field the exporter needs that is present with the wrong type, or a required one that is missing,
 * is an error naming the endpoint and the field (`[3].count`), never a silently wrong metric. Fields that
 * older self-hosted Sentry versions do not send get a documented default instead (e.g. `isUnhandled`).
 */
import { SentryApiError } from './errors.js';
import {
  array,
  boolean,
  countField,
  fail,
  id,
  integer,
  isObject,
  items,
  join,
  list,
  nullableDate,
  nullableString,
  object,
  string,
  unique,
} from './json.js';
import type { Json, JsonObject, ParseContext } from './json.js';
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

/**
 * Sentry's `{"detail": "..."}` from an error body, when there is one; or its `{"message": "..."}`, which its
 * deprecated endpoints answer with 410 (src/sentry/api/helpers/deprecation.py `GONE_MESSAGE`).
 */
export function errorDetail(body: string): string | undefined {
  try {
    const json = JSON.parse(body) as Json;
    if (isObject(json)) {
      const d = json['detail'];
      if (typeof d === 'string') return d;
      if (isObject(d) && typeof d['message'] === 'string') return d['message'];
      if (typeof json['message'] === 'string') return json['message'];
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
    const all = items(ctx, array(ctx, o['groups'], 'groups'), 'groups', (g, path): StatsV2Group => {
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
    return { groups: unique(ctx, all, (g) => groupBy.map((k) => g[k] ?? '').join('\u0000')) };
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
    const groups = parseSessionGroups(fields)(ctx, json);
    return { intervals, groups, leftOut: array(ctx, o['groups'], 'groups').length - groups.length };
  };
}

/** The `groups` of a sessions answer (see parseSessions); a malformed group is left out as a list item is. */
export function parseSessionGroups(
  fields: readonly string[],
): (ctx: ParseContext, json: Json) => SessionGroup[] {
  return (ctx, json) => {
    const o = object(ctx, json, '');
    const all = items(ctx, array(ctx, o['groups'], 'groups'), 'groups', (go, path): SessionGroup => {
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
    return unique(ctx, all, sessionGroupKey);
  };
}

/** What identifies a sessions group: its `by` values. */
export function sessionGroupKey(g: SessionGroup): string {
  return `${g.project ?? ''}\u0000${g.environment ?? ''}\u0000${g.release ?? ''}\u0000${g.status ?? ''}`;
}
