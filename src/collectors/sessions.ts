import type { Logger } from 'pino';
import type { SentryApi, SessionsQuery } from '../sentry/api.js';
import { SentryApiError } from '../sentry/errors.js';
import type { SessionGroup, SessionsPage } from '../sentry/types.js';
import { allOrNothing } from './all-or-nothing.js';
import { refreshedEvery } from './collector.js';
import type { CollectContext, Collector, Family, ProjectInfo, Sample } from './collector.js';
import { NO_ENVIRONMENT } from './compat.js';

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Data points (groups × intervals) in one answer of Sentry's metrics layer (snuba/metrics/utils.py). */
const MAX_POINTS = 10_000;
/** The sessions paginator's default and largest page (sessions_v2.py SNUBA_LIMIT). */
const PAGE_LIMIT = 5000;
/** How much of an answer's group limit a planned batch may fill: room for environments that appear. */
const FILL = 0.9;
/** Characters of `&project=<id>` parameters in one URL, which keeps every URL well under 8 KB. */
const PROJECT_PARAM_BUDGET = 4000;
/** The same for the `release:[...]` condition of the per-release fallback. */
const RELEASE_QUERY_BUDGET = 3000;
/**
 * Completed days of the month are asked again after this long, not every run: only late sessions (an SDK
 * that was offline) still change them.
 */
const PAST_DAYS_TTL_MS = HOUR;

const SUM = 'sum(session)';
const CRASH_FREE_SESSIONS = 'crash_free_rate(session)';
const CRASH_FREE_USERS = 'crash_free_rate(user)';

/** Sessions of one status this calendar month (UTC). */
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

export interface ReleaseHealthOptions {
  api: SentryApi;
  logger: Logger;
  /** SENTRY_RELEASE_HEALTH_INTERVAL, seconds. */
  interval: number;
  /** SENTRY_RELEASE_HEALTH_RELEASES: releases per project with their own ratios; 0 turns them off. */
  releasesPerProject: number;
  /** SENTRY_EXPORTER_PROJECTS is set: queries always name their projects (never `project=-1`). */
  restrictedSelection: boolean;
}

type Kind = 'today' | 'past' | 'rates' | 'releases';

/** One logical query: its fields and grouping over a time range, split into as many requests as needed. */
interface Spec {
  kind: Kind;
  fields: string[];
  groupBy: SessionsQuery['groupBy'];
  /** Aligned to the interval. */
  start: number;
  /** The instant sent as `end`: now, or the last second before an interval boundary. */
  end: number;
  intervalMs: number;
  /** A `release:[...]` condition (per-release fallback). */
  query?: string;
}

interface Batch {
  projects: ProjectInfo[];
  /** Every project of an unrestricted selection: sent as `project=-1`, which keeps the URL short. */
  all: boolean;
}

/** What a run learns: groups per project in complete answers, which plans the next run's batches. */
type Observed = Map<Kind, Map<string, number>>;

/** Per run: requests sent, answers found cut and split again, groups seen per project in cut answers. */
interface RunState {
  signal: AbortSignal;
  requests: number;
  splits: number;
  seen: Map<string, number>;
  observed: Observed;
  /** Releases left out by the cap in the per-release fallback (counted there, not by the ranking). */
  droppedInFallback: number;
  /** Project ids refused (403) alone while the organization's sessions were readable: deleted or moved. */
  gone: Set<string>;
  /** Whether the token may read the organization's sessions at all (asked once, at the first 403). */
  access?: Promise<boolean>;
}

interface PastDays {
  monthStart: number;
  dayStart: number;
  fetchedAt: number;
  projectIds: Set<string>;
  groups: SessionGroup[];
}

const INTERVAL_TEXT: Record<number, string> = { [HOUR]: '1h', [DAY]: '1d' };

/** Intervals Sentry's answer spans: start floored and end ceiled to the interval (snuba/metrics/utils.py). */
function intervalsOf(start: number, end: number, intervalMs: number): number {
  return Math.max(1, Math.ceil(end / intervalMs) - Math.floor(start / intervalMs));
}

/**
 * Metric groups Sentry returns at most: ⌊10,000 ÷ len(intervals)⌋ (DeprecatingMetricsQuery.get_default_limit);
 * without session.status grouping the paginator also stops at 5,000 and then says so in `Link`.
 */
function groupLimit(intervals: number, byStatus: boolean): number {
  const limit = Math.max(1, Math.floor(MAX_POINTS / intervals));
  return byStatus ? limit : Math.min(limit, PAGE_LIMIT);
}

function groupKey(g: SessionGroup): string {
  return `${g.project ?? ''}\u0000${g.environment ?? ''}\u0000${g.release ?? ''}`;
}

/**
 * Whether Sentry cut the answer: a `Link` announcing more, or as many metric groups (project, environment,
 * release) as its limit allows. Grouped by session.status Sentry turns each metric group into one group per
 * status and its paginator then never announces a next page (it compares the output groups with
 * per_page + 1), so the count of metric groups is the only sign; an answer exactly at the limit counts as cut.
 */
function isCut(page: SessionsPage, byStatus: boolean): boolean {
  if (page.next !== undefined) return true;
  const keys = new Set(page.groups.map(groupKey));
  return keys.size >= groupLimit(page.intervals, byStatus);
}

/** `release:["a","b"]`, each version quoted (Sentry's search syntax). */
function releaseCondition(releases: readonly string[]): string {
  return `release:[${releases.map((r) => `"${r.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}]`;
}

/**
 * Release health from `GET /organizations/{org}/sessions/` (scope org:read), on its own interval
 * (SENTRY_RELEASE_HEALTH_INTERVAL, 300 s by default: Sentry aggregates sessions, they are not real-time):
 *
 * - `sentry_sessions_total`: sessions started this calendar month (UTC) per project, environment and every
 *   status Sentry reports, from `sum(session)` grouped by project, environment and session.status at
 *   interval=1d. Today's sessions are asked every run; the completed days of the month once an hour.
 * - `sentry_crash_free_sessions_ratio` / `_users_ratio`: `crash_free_rate(session)` and
 *   `crash_free_rate(user)` over the last 24 hours (from the start of the hour 24 hours ago, interval=1h),
 *   grouped by project and environment in their own query (Sentry refuses rate fields grouped by
 *   session.status). Where Sentry sends null (no sessions, or no users) there is no series.
 * - With SENTRY_RELEASE_HEALTH_RELEASES=N, the same two ratios per release for the N releases of each
 *   project with the most sessions in the last 24 hours (ties: the smaller version string), and a gauge of
 *   the releases the cap left out.
 *
 * Sentry answers at most 10,000 data points and drops the groups beyond ⌊10,000 ÷ intervals⌋ without a
 * word. Queries are therefore split into project batches planned from the groups each project had in the
 * last run, every answer is checked for the cut, and a cut answer is split again (one project alone: into
 * shorter time ranges, or per release) until no answer reaches the limit. No total is ever published from
 * a cut answer.
 */
export class ReleaseHealthCollector implements Collector<ReleaseHealthData> {
  readonly name = 'release_health';
  readonly interval: number;
  private observed: Observed = new Map();
  private past: PastDays | undefined;

  constructor(private readonly opts: ReleaseHealthOptions) {
    this.interval = opts.interval;
  }

  async collect({ projects, now, signal }: CollectContext): Promise<ReleaseHealthData> {
    const run: RunState = {
      signal,
      requests: 0,
      splits: 0,
      seen: new Map(),
      observed: new Map(),
      droppedInFallback: 0,
      gone: new Set(),
    };
    const d = new Date(now);
    const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    const dayStart = Math.floor(now / DAY) * DAY;
    const windowStart = Math.floor(now / HOUR) * HOUR - 24 * HOUR;
    const counts = { fields: [SUM], groupBy: ['project', 'environment', 'session.status'] as const };

    const jobs: Array<() => Promise<void>> = [];
    let today: SessionGroup[] = [];
    let past: SessionGroup[] = [];
    let rates: SessionGroup[] = [];
    let releases: SessionGroup[] = [];
    jobs.push(async () => {
      today = await this.fetch(
        run,
        { kind: 'today', ...counts, start: dayStart, end: now, intervalMs: DAY },
        projects,
      );
    });
    const cached = this.past;
    const pastFresh =
      cached !== undefined &&
      cached.monthStart === monthStart &&
      cached.dayStart === dayStart &&
      now - cached.fetchedAt < PAST_DAYS_TTL_MS &&
      projects.every((p) => cached.projectIds.has(p.id));
    if (dayStart > monthStart && !pastFresh) {
      jobs.push(async () => {
        // Up to the last second of yesterday: ceiled to the day, with or without the second some Sentry
        // releases add to an explicit end, the range stops at today 00:00.
        past = await this.fetch(
          run,
          { kind: 'past', ...counts, start: monthStart, end: dayStart - SECOND, intervalMs: DAY },
          projects,
        );
      });
    } else if (dayStart > monthStart && cached !== undefined) {
      past = cached.groups;
    }
    jobs.push(async () => {
      rates = await this.fetch(
        run,
        {
          kind: 'rates',
          fields: [CRASH_FREE_SESSIONS, CRASH_FREE_USERS],
          groupBy: ['project', 'environment'],
          start: windowStart,
          end: now,
          intervalMs: HOUR,
        },
        projects,
      );
    });
    if (this.opts.releasesPerProject > 0) {
      jobs.push(async () => {
        releases = await this.fetch(
          run,
          {
            kind: 'releases',
            fields: [SUM, CRASH_FREE_SESSIONS, CRASH_FREE_USERS],
            groupBy: ['project', 'environment', 'release'],
            start: windowStart,
            end: now,
            intervalMs: HOUR,
          },
          projects,
        );
      });
    }
    // Every request of the run goes with the same signal, which also fires as soon as one job fails.
    await allOrNothing(jobs, signal, (job, linked) => {
      run.signal = linked;
      return job();
    });

    // Published only once the whole run succeeded.
    for (const [kind, map] of run.observed) this.observed.set(kind, map);
    if (dayStart > monthStart && !pastFresh) {
      this.past = {
        monthStart,
        dayStart,
        fetchedAt: now,
        projectIds: new Set(projects.map((p) => p.id)),
        groups: past,
      };
    }
    this.opts.logger.debug(
      { collector: this.name, requests: run.requests, splits: run.splits, pastDaysReused: pastFresh },
      'release health collected',
    );
    if (run.gone.size > 0) {
      this.opts.logger.info(
        { collector: this.name, projectIds: [...run.gone].slice(0, 10), count: run.gone.size },
        'projects refused (403) since the project list was read (deleted, or no longer visible to the token); left out until the next project list',
      );
    }

    const byId = new Map(projects.map((p) => [p.id, p.slug]));
    const ranked = this.rankReleases(releases, byId);
    return {
      sessions: sessionCounts([...past, ...today], byId),
      crashFree: crashFreeRows(rates, byId),
      releases: ranked.rows,
      releasesDropped: ranked.dropped + run.droppedInFallback,
    };
  }

  render(data: ReleaseHealthData): Family[] {
    const every = refreshedEvery(this.interval);
    const env = (e: string): string => (e === '' ? NO_ENVIRONMENT : e);
    const families: Family[] = [
      {
        name: 'sentry_sessions_total',
        type: 'counter',
        help: `Release health sessions started this calendar month (UTC) per project, environment and session status (healthy, errored, crashed, abnormal, unhandled). Resets at the start of a month. ${every}`,
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
    if (this.opts.releasesPerProject > 0) {
      const n = this.opts.releasesPerProject;
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
  private rankReleases(
    groups: readonly SessionGroup[],
    byId: ReadonlyMap<string, string>,
  ): { rows: ReleaseCrashFreeRow[]; dropped: number } {
    const n = this.opts.releasesPerProject;
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
      const order = [...perRelease].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
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
        compare(a.project, b.project) ||
        compare(a.environment, b.environment) ||
        compare(a.release, b.release),
    );
    return { rows, dropped };
  }

  /** Every group of `spec` for `projects`, in as many requests as it takes for no answer to be cut. */
  private async fetch(run: RunState, spec: Spec, projects: readonly ProjectInfo[]): Promise<SessionGroup[]> {
    if (projects.length === 0) return [];
    const observed = new Map<string, number>();
    run.observed.set(spec.kind, observed);
    const batches = this.plan(run, spec, projects, !this.opts.restrictedSelection);
    const parts = await Promise.all(batches.map((b) => this.fetchBatch(run, spec, b, observed)));
    return parts.flat();
  }

  /** Groups a project is expected to have in `spec`'s answer: last run's count, else its environments. */
  private estimate(run: RunState, kind: Kind, p: ProjectInfo): number {
    const envs = Math.max(1, p.environments.length);
    const last = this.observed.get(kind)?.get(p.id);
    const seen = run.seen.get(`${kind}\u0000${p.id}`) ?? 0;
    return Math.max(last ?? (kind === 'releases' ? 2 * envs : envs), seen);
  }

  /**
   * Batches whose expected groups fill at most 90 % of the answer's limit and whose project ids fit the URL
   * budget. An unrestricted selection that fits in one answer is asked with `project=-1`.
   */
  private plan(run: RunState, spec: Spec, projects: readonly ProjectInfo[], allowAll: boolean): Batch[] {
    const byStatus = spec.groupBy.includes('session.status');
    const target = Math.max(
      1,
      Math.floor(FILL * (groupLimit(intervalsOf(spec.start, spec.end, spec.intervalMs), byStatus) - 1)),
    );
    const estimates = projects.map((p) => this.estimate(run, spec.kind, p));
    const total = estimates.reduce((a, b) => a + b, 0);
    if (allowAll && total <= target) return [{ projects: [...projects], all: true }];
    const batches: Batch[] = [];
    let current: ProjectInfo[] = [];
    let groups = 0;
    let chars = 0;
    projects.forEach((p, i) => {
      const est = estimates[i] ?? 1;
      const len = `&project=${p.id}`.length;
      if (current.length > 0 && (groups + est > target || chars + len > PROJECT_PARAM_BUDGET)) {
        batches.push({ projects: current, all: false });
        current = [];
        groups = 0;
        chars = 0;
      }
      current.push(p);
      groups += est;
      chars += len;
    });
    if (current.length > 0) batches.push({ projects: current, all: false });
    return batches;
  }

  private async fetchBatch(
    run: RunState,
    spec: Spec,
    batch: Batch,
    observed: Map<string, number>,
  ): Promise<SessionGroup[]> {
    const byStatus = spec.groupBy.includes('session.status');
    let page: SessionsPage;
    try {
      page = await this.request(
        run,
        spec,
        batch.all ? undefined : batch.projects.map((p) => p.id),
        batch.projects,
      );
    } catch (err) {
      return this.refused(err, run, spec, batch, observed);
    }
    if (!isCut(page, byStatus)) {
      const perProject = new Map<string, Set<string>>();
      for (const g of page.groups) {
        if (g.project === undefined) continue;
        const keys = perProject.get(g.project) ?? new Set<string>();
        keys.add(groupKey(g));
        perProject.set(g.project, keys);
      }
      for (const p of batch.projects) observed.set(p.id, perProject.get(p.id)?.size ?? 0);
      return page.groups;
    }
    run.splits++;
    // What the cut answer showed is a lower bound for the next plan.
    const perProject = new Map<string, Set<string>>();
    for (const g of page.groups) {
      if (g.project === undefined) continue;
      const keys = perProject.get(g.project) ?? new Set<string>();
      keys.add(groupKey(g));
      perProject.set(g.project, keys);
    }
    for (const [id, keys] of perProject) {
      const k = `${spec.kind}\u0000${id}`;
      run.seen.set(k, Math.max(run.seen.get(k) ?? 0, keys.size));
    }
    if (batch.projects.length > 1) {
      let parts = this.plan(run, spec, batch.projects, false);
      if (parts.length === 1) parts = halves(batch.projects);
      const groups = await Promise.all(parts.map((b) => this.fetchBatch(run, spec, b, observed)));
      return groups.flat();
    }
    const project = batch.projects[0];
    if (project === undefined) return [];
    observed.set(project.id, perProject.get(project.id)?.size ?? 0);
    return this.alone(run, spec, project, page);
  }

  /**
   * A 403 names no project: Sentry refuses the whole request when one listed project is no longer
   * accessible (src/sentry/api/bases/organization.py, get_projects), as when it was deleted after the project
   * list was read. When the token can read the organization's sessions at all (asked once per run, with
   * project=-1), the batch is halved until the refused projects are found and left out; otherwise (a token
   * without org:read) the refusal is the collector's error.
   */
  private async refused(
    err: unknown,
    run: RunState,
    spec: Spec,
    batch: Batch,
    observed: Map<string, number>,
  ): Promise<SessionGroup[]> {
    if (!(err instanceof SentryApiError && err.status === 403) || batch.all) throw err;
    run.access ??= this.request(run, { ...spec, groupBy: [] }, undefined, []).then(
      () => true,
      () => false,
    );
    if (!(await run.access)) throw err;
    if (batch.projects.length > 1) {
      const parts = await Promise.all(
        halves(batch.projects).map((b) => this.fetchBatch(run, spec, b, observed)),
      );
      return parts.flat();
    }
    for (const p of batch.projects) {
      run.gone.add(p.id);
      observed.set(p.id, 0);
    }
    return [];
  }

  /** One project's answer is cut even alone. */
  private async alone(
    run: RunState,
    spec: Spec,
    project: ProjectInfo,
    cut: SessionsPage,
  ): Promise<SessionGroup[]> {
    if (spec.kind === 'releases') return this.releasesOfOneProject(run, spec, project);
    const n = intervalsOf(spec.start, spec.end, spec.intervalMs);
    if (spec.kind === 'rates' || n <= 1) {
      throw new Error(
        `release health: Sentry's /organizations/{org}/sessions/ answer for project ${project.slug} reaches its limit of ${groupLimit(cut.intervals, spec.groupBy.includes('session.status'))} groups even for this project alone (${spec.fields.join(', ')} by ${spec.groupBy.join(', ')}); its numbers would be cut, so none are published`,
      );
    }
    // Session counts add up over time: split the range at an interval boundary.
    const mid = spec.start + Math.floor(n / 2) * spec.intervalMs;
    const only: Batch = { projects: [project], all: false };
    const observed = new Map<string, number>();
    const [a, b] = await Promise.all([
      this.fetchBatch(run, { ...spec, end: mid - SECOND }, only, observed),
      this.fetchBatch(run, { ...spec, start: mid }, only, observed),
    ]);
    return [...a, ...b];
  }

  /**
   * Per-release rates of a project with more environment × release groups than one answer holds: its
   * releases by sessions (a release-only query, which Sentry paginates correctly), then the rates of the top
   * N releases, named in a `release:[...]` condition and split until no answer is cut.
   */
  private async releasesOfOneProject(
    run: RunState,
    spec: Spec,
    project: ProjectInfo,
  ): Promise<SessionGroup[]> {
    const intervals = intervalsOf(spec.start, spec.end, spec.intervalMs);
    run.requests++;
    const list = await this.opts.api.listSessionGroups(
      {
        fields: [SUM],
        groupBy: ['release'],
        projectIds: [project.id],
        start: new Date(spec.start),
        end: new Date(spec.end),
        interval: INTERVAL_TEXT[spec.intervalMs] ?? '1h',
        orderBy: `-${SUM}`,
        perPage: Math.min(PAGE_LIMIT, Math.floor(MAX_POINTS / intervals) - 1),
      },
      { signal: run.signal, project: project.slug },
    );
    const sums = new Map<string, number>();
    for (const g of list) sums.set(g.release ?? '', (sums.get(g.release ?? '') ?? 0) + (g.totals[SUM] ?? 0));
    const order = [...sums].sort(([a, x], [b, y]) => y - x || compare(a, b)).map(([r]) => r);
    const top = order.slice(0, this.opts.releasesPerProject);
    run.droppedInFallback += order.length - top.length;
    const chunks: string[][] = [];
    let chunk: string[] = [];
    for (const r of top) {
      if (chunk.length > 0 && releaseCondition([...chunk, r]).length > RELEASE_QUERY_BUDGET) {
        chunks.push(chunk);
        chunk = [];
      }
      chunk.push(r);
    }
    if (chunk.length > 0) chunks.push(chunk);
    const parts = await Promise.all(chunks.map((c) => this.releaseRates(run, spec, project, c)));
    return parts.flat();
  }

  private async releaseRates(
    run: RunState,
    spec: Spec,
    project: ProjectInfo,
    releases: string[],
  ): Promise<SessionGroup[]> {
    const narrowed: Spec = {
      ...spec,
      groupBy: ['environment', 'release'],
      query: releaseCondition(releases),
    };
    const page = await this.request(run, narrowed, [project.id], [project]);
    if (!isCut(page, false)) return page.groups.map((g) => ({ ...g, project: project.id }));
    run.splits++;
    if (releases.length === 1) {
      throw new Error(
        `release health: Sentry's /organizations/{org}/sessions/ answer for release ${releases[0] ?? ''} of project ${project.slug} reaches its limit of ${groupLimit(page.intervals, false)} environments; its numbers would be cut, so none are published`,
      );
    }
    const half = Math.ceil(releases.length / 2);
    const [a, b] = await Promise.all([
      this.releaseRates(run, spec, project, releases.slice(0, half)),
      this.releaseRates(run, spec, project, releases.slice(half)),
    ]);
    return [...a, ...b];
  }

  private request(
    run: RunState,
    spec: Spec,
    projectIds: string[] | undefined,
    projects: readonly ProjectInfo[],
  ): Promise<SessionsPage> {
    run.requests++;
    const query: SessionsQuery = {
      fields: spec.fields,
      groupBy: spec.groupBy,
      start: new Date(spec.start),
      end: new Date(spec.end),
      interval: INTERVAL_TEXT[spec.intervalMs] ?? '1h',
      ...(projectIds === undefined ? {} : { projectIds }),
      ...(spec.query === undefined ? {} : { query: spec.query }),
    };
    return this.opts.api.getSessions(query, {
      signal: run.signal,
      ...(projects.length === 1 ? { project: projects[0]?.slug } : {}),
    });
  }
}

/** Two batches of about half the projects each. */
function halves(projects: readonly ProjectInfo[]): Batch[] {
  const half = Math.ceil(projects.length / 2);
  return [
    { projects: projects.slice(0, half), all: false },
    { projects: projects.slice(half), all: false },
  ];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sessions per project, environment and status, summed over the answers (days, time splits). */
function sessionCounts(
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
  return [...rows.values()].sort(
    (a, b) =>
      compare(a.project, b.project) || compare(a.environment, b.environment) || compare(a.status, b.status),
  );
}

function crashFreeRows(groups: readonly SessionGroup[], byId: ReadonlyMap<string, string>): CrashFreeRow[] {
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
  return rows.sort((a, b) => compare(a.project, b.project) || compare(a.environment, b.environment));
}
