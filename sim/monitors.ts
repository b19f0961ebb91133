/**
 * Cron monitors: their generation from the seed and `GET /organizations/{org}/monitors/` as Sentry's code
 * answers it (src/sentry/monitors/endpoints/organization_monitor_index.py, src/sentry/monitors/serializers.py;
 * docs/sentry-api.md Part 3 §2):
 *
 * - monitors pending deletion are left out, and so are environments pending deletion;
 * - `environments` is an array (the spec says an object), possibly empty;
 * - offset pagination (`OffsetPaginator`: cursor `<per_page>:<page>:<is_prev>`), at most 100 per page;
 * - the default order is by the best environment status (error, ok, active, disabled; muted environments
 *   after those, a monitor whose environments are all muted after that, a disabled monitor last), then by
 *   the latest check-in, newest first; `sort=name` orders by name; `asc=0` reverses;
 * - current release: `isMuted` is computed (the monitor has environments and all are muted), `owner` and
 *   `activeIncident` are sent; older release: `isMuted` is the monitor's own flag, environments can also be
 *   `missed_checkin` or `timeout`, no `owner` nor `activeIncident`, slugs unique in the whole organization.
 */
import { DAY, HOUR, MINUTE, isoMs } from './durations.js';
import type {
  MonitorRelease,
  SimMonitor,
  SimMonitorEnvStatus,
  SimMonitorEnvironment,
  SimProject,
} from './entities.js';
import { HttpError, NOT_FOUND, PERMISSION_DENIED } from './http-error.js';
import { linkEntry } from './pagination.js';
import { Prng } from './prng.js';
import { projectJson } from './serialize.js';

const SLUGS = [
  'nightly-backup',
  'hourly-sync',
  'invoice-run',
  'cleanup-sessions',
  'send-digest',
  'reindex-search',
  'rotate-logs',
  'sitemap-build',
  'billing-close',
  'cache-warm',
  'export-reports',
  'purge-uploads',
];

const HIDDEN: ReadonlySet<SimMonitorEnvStatus> = new Set(['pending_deletion', 'deletion_in_progress']);

/** The environments Sentry lists: those not pending deletion. */
export function listedEnvironments(m: SimMonitor): SimMonitorEnvironment[] {
  return m.environments.filter((e) => !HIDDEN.has(e.status));
}

/** Whether Sentry lists the monitor at all. */
export function isListed(m: SimMonitor): boolean {
  return m.status === 'active' || m.status === 'disabled';
}

/** The monitor's `isMuted` as the release serializes it. */
export function monitorIsMuted(m: SimMonitor, release: MonitorRelease): boolean {
  if (release === 'older') return m.storedMuted;
  const envs = listedEnvironments(m);
  return envs.length > 0 && envs.every((e) => e.isMuted);
}

/**
 * Cases every organization with enough monitors has, in this order, before the random ones: each status,
 * a disabled monitor, one without environments, muted ones, environments and monitors pending deletion.
 */
type Scenario =
  | 'ok-error'
  | 'monitor-disabled'
  | 'no-environments'
  | 'all-muted'
  | 'one-muted'
  | 'never-checked-in'
  | 'env-pending-deletion'
  | 'monitor-pending-deletion'
  | 'env-disabled'
  | 'monitor-deletion-in-progress'
  | 'older-statuses'
  | 'older-monitor-muted'
  | 'random';

const SCENARIOS: Scenario[] = [
  'ok-error',
  'monitor-disabled',
  'no-environments',
  'all-muted',
  'one-muted',
  'never-checked-in',
  'env-pending-deletion',
  'monitor-pending-deletion',
  'env-disabled',
  'monitor-deletion-in-progress',
  'older-statuses',
  'older-monitor-muted',
];

function pickStatus(rng: Prng, release: MonitorRelease): SimMonitorEnvStatus {
  const r = rng.next();
  if (r < 0.55) return 'ok';
  if (r < 0.75) return 'error';
  if (r < 0.85) return 'active';
  if (r < 0.9) return 'disabled';
  if (release === 'older') return r < 0.95 ? 'missed_checkin' : 'timeout';
  return 'ok';
}

/** Check-in times for a status: never-checked-in environments have none; disabled ones stopped long ago. */
function checkIns(
  rng: Prng,
  status: SimMonitorEnvStatus,
  monitorDisabled: boolean,
  now: number,
): Pick<SimMonitorEnvironment, 'lastCheckInMs' | 'nextCheckInMs' | 'nextCheckInLatestMs'> {
  const period = rng.pick([5 * MINUTE, 15 * MINUTE, HOUR, DAY]);
  const margin = rng.pick([MINUTE, 5 * MINUTE, 10 * MINUTE]);
  if (status === 'active') {
    if (rng.chance(0.5)) return { lastCheckInMs: null, nextCheckInMs: null, nextCheckInLatestMs: null };
    const next = now + Math.floor(rng.range(MINUTE, period));
    return { lastCheckInMs: null, nextCheckInMs: next, nextCheckInLatestMs: next + margin };
  }
  // Disabled: Sentry stopped checking; the next expected check-in is long past.
  const stopped = monitorDisabled || status === 'disabled';
  const last = stopped
    ? now - Math.floor(rng.range(2 * DAY, 30 * DAY))
    : now - Math.floor(rng.range(10_000, period - 10_000));
  // Milliseconds that are not whole seconds, as real check-ins have.
  const lastMs = last - (last % 1000) + rng.int(1, 999);
  return {
    lastCheckInMs: lastMs,
    nextCheckInMs: lastMs + period,
    nextCheckInLatestMs: lastMs + period + margin,
  };
}

export function generateMonitors(opts: {
  seed: number;
  count: number;
  projects: readonly SimProject[];
  release: MonitorRelease;
  now: number;
}): SimMonitor[] {
  const { projects, release, now } = opts;
  const rng = new Prng(opts.seed ^ 0x5eed4);
  const withEnvironments = projects.filter((p) => p.visibleEnvironments.length > 0);
  if (projects.length === 0) return [];
  const usedSlugs = new Set<string>();
  const perProject = new Map<SimProject, number>();
  const monitors: SimMonitor[] = [];
  const scenarios = SCENARIOS.filter((s) => release === 'older' || !s.startsWith('older-'));
  for (let i = 0; i < opts.count; i++) {
    const scenario = scenarios[i] ?? 'random';
    // Scenarios need environments; the others spread over every project.
    const pool = scenario !== 'random' && withEnvironments.length > 0 ? withEnvironments : projects;
    const project = pool[i % pool.length] ?? projects[0]!;
    const n = perProject.get(project) ?? 0;
    perProject.set(project, n + 1);
    const base = SLUGS[n % SLUGS.length] ?? 'job';
    let slug = n < SLUGS.length ? base : `${base}-${Math.floor(n / SLUGS.length) + 1}`;
    // Slugs are unique per project now; older releases made them unique in the organization.
    if (release === 'older' && usedSlugs.has(slug)) slug = `${slug}-${rng.hex(6)}`;
    usedSlugs.add(slug);

    let status: SimMonitor['status'] = 'active';
    if (scenario === 'monitor-disabled') status = 'disabled';
    else if (scenario === 'monitor-pending-deletion') status = 'pending_deletion';
    else if (scenario === 'monitor-deletion-in-progress') status = 'deletion_in_progress';
    else if (scenario === 'random' && rng.chance(0.06)) status = 'disabled';

    const names = project.environments.filter((e) => !e.isHidden);
    let envCount = names.length === 0 ? 0 : rng.int(1, Math.min(3, names.length));
    if (scenario === 'no-environments' || (scenario === 'random' && rng.chance(0.05))) envCount = 0;
    if (['ok-error', 'one-muted', 'env-pending-deletion', 'older-statuses'].includes(scenario)) {
      envCount = Math.min(2, names.length);
    }
    const environments: SimMonitorEnvironment[] = [];
    for (let e = 0; e < envCount; e++) {
      const env = names[e];
      if (env === undefined) break;
      let envStatus = pickStatus(rng, release);
      if (scenario === 'ok-error') envStatus = e === 0 ? 'ok' : 'error';
      if (scenario === 'never-checked-in') envStatus = 'active';
      if (scenario === 'env-disabled' && e === 0) envStatus = 'disabled';
      if (scenario === 'older-statuses') envStatus = e === 0 ? 'missed_checkin' : 'timeout';
      if (scenario === 'monitor-disabled' && e === 0) envStatus = 'error';
      let isMuted = rng.chance(0.12);
      if (scenario === 'all-muted') isMuted = true;
      if (scenario === 'one-muted') isMuted = e === 0;
      if (scenario === 'older-monitor-muted') isMuted = false;
      const times = checkIns(rng, envStatus, status === 'disabled', now);
      environments.push({
        envId: Number(env.id),
        name: env.name,
        status: envStatus,
        isMuted,
        ...times,
        incidentStartMs:
          envStatus === 'error' && times.lastCheckInMs !== null ? times.lastCheckInMs - HOUR : null,
      });
    }
    if (scenario === 'env-pending-deletion' || (scenario === 'random' && envCount > 0 && rng.chance(0.04))) {
      // Another environment of the org, being deleted; muted like the others so that the computed isMuted
      // does not depend on whether Sentry counts it.
      environments.push({
        envId: 999_999,
        name: 'deleted-environment',
        status: rng.chance(0.5) ? 'pending_deletion' : 'deletion_in_progress',
        isMuted: environments.every((e) => e.isMuted),
        lastCheckInMs: now - 3 * DAY,
        nextCheckInMs: now - 2 * DAY,
        nextCheckInLatestMs: now - 2 * DAY + MINUTE,
        incidentStartMs: null,
      });
    }
    const storedMuted =
      scenario === 'older-monitor-muted' ? true : scenario === 'all-muted' ? true : rng.chance(0.08);
    const ownerKind = rng.next();
    const teamId = String(10 + (project.index % 5));
    monitors.push({
      index: i,
      guid: `${rng.hex(8)}-${rng.hex(4)}-4${rng.hex(3)}-a${rng.hex(3)}-${rng.hex(12)}`,
      slug,
      name: slug
        .split('-')
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
        .join(' '),
      project,
      status,
      storedMuted,
      owner:
        ownerKind < 0.4
          ? null
          : ownerKind < 0.7
            ? { type: 'team', id: teamId, name: project.team.slug }
            : {
                type: 'user',
                id: String(100 + rng.int(0, 20)),
                name: 'Ada Lovelace',
                email: 'ada@example.com',
              },
      config: {
        schedule_type: 'crontab',
        schedule: rng.pick(['*/5 * * * *', '0 * * * *', '30 2 * * *', '*/15 * * * *']),
        checkin_margin: rng.pick([1, 5, 10, null]),
        max_runtime: rng.pick([30, 60, null]),
        failure_issue_threshold: rng.pick([1, 2, null]),
        recovery_threshold: rng.pick([1, null]),
        // Monitors created without a time zone or an alert rule have neither key (docs/sentry-api.md §2.2).
        ...(rng.chance(0.6) ? { timezone: rng.pick(['UTC', 'Europe/Berlin', 'America/New_York']) } : {}),
        ...(rng.chance(0.3) ? { alert_rule_id: rng.int(1000, 9999) } : {}),
      },
      dateCreatedMs: now - (100 + i) * DAY,
      environments,
    });
  }
  return monitors;
}

function envRank(e: SimMonitorEnvironment): number {
  if (e.isMuted) return 4;
  switch (e.status) {
    case 'error':
    case 'missed_checkin':
    case 'timeout':
      return 0;
    case 'ok':
      return 1;
    case 'active':
      return 2;
    default:
      return 3;
  }
}

/** Sentry's default order key (`sort=status`): rank, then the latest check-in, newest first. */
function statusKey(m: SimMonitor, envs: SimMonitorEnvironment[], release: MonitorRelease): [number, number] {
  let rank: number;
  if (m.status === 'disabled') rank = 5;
  else if (release === 'older' ? m.storedMuted : envs.length > 0 && envs.every((e) => e.isMuted)) rank = 4;
  // No environment: the subquery is NULL, last in ascending order.
  else rank = envs.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...envs.map(envRank));
  // Descending with NULLs first (PostgreSQL's default for DESC).
  const latest = Math.max(...envs.map((e) => e.lastCheckInMs ?? Number.POSITIVE_INFINITY), -Infinity);
  return [rank, latest];
}

/** The order of `environments[]`: rank, then the latest check-in first (NULLs first), then environment id. */
function environmentOrder(envs: SimMonitorEnvironment[], release: MonitorRelease): SimMonitorEnvironment[] {
  const last = (e: SimMonitorEnvironment) => e.lastCheckInMs ?? Number.POSITIVE_INFINITY;
  return [...envs].sort((a, b) =>
    release === 'older'
      ? last(b) - last(a) || a.envId - b.envId
      : envRank(a) - envRank(b) || last(b) - last(a) || a.envId - b.envId,
  );
}

const FALSE_PROJECT_FLAGS = ['isInternal', 'isPublic'] as const;

/** The full `ProjectSerializer` object Sentry nests in each monitor (not the project summary). */
function monitorProjectJson(project: SimProject): Record<string, unknown> {
  const json = projectJson(project, false);
  for (const key of ['team', 'teams', 'platforms', 'latestRelease', 'latestDeploys', 'hasUserReports']) {
    delete json[key];
  }
  for (const flag of FALSE_PROJECT_FLAGS) json[flag] = false;
  json.hasMonitors = true;
  json.avatar = { avatarType: 'letter_avatar', avatarUuid: null, avatarUrl: null };
  json.color = '#3f70bf';
  json.status = 'active';
  return json;
}

const iso = (ms: number | null): string | null => (ms === null ? null : isoMs(ms));

function environmentJson(
  m: SimMonitor,
  e: SimMonitorEnvironment,
  release: MonitorRelease,
): Record<string, unknown> {
  const json: Record<string, unknown> = {
    name: e.name,
    status: e.status,
    isMuted: e.isMuted,
    // Sentry's quirk: the monitor's creation date, not the environment's.
    dateCreated: isoMs(m.dateCreatedMs),
    lastCheckIn: iso(e.lastCheckInMs),
    nextCheckIn: iso(e.nextCheckInMs),
    nextCheckInLatest: iso(e.nextCheckInLatestMs),
  };
  if (release === 'current') {
    json.activeIncident =
      e.incidentStartMs === null
        ? null
        : { startingTimestamp: isoMs(e.incidentStartMs), resolvingTimestamp: null, brokenNotice: null };
  }
  return json;
}

function monitorJson(
  m: SimMonitor,
  envs: SimMonitorEnvironment[],
  release: MonitorRelease,
): Record<string, unknown> {
  const json: Record<string, unknown> = {
    id: m.guid,
    status: m.status,
    isMuted: monitorIsMuted(m, release),
    type: 'cron_job',
    name: m.name,
    slug: m.slug,
    config: { ...m.config },
    dateCreated: isoMs(m.dateCreatedMs),
    project: monitorProjectJson(m.project),
    environments: environmentOrder(envs, release).map((e) => environmentJson(m, e, release)),
  };
  if (release === 'current') json.owner = m.owner === null ? null : { ...m.owner };
  return json;
}

export interface MonitorQuery {
  monitors: readonly SimMonitor[];
  release: MonitorRelease;
  projectsById: ReadonlyMap<string, SimProject>;
  orgEnvironments: ReadonlySet<string>;
  query: URLSearchParams;
  /** Absolute URL of the endpoint, for the Link header. */
  base: string;
}

/** `OffsetPaginator` cursor: value = page size, offset = page number; the page starts at offset × value. */
function readCursor(query: URLSearchParams): { limit: number; page: number; start: number } {
  let limit = 100;
  const size = query.get('per_page');
  if (size !== null) {
    if (!/^-?\d+$/.test(size)) throw new HttpError(400, 'Invalid per_page parameter.');
    limit = Number(size);
    if (limit < 1 || limit > 100)
      throw new HttpError(400, 'Invalid per_page value. Must be between 1 and 100.');
  }
  const cursor = query.get('cursor');
  if (cursor === null) return { limit, page: 0, start: 0 };
  const m = /^(\d+):(-?\d+):([01])$/.exec(cursor);
  if (!m) throw new HttpError(400, 'Invalid cursor parameter.');
  const page = Number(m[2]);
  if (page < 0) throw new HttpError(400, 'Pagination offset cannot be negative');
  return { limit, page, start: page * (Number(m[1]) || limit) };
}

/** `GET /organizations/{org}/monitors/`: the page of monitors and its `Link` header. */
export function listMonitors(q: MonitorQuery): { body: unknown[]; link: string } {
  const raw = q.query.getAll('project').filter((v) => v !== '');
  let projects: Set<SimProject> | undefined;
  if (raw.length > 0 && !raw.includes('-1')) {
    projects = new Set();
    for (const id of raw) {
      if (!/^-?\d+$/.test(id)) throw new HttpError(400, 'Invalid project parameter. Values must be numbers.');
      const project = q.projectsById.get(id);
      if (!project) throw new HttpError(403, PERMISSION_DENIED);
      projects.add(project);
    }
  }
  const environments = [...new Set(q.query.getAll('environment').filter((e) => e !== ''))];
  for (const env of environments) if (!q.orgEnvironments.has(env)) throw new HttpError(404, NOT_FOUND);
  const { limit, page, start } = readCursor(q.query);

  const shown = (m: SimMonitor): SimMonitorEnvironment[] =>
    listedEnvironments(m).filter((e) => environments.length === 0 || environments.includes(e.name));
  const rows = q.monitors
    .filter((m) => isListed(m) && (projects === undefined || projects.has(m.project)))
    // An environment filter keeps the monitors with one of those environments (pending deletion or not).
    .filter((m) => environments.length === 0 || m.environments.some((e) => environments.includes(e.name)))
    .map((m) => ({ m, envs: shown(m) }));

  const sort = q.query.get('sort') ?? 'status';
  if (sort === 'status') {
    const keys = new Map(rows.map((r) => [r.m, statusKey(r.m, r.envs, q.release)]));
    rows.sort((a, b) => {
      const [ra, la] = keys.get(a.m)!;
      const [rb, lb] = keys.get(b.m)!;
      return (
        (ra === rb ? 0 : ra < rb ? -1 : 1) || (la === lb ? 0 : la > lb ? -1 : 1) || a.m.index - b.m.index
      );
    });
  } else if (sort === 'name') {
    rows.sort((a, b) => (a.m.name < b.m.name ? -1 : a.m.name > b.m.name ? 1 : a.m.index - b.m.index));
  }
  // Any other value: no order (Sentry passes an empty order_by).
  if (q.query.get('asc') === '0') rows.reverse();

  const more = rows.length > start + limit;
  const link = [
    linkEntry(q.base, q.query, 'previous', page > 0, `${limit}:${page - 1}:1`),
    linkEntry(q.base, q.query, 'next', more, `${limit}:${page + 1}:0`),
  ].join(', ');
  const body = rows.slice(start, start + limit).map((r) => monitorJson(r.m, r.envs, q.release));
  return { body, link };
}
