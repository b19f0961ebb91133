/**
 * Release health as exported: the rows a run of the release health collector (sessions.ts) yields from
 * Sentry's session groups, and their families.
 */
import type { SessionGroup } from '../sentry/types.js';
import { cycleWording } from './billing-cycle.js';
import { byCodeUnit, refreshedEvery } from './collector.js';
import type { Family, Sample } from './collector.js';
import { NO_ENVIRONMENT } from './compat.js';

export const SUM = 'sum(session)';
export const CRASH_FREE_SESSIONS = 'crash_free_rate(session)';
export const CRASH_FREE_USERS = 'crash_free_rate(user)';

/** Sessions of one status this billing cycle (by default the calendar month, UTC). */
export interface SessionCountRow {
  project: string;
  /** As Sentry sends it: '' for sessions without an environment. */
  environment: string;
  status: string;
  sessions: number;
}

/** Crash-free rates over the last 24 hours; null where Sentry sent null (no sessions, or no users). */
export interface CrashFreeRow {
  project: string;
  environment: string;
  sessions: number | null;
  users: number | null;
}

export interface ReleaseCrashFreeRow extends CrashFreeRow {
  release: string;
}

export interface ReleaseHealthData {
  sessions: SessionCountRow[];
  crashFree: CrashFreeRow[];
  /** Only the top SENTRY_RELEASE_HEALTH_RELEASES releases of each project. */
  releases: ReleaseCrashFreeRow[];
  /** Releases (project and version) with sessions in the last 24 hours that the cap left out. */
  releasesDropped: number;
}

export function releaseHealthFamilies(
  data: ReleaseHealthData,
  interval: number,
  releasesPerProject: number,
  cycleDay = 1,
): Family[] {
  const every = refreshedEvery(interval);
  const { period, reset } = cycleWording(cycleDay);
  const env = (e: string): string => (e === '' ? NO_ENVIRONMENT : e);
  const families: Family[] = [
    {
      name: 'sentry_sessions_total',
      type: 'counter',
      help: `Release health sessions started ${period} per project, environment and session status (healthy, errored, crashed, abnormal, unhandled). ${reset} ${every}`,
      samples: data.sessions.map((r) => ({
        name: 'sentry_sessions_total',
        labels: [
          ['project_slug', r.project],
          ['environment', env(r.environment)],
          ['status', r.status],
        ],
        value: r.sessions,
      })),
    },
  ];
  const ratio = (
    name: string,
    help: string,
    rows: readonly CrashFreeRow[],
    pick: (r: CrashFreeRow) => number | null,
    release: (r: CrashFreeRow) => string | undefined,
  ): Family => {
    const samples: Sample[] = [];
    for (const r of rows) {
      const value = pick(r);
      if (value === null) continue;
      const labels: Array<readonly [string, string]> = [
        ['project_slug', r.project],
        ['environment', env(r.environment)],
      ];
      const rel = release(r);
      if (rel !== undefined) labels.push(['release', rel]);
      samples.push({ name, labels, value });
    }
    return { name, type: 'gauge', help: `${help} ${every}`, samples };
  };
  const noRelease = (): undefined => undefined;
  const releaseOf = (r: CrashFreeRow): string => (r as ReleaseCrashFreeRow).release;
  families.push(
    ratio(
      'sentry_crash_free_sessions_ratio',
      'Share of sessions that did not crash over the last 24 hours (0..1), per project and environment, as Sentry computes crash_free_rate(session).',
      data.crashFree,
      (r) => r.sessions,
      noRelease,
    ),
    ratio(
      'sentry_crash_free_users_ratio',
      'Share of users without a crashed session over the last 24 hours (0..1), per project and environment, as Sentry computes crash_free_rate(user).',
      data.crashFree,
      (r) => r.users,
      noRelease,
    ),
  );
  if (releasesPerProject > 0) {
    const n = releasesPerProject;
    families.push(
      ratio(
        'sentry_release_crash_free_sessions_ratio',
        `crash_free_rate(session) over the last 24 hours of the ${n} releases of each project with the most sessions (SENTRY_RELEASE_HEALTH_RELEASES).`,
        data.releases,
        (r) => r.sessions,
        releaseOf,
      ),
      ratio(
        'sentry_release_crash_free_users_ratio',
        `crash_free_rate(user) over the last 24 hours of the ${n} releases of each project with the most sessions (SENTRY_RELEASE_HEALTH_RELEASES).`,
        data.releases,
        (r) => r.users,
        releaseOf,
      ),
      {
        name: 'sentry_exporter_release_health_releases_dropped',
        type: 'gauge',
        help: `Releases with sessions in the last 24 hours left out by SENTRY_RELEASE_HEALTH_RELEASES in the last run. ${every}`,
        samples: [
          {
            name: 'sentry_exporter_release_health_releases_dropped',
            labels: [],
            value: data.releasesDropped,
          },
        ],
      },
    );
  }
  return families;
}

/** Each project's releases by sessions over all environments; the top N keep their rows. */
export function rankReleases(
  groups: readonly SessionGroup[],
  byId: ReadonlyMap<string, string>,
  n: number,
): { rows: ReleaseCrashFreeRow[]; dropped: number } {
  const totals = new Map<string, Map<string, number>>();
  for (const g of groups) {
    if (g.project === undefined || !byId.has(g.project)) continue;
    const perRelease = totals.get(g.project) ?? new Map<string, number>();
    const release = g.release ?? '';
    perRelease.set(release, (perRelease.get(release) ?? 0) + (g.totals[SUM] ?? 0));
    totals.set(g.project, perRelease);
  }
  const kept = new Set<string>();
  let dropped = 0;
  for (const [project, perRelease] of totals) {
    const order = [...perRelease].sort(([a, x], [b, y]) => y - x || byCodeUnit(a, b));
    order.slice(0, n).forEach(([release]) => kept.add(`${project}\u0000${release}`));
    dropped += Math.max(0, order.length - n);
  }
  const rows: ReleaseCrashFreeRow[] = [];
  for (const g of groups) {
    const slug = g.project === undefined ? undefined : byId.get(g.project);
    if (slug === undefined || !kept.has(`${g.project}\u0000${g.release ?? ''}`)) continue;
    rows.push({
      project: slug,
      environment: g.environment ?? '',
      release: g.release ?? '',
      sessions: g.totals[CRASH_FREE_SESSIONS] ?? null,
      users: g.totals[CRASH_FREE_USERS] ?? null,
    });
  }
  rows.sort(
    (a, b) =>
      byCodeUnit(a.project, b.project) ||
      byCodeUnit(a.environment, b.environment) ||
      byCodeUnit(a.release, b.release),
  );
  return { rows, dropped };
}

/** Sessions per project, environment and status, summed over the answers (days, time splits). */
export function sessionCounts(
  groups: readonly SessionGroup[],
  byId: ReadonlyMap<string, string>,
): SessionCountRow[] {
  const rows = new Map<string, SessionCountRow>();
  for (const g of groups) {
    const slug = g.project === undefined ? undefined : byId.get(g.project);
    if (slug === undefined || g.status === undefined) continue; // a project outside the selection
    const environment = g.environment ?? '';
    const key = `${slug}\u0000${environment}\u0000${g.status}`;
    const row = rows.get(key);
    const sessions = g.totals[SUM] ?? 0;
    if (row) row.sessions += sessions;
    else rows.set(key, { project: slug, environment, status: g.status, sessions });
  }
  return [...rows.values()].sort(bySessionRow);
}

export function crashFreeRows(
  groups: readonly SessionGroup[],
  byId: ReadonlyMap<string, string>,
): CrashFreeRow[] {
  const rows: CrashFreeRow[] = [];
  for (const g of groups) {
    const slug = g.project === undefined ? undefined : byId.get(g.project);
    if (slug === undefined) continue;
    rows.push({
      project: slug,
      environment: g.environment ?? '',
      sessions: g.totals[CRASH_FREE_SESSIONS] ?? null,
      users: g.totals[CRASH_FREE_USERS] ?? null,
    });
  }
  return rows.sort((a, b) => byCodeUnit(a.project, b.project) || byCodeUnit(a.environment, b.environment));
}

/** Session counts in the order of project slug, environment and status. */
export function bySessionRow(a: SessionCountRow, b: SessionCountRow): number {
  return (
    byCodeUnit(a.project, b.project) ||
    byCodeUnit(a.environment, b.environment) ||
    byCodeUnit(a.status, b.status)
  );
}
