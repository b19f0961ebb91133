import { setMaxListeners } from 'node:events';
import { boolean, duration, number } from '../config/formats.js';
import { setting } from '../config/settings.js';
import type { SessionsQuery } from '../sentry/api.js';
import { ENDPOINTS } from '../sentry/endpoints.js';
import { SentryApiError } from '../sentry/errors.js';
import type { SkippedItems } from '../sentry/skipped.js';
import type { SessionGroup, SessionsPage } from '../sentry/types.js';
import { billingCycle } from './billing-cycle.js';
import { byCodeUnit, defineCollector } from './collector.js';
import type { CollectContext, Collector, CollectorDeps, Family, ProjectInfo } from './collector.js';
import { CarryOver } from './carry-over.js';
import { CutSafePlanner, REFUSED_FOR_MS } from './planner.js';
import {
  CRASH_FREE_SESSIONS,
  CRASH_FREE_USERS,
  SUM,
  bySessionRow,
  crashFreeRows,
  rankReleases,
  releaseHealthFamilies,
  sessionCounts,
} from './release-health.js';
import type { ReleaseHealthData, SessionCountRow } from './release-health.js';
import type { CutSafeQuery, PlannerRun } from './planner.js';

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Data points (groups × intervals) in one answer of Sentry's metrics layer (snuba/metrics/utils.py). */
const MAX_POINTS = 10_000;
/** The sessions paginator's default and largest page (sessions_v2.py SNUBA_LIMIT). */
const PAGE_LIMIT = 5000;
/** How much of an answer's group limit a planned batch may fill: room for environments that appear. */
const FILL = 0.9;
/** Characters of the `release:[...]` condition of the per-release fallback: its URL stays well under 8 KB. */
const RELEASE_QUERY_BUDGET = 3000;
/**
 * Completed days of the billing cycle are asked again after this long, not every run: only late sessions
 * (an SDK that was offline) still change them.
 */
const PAST_DAYS_TTL_MS = HOUR;

export interface ReleaseHealthOptions {
  /** SENTRY_RELEASE_HEALTH_INTERVAL, seconds. */
  interval: number;
  /** SENTRY_RELEASE_HEALTH_RELEASES: releases per project with their own ratios; 0 turns them off. */
  releasesPerProject: number;
  /** SENTRY_EXPORTER_PROJECTS is set: queries always name their projects (never `project=-1`). */
  restrictedSelection: boolean;
  /** SENTRY_BILLING_CYCLE_DAY: sentry_sessions_total counts from this day of the month (default 1). */
  cycleDay?: number;
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
  /** Part of a cut answer's time range: asked of one project, its groups not remembered for the plan. */
  part?: boolean;
}

/** Per run, besides the planner's state. */
interface RunState {
  planner: PlannerRun;
  skipped: SkippedItems;
  /** Releases left out by the cap in the per-release fallback (counted there, not by the ranking). */
  droppedInFallback: number;
}

/** The completed days of the current billing cycle, as last asked. */
interface PastDays {
  cycleStart: number;
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

/** Metric groups (project, environment, release) per project id. */
function groupsPerProject(page: SessionsPage): Map<string, number> {
  const keys = new Map<string, Set<string>>();
  for (const g of page.groups) {
    if (g.project === undefined) continue;
    const set = keys.get(g.project) ?? new Set<string>();
    set.add(groupKey(g));
    keys.set(g.project, set);
  }
  return new Map([...keys].map(([id, set]) => [id, set.size]));
}

/**
 * Whether Sentry cut the answer: a `Link` announcing more, or as many metric groups (project, environment,
 * release) as its limit allows. Grouped by session.status Sentry turns each metric group into one group per
 * status and its paginator then never announces a next page (it compares the output groups with
 * per_page + 1), so the count of metric groups is the only sign; an answer exactly at the limit counts as cut.
 * A group left out of the answer (malformed) counts as a metric group of its own: a cut answer never passes
 * as whole for missing one.
 */
function isCut(page: SessionsPage, byStatus: boolean): boolean {
  if (page.next !== undefined) return true;
  const keys = new Set(page.groups.map(groupKey));
  return keys.size + page.leftOut >= groupLimit(page.intervals, byStatus);
}

/** `release:["a","b"]`, each version quoted (Sentry's search syntax). */
function releaseCondition(releases: readonly string[]): string {
  return `release:[${releases.map((r) => `"${r.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}]`;
}

/**
 * Release health from `GET /organizations/{org}/sessions/` (scope org:read), on its own interval
 * (SENTRY_RELEASE_HEALTH_INTERVAL, 300 s by default: Sentry aggregates sessions, they are not real-time):
 *
 * - `sentry_sessions_total`: sessions started this billing cycle (SENTRY_BILLING_CYCLE_DAY; by default the
 *   calendar month, UTC) per project, environment and every status Sentry reports, from `sum(session)`
 *   grouped by project, environment and session.status at interval=1d. Today's sessions are asked every
 *   run; the completed days of the cycle (one range, also when it started the month before) once an hour.
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
  private readonly planner = new CutSafePlanner();
  private readonly carry = new CarryOver<SessionCountRow>(
    {
      project: (r) => r.project,
      series: (r) => `${r.environment}\u0000${r.status}`,
      value: (r) => r.sessions,
      withValue: (r, sessions) => ({ ...r, sessions }),
    },
    REFUSED_FOR_MS,
  );
  private past: PastDays | undefined;

  constructor(
    private readonly deps: CollectorDeps,
    private readonly opts: ReleaseHealthOptions,
  ) {
    this.interval = opts.interval;
  }

  async collect({ projects, now, signal, skipped }: CollectContext): Promise<ReleaseHealthData> {
    // Every request of the run goes with the same signal, which also fires as soon as one query fails.
    const failFast = new AbortController();
    const linked = AbortSignal.any([signal, failFast.signal]);
    setMaxListeners(0, failFast.signal, linked);
    const run: RunState = { planner: this.planner.run(linked, now), skipped, droppedInFallback: 0 };
    const cycleStart = billingCycle(now, this.opts.cycleDay ?? 1).start;
    const dayStart = Math.floor(now / DAY) * DAY;
    const windowStart = Math.floor(now / HOUR) * HOUR - 24 * HOUR;
    const counts = { fields: [SUM], groupBy: ['project', 'environment', 'session.status'] as const };
    const fetch = (spec: Spec): Promise<SessionGroup[]> =>
      run.planner.fetch(this.query(run, spec), projects).catch((err: unknown) => {
        failFast.abort(err);
        throw err;
      });

    const cached = this.past;
    const pastFresh =
      cached !== undefined &&
      cached.cycleStart === cycleStart &&
      cached.dayStart === dayStart &&
      now - cached.fetchedAt < PAST_DAYS_TTL_MS &&
      projects.every((p) => cached.projectIds.has(p.id) || run.planner.isRefused(p.id));
    const none = Promise.resolve<SessionGroup[]>([]);
    const [today, past, rates, releases] = await Promise.all([
      fetch({ kind: 'today', ...counts, start: dayStart, end: now, intervalMs: DAY }),
      dayStart === cycleStart
        ? none
        : pastFresh
          ? Promise.resolve(cached.groups)
          : // Up to the last second of yesterday: ceiled to the day, with or without the second some
            // Sentry releases add to an explicit end, the range stops at today 00:00.
            fetch({ kind: 'past', ...counts, start: cycleStart, end: dayStart - SECOND, intervalMs: DAY }),
      fetch({
        kind: 'rates',
        fields: [CRASH_FREE_SESSIONS, CRASH_FREE_USERS],
        groupBy: ['project', 'environment'],
        start: windowStart,
        end: now,
        intervalMs: HOUR,
      }),
      this.opts.releasesPerProject === 0
        ? none
        : fetch({
            kind: 'releases',
            fields: [SUM, CRASH_FREE_SESSIONS, CRASH_FREE_USERS],
            groupBy: ['project', 'environment', 'release'],
            start: windowStart,
            end: now,
            intervalMs: HOUR,
          }),
    ]);

    // Kept only once the whole run succeeded.
    run.planner.finish(this.deps.logger, ENDPOINTS.sessions);
    if (dayStart > cycleStart && !pastFresh) {
      this.past = {
        cycleStart,
        dayStart,
        fetchedAt: now,
        // A project refused now has no past days in them: asked again once it is readable.
        projectIds: new Set(projects.filter((p) => !run.planner.gone.has(p.id)).map((p) => p.id)),
        groups: past,
      };
    }
    this.deps.logger.debug(
      { splits: run.planner.splits, pastDaysReused: pastFresh },
      'release health collected',
    );

    const byId = new Map(projects.map((p) => [p.id, p.slug]));
    const ranked = rankReleases(releases, byId, this.opts.releasesPerProject);
    // A project refused this run keeps its last session counts (a drop would read as a counter reset); a
    // read project's counts never go below their earlier values of the cycle.
    const { rows: sessions, floored } = this.carry.merge(
      sessionCounts([...past, ...today], byId),
      projects.map((p) => p.slug),
      new Set([...run.planner.gone].flatMap((id) => byId.get(id) ?? [])),
      { now, cycle: cycleStart },
    );
    if (floored > 0) this.deps.logger.debug({ floored }, 'session series kept at their earlier values');
    return {
      sessions: sessions.sort(bySessionRow),
      crashFree: crashFreeRows(rates, byId),
      releases: ranked.rows,
      releasesDropped: ranked.dropped + run.droppedInFallback,
    };
  }

  render(data: ReleaseHealthData): Family[] {
    return releaseHealthFamilies(data, this.interval, this.opts.releasesPerProject, this.opts.cycleDay ?? 1);
  }

  /** The question `spec` asks, for the planner: batches of projects, none of whose answers is cut. */
  private query(run: RunState, spec: Spec): CutSafeQuery<SessionsPage, SessionGroup> {
    const byStatus = spec.groupBy.includes('session.status');
    const intervals = intervalsOf(spec.start, spec.end, spec.intervalMs);
    return {
      ...(spec.part === true ? {} : { key: spec.kind }),
      target: Math.max(1, Math.floor(FILL * (groupLimit(intervals, byStatus) - 1))),
      allowAll: spec.part !== true && !this.opts.restrictedSelection,
      // Before a run has seen a project: a group per environment (two per environment for releases).
      estimate: (p, lastRun) =>
        lastRun ?? (spec.kind === 'releases' ? 2 : 1) * Math.max(1, p.environments.length),
      ask: (batch, signal) =>
        this.request(
          run,
          spec,
          batch.all ? undefined : batch.projects.map((p) => p.id),
          batch.projects,
          signal,
        ),
      measure: (page) => ({ rows: groupsPerProject(page), cut: isCut(page, byStatus) }),
      items: (page) => page.groups,
      alone: (project, page) => this.alone(run, spec, project, page),
      probe: (signal) => this.request(run, { ...spec, groupBy: [] }, undefined, [], signal),
    };
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
      throw new SentryApiError(
        `release health: Sentry's /organizations/{org}/sessions/ answer for project ${project.slug} reaches its limit of ${groupLimit(cut.intervals, spec.groupBy.includes('session.status'))} groups even for this project alone (${spec.fields.join(', ')} by ${spec.groupBy.join(', ')}); its numbers would be cut, so none are published`,
        { kind: 'cut', endpoint: ENDPOINTS.sessions, project: project.slug },
      );
    }
    // Session counts add up over time: split the range at an interval boundary.
    const mid = spec.start + Math.floor(n / 2) * spec.intervalMs;
    const [a, b] = await Promise.all([
      run.planner.fetch(this.query(run, { ...spec, end: mid - SECOND, part: true }), [project]),
      run.planner.fetch(this.query(run, { ...spec, start: mid, part: true }), [project]),
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
    const list = await this.deps.api.listSessionGroups(
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
      { signal: run.planner.signal, project: project.slug, skipped: run.skipped },
    );
    const sums = new Map<string, number>();
    for (const g of list) sums.set(g.release ?? '', (sums.get(g.release ?? '') ?? 0) + (g.totals[SUM] ?? 0));
    const order = [...sums].sort(([a, x], [b, y]) => y - x || byCodeUnit(a, b)).map(([r]) => r);
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
    const page = await this.request(run, narrowed, [project.id], [project], run.planner.signal);
    if (!isCut(page, false)) return page.groups.map((g) => ({ ...g, project: project.id }));
    run.planner.splits++;
    if (releases.length === 1) {
      throw new SentryApiError(
        `release health: Sentry's /organizations/{org}/sessions/ answer for release ${releases[0] ?? ''} of project ${project.slug} reaches its limit of ${groupLimit(page.intervals, false)} environments; its numbers would be cut, so none are published`,
        { kind: 'cut', endpoint: ENDPOINTS.sessions, project: project.slug },
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
    signal: AbortSignal,
  ): Promise<SessionsPage> {
    const query: SessionsQuery = {
      fields: spec.fields,
      groupBy: spec.groupBy,
      start: new Date(spec.start),
      end: new Date(spec.end),
      interval: INTERVAL_TEXT[spec.intervalMs] ?? '1h',
      ...(projectIds === undefined ? {} : { projectIds }),
      ...(spec.query === undefined ? {} : { query: spec.query }),
    };
    return this.deps.api.getSessions(query, {
      signal,
      skipped: run.skipped,
      ...(projects.length === 1 ? { project: projects[0]?.slug } : {}),
    });
  }
}

export const releaseHealth = defineCollector({
  name: 'release_health',
  settings: {
    enabled: setting({
      env: 'SENTRY_SCRAPE_RELEASE_HEALTH_METRICS',
      doc: 'Export release health: sentry_sessions_total and the crash-free session and user ratios.',
      default: true,
      format: boolean,
      formerly: 'scrape.releaseHealthMetrics',
    }),
    interval: setting({
      env: 'SENTRY_RELEASE_HEALTH_INTERVAL',
      doc: 'Seconds between refreshes of the release health metrics (Sentry aggregates sessions, they are not real-time).',
      default: 300,
      format: duration({ zero: false }),
      formerly: 'schedule.releaseHealthInterval',
    }),
    releases: setting({
      env: 'SENTRY_RELEASE_HEALTH_RELEASES',
      doc: 'Crash-free ratios per release for the N releases of each project with the most sessions in the last 24 hours; 0 turns them off.',
      default: 0,
      format: number({ min: 0, integer: true }),
      formerly: 'scrape.releaseHealthReleases',
    }),
  },
  create: (deps, settings, { sentry, billing }) =>
    settings.enabled
      ? new ReleaseHealthCollector(deps, {
          interval: settings.interval,
          releasesPerProject: settings.releases,
          restrictedSelection: sentry.projects.length > 0,
          cycleDay: billing.cycleDay,
        })
      : undefined,
});
