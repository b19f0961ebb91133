import type { Logger } from 'pino';
import type { IssueQuery, SentryApi } from '../sentry/api.js';
import { SentryApiError } from '../sentry/errors.js';
import { ItemBudget } from '../sentry/pagination.js';
import { SkippedItems, type CallOptions } from '../sentry/request.js';
import type { SentryIssue } from '../sentry/types.js';
import { allOrNothing } from './all-or-nothing.js';
import { refreshedEvery } from './collector.js';
import type { CollectContext, Collector, Family, ProjectInfo, RenderContext, Sample } from './collector.js';
import { NO_ENVIRONMENT, pyBool, pyDate, pyStr } from './compat.js';
import { logSkipped } from './skipped.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Sum of event counts of unresolved issues first seen within each window, per project and environment. */
export interface IssueWindowRow {
  project: string;
  /** `null` for a project without environments. */
  environment: string | null;
  h1: number;
  h24: number;
  d14: number;
}

/** An unresolved issue first seen within the last hour, in one environment. */
export interface OpenIssueRow {
  issueId: string;
  project: string;
  environment: string | null;
  count: number;
  logger: string | null;
  level: string;
  status: string;
  platform: string | null;
  release: string | null;
  isUnhandled: boolean;
  /** ISO timestamps; `null` when Sentry sent none. */
  firstSeen: string | null;
  lastSeen: string | null;
}

export interface IssueData {
  windows: IssueWindowRow[];
  /** Newest first, already capped at SENTRY_OPEN_ISSUES_MAX. */
  openIssues: OpenIssueRow[];
  /** How many open-issue series the cap dropped this run. */
  openIssuesDropped: number;
}

export interface IssueCollectorOptions {
  api: SentryApi;
  logger: Logger;
  /** SENTRY_POLL_INTERVAL, seconds. */
  interval: number;
  /** Which windows are exported; the query asks only as far back as the widest one needs. */
  windows: { h1: boolean; h24: boolean; d14: boolean };
  /** Whether open issues (sentry_open_issue_events) are exported. */
  openIssues: boolean;
  openIssuesMax: number;
  /** How long an issue's current release is cached (SENTRY_METADATA_INTERVAL), ms. */
  releaseTtlMs: number;
  /**
   * True when SENTRY_EXPORTER_PROJECTS restricts the export: queries then name the projects. Otherwise
   * they ask for every project the token can see (`project=-1`) and the answers are matched against the
   * project list, which keeps URLs short for organizations with thousands of projects.
   */
  restrictedSelection: boolean;
}

/** The options every issue query of one run shares. */
type FetchOptions = CallOptions & { signal: AbortSignal; skipped: SkippedItems; budget: ItemBudget };

interface CachedRelease {
  release: string | null;
  fetchedAt: number;
}

/** Sentry's answer when a query spans projects without the `organizations:global-views` feature. */
function isMultiProjectRefusal(err: unknown): boolean {
  return (
    err instanceof SentryApiError && err.status === 400 && /multi project stream/i.test(err.detail ?? '')
  );
}

/**
 * Unresolved issues, fetched organization-wide with one paginated query per environment (plus one for
 * the projects without environments), so the cost grows with environments and pages, not with the
 * number of projects. Every window (1h, 24h, 14d) is computed from the issues' firstSeen in the same
 * answer, where the Python exporter made three queries per project and environment and read only the
 * first page of each.
 *
 * Without the global-views feature (Sentry plans below Business) multi-project queries are refused; the
 * collector then asks per project and environment, from then on.
 */
export class IssueCollector implements Collector<IssueData> {
  readonly name = 'issues';
  readonly interval: number;
  private perProject = false;
  private releases = new Map<string, CachedRelease>();

  constructor(private readonly opts: IssueCollectorOptions) {
    this.interval = opts.interval;
  }

  async collect({ projects, now, signal }: CollectContext): Promise<IssueData> {
    const perEnvironment = await this.fetchIssues(projects, signal);
    return this.summarize(projects, perEnvironment, now, signal);
  }

  render(data: IssueData, ctx: RenderContext): Family[] {
    return [
      ...issueWindowFamilies(data.windows, this.opts.windows, ctx.legacy, this.interval),
      openIssueFamily(data.openIssues, ctx, this.interval),
      {
        name: 'sentry_exporter_open_issue_series_dropped',
        type: 'gauge',
        help: `sentry_open_issue_events series left out by SENTRY_OPEN_ISSUES_MAX in the last run. ${refreshedEvery(this.interval)}`,
        samples: [
          { name: 'sentry_exporter_open_issue_series_dropped', labels: [], value: data.openIssuesDropped },
        ],
      },
    ];
  }

  private widestWindow(): string {
    const { windows } = this.opts;
    if (windows.d14) return '14d';
    if (windows.h24) return '24h';
    return '1h';
  }

  private baseQuery(): Pick<IssueQuery, 'query' | 'statsPeriod' | 'sort'> {
    const widest = this.widestWindow();
    return {
      query: `is:unresolved firstSeen:-${widest}`,
      statsPeriod: widest === '1h' ? '24h' : widest,
      sort: 'new',
    };
  }

  /**
   * Issues keyed by environment (`null`: projects without environments). The run's queries share one item
   * budget (SENTRY_API_MAX_ITEMS), and a malformed issue is left out, counted, and logged once per run.
   */
  private async fetchIssues(
    projects: readonly ProjectInfo[],
    signal: AbortSignal,
  ): Promise<Map<string | null, SentryIssue[]>> {
    const call: FetchOptions = { signal, skipped: new SkippedItems(), budget: new ItemBudget() };
    try {
      if (!this.perProject) {
        try {
          return await this.fetchOrganizationWide(projects, call);
        } catch (err) {
          if (!isMultiProjectRefusal(err)) throw err;
          this.perProject = true;
          this.opts.logger.warn(
            { detail: (err as SentryApiError).detail },
            'Sentry refused a multi-project issue query (no global-views feature); querying per project and environment from now on',
          );
        }
      }
      return await this.fetchPerProject(projects, call);
    } finally {
      logSkipped(this.opts.logger, this.name, call.skipped);
    }
  }

  private async fetchOrganizationWide(
    projects: readonly ProjectInfo[],
    call: FetchOptions,
  ): Promise<Map<string | null, SentryIssue[]>> {
    const base = this.baseQuery();
    const environments = [...new Set(projects.flatMap((p) => p.environments))].sort();
    const withoutEnv = projects.filter((p) => p.environments.length === 0);

    const jobs: Array<[string | null, IssueQuery]> = environments.map((environment) => [
      environment,
      {
        ...base,
        environment,
        ...(this.opts.restrictedSelection
          ? { projectIds: projects.filter((p) => p.environments.includes(environment)).map((p) => p.id) }
          : {}),
      },
    ]);
    // Projects without environments are always named: without a project filter the query would
    // return every project's issues, across all environments. A long list is split by the client so that
    // no URL grows past what proxies and Sentry's echoing Link header allow.
    if (withoutEnv.length > 0) jobs.push([null, { ...base, projectIds: withoutEnv.map((p) => p.id) }]);
    return this.runJobs(jobs, call);
  }

  private async fetchPerProject(
    projects: readonly ProjectInfo[],
    call: FetchOptions,
  ): Promise<Map<string | null, SentryIssue[]>> {
    const base = this.baseQuery();
    const jobs: Array<[string | null, IssueQuery]> = [];
    for (const p of projects) {
      if (p.environments.length === 0) jobs.push([null, { ...base, projectIds: [p.id] }]);
      for (const environment of p.environments)
        jobs.push([environment, { ...base, projectIds: [p.id], environment }]);
    }
    return this.runJobs(jobs, call);
  }

  private async runJobs(
    jobs: Array<[string | null, IssueQuery]>,
    call: FetchOptions,
  ): Promise<Map<string | null, SentryIssue[]>> {
    const out = new Map<string | null, SentryIssue[]>();
    await allOrNothing(jobs, call.signal, async ([environment, query], linked) => {
      const issues = await this.opts.api.listIssues(query, { ...call, signal: linked });
      const list = out.get(environment);
      if (list) list.push(...issues);
      else out.set(environment, issues);
    });
    return out;
  }

  private async summarize(
    projects: readonly ProjectInfo[],
    perEnvironment: Map<string | null, SentryIssue[]>,
    now: number,
    signal: AbortSignal,
  ): Promise<IssueData> {
    const rows = new Map<string, IssueWindowRow>();
    const key = (project: string, env: string | null): string => `${project}\u0000${env ?? ''}`;
    for (const p of projects) {
      if (p.environments.length === 0)
        rows.set(key(p.slug, null), { project: p.slug, environment: null, h1: 0, h24: 0, d14: 0 });
      for (const env of p.environments)
        rows.set(key(p.slug, env), { project: p.slug, environment: env, h1: 0, h24: 0, d14: 0 });
    }

    const open: Array<{ issue: SentryIssue; environment: string | null; firstSeenMs: number }> = [];
    for (const [environment, issues] of perEnvironment) {
      for (const issue of issues) {
        const row = rows.get(key(issue.projectSlug, environment));
        if (row === undefined) continue; // a project outside the selection or newer than the project list
        // Sentry may send no firstSeen for a brand-new issue; like the Python exporter, take it as now.
        const firstSeenMs = issue.firstSeen === null ? now : Date.parse(issue.firstSeen);
        const age = now - firstSeenMs;
        if (age <= 14 * DAY) row.d14 += issue.count;
        if (age <= DAY) row.h24 += issue.count;
        if (age <= HOUR) {
          row.h1 += issue.count;
          open.push({ issue, environment, firstSeenMs });
        }
      }
    }

    if (!this.opts.openIssues) return { windows: [...rows.values()], openIssues: [], openIssuesDropped: 0 };

    open.sort((a, b) => b.firstSeenMs - a.firstSeenMs || a.issue.id.localeCompare(b.issue.id));
    const kept = open.slice(0, this.opts.openIssuesMax);
    const releases = await this.currentReleases(kept, now, signal);
    const openIssues: OpenIssueRow[] = kept.map(({ issue, environment }, i) => ({
      issueId: issue.id,
      project: issue.projectSlug,
      environment,
      count: issue.count,
      logger: issue.logger,
      level: issue.level,
      status: issue.status,
      platform: issue.platform,
      release: releases[i] ?? null,
      isUnhandled: issue.isUnhandled,
      firstSeen: issue.firstSeen,
      lastSeen: issue.lastSeen,
    }));
    return { windows: [...rows.values()], openIssues, openIssuesDropped: open.length - kept.length };
  }

  /**
   * The current release of each open issue in its environment. It rarely changes, so answers are cached
   * for SENTRY_METADATA_INTERVAL; a steady-state cycle asks only about issues it has not seen before.
   */
  private async currentReleases(
    items: ReadonlyArray<{ issue: SentryIssue; environment: string | null }>,
    now: number,
    signal: AbortSignal,
  ): Promise<Array<string | null>> {
    const next = new Map<string, CachedRelease>();
    const vanished = new Set<string>();
    const result = await allOrNothing(items, signal, async ({ issue, environment }, linked) => {
      const cacheKey = `${issue.id}\u0000${environment ?? ''}`;
      const cached = this.releases.get(cacheKey);
      if (cached && now - cached.fetchedAt < this.opts.releaseTtlMs) {
        next.set(cacheKey, cached);
        return cached.release;
      }
      let release: string | null;
      try {
        release = await this.opts.api.getCurrentRelease(issue.id, environment ?? undefined, {
          signal: linked,
          project: issue.projectSlug,
        });
      } catch (err) {
        // Deleted or merged in Sentry since the listing: no release this cycle (not cached), not a failure.
        if (!(err instanceof SentryApiError && err.status === 404)) throw err;
        vanished.add(issue.id);
        return null;
      }
      next.set(cacheKey, { release, fetchedAt: now });
      return release;
    });
    if (vanished.size > 0) {
      this.opts.logger.info(
        { issues: [...vanished].slice(0, 10), count: vanished.size },
        'issues gone between listing and release lookup (deleted or merged in Sentry); their release is None this cycle',
      );
    }
    // Issues that left the last-hour window drop out of the cache.
    this.releases = next;
    return result;
  }
}

function envLabel(environment: string | null): string {
  return environment ?? NO_ENVIRONMENT;
}

/**
 * Legacy mode (the default) writes the Python exporter's `sentry_issues`: a gauge histogram with the
 * non-numeric `le` values "1h", "24h" and "+Inf" (14 days), which prom-client cannot express. Strict mode
 * writes the same numbers as `sentry_unresolved_issue_events{window}`, which passes `promtool check metrics`.
 */
function issueWindowFamilies(
  windows: readonly IssueWindowRow[],
  enabledWindows: IssueCollectorOptions['windows'],
  legacy: boolean,
  interval: number,
): Family[] {
  const enabled: Array<[le: string, window: string, pick: (r: IssueWindowRow) => number]> = [];
  if (enabledWindows.h1) enabled.push(['1h', '1h', (r) => r.h1]);
  if (enabledWindows.h24) enabled.push(['24h', '24h', (r) => r.h24]);
  if (enabledWindows.d14) enabled.push(['+Inf', '14d', (r) => r.d14]);
  if (enabled.length === 0) return [];

  const samples: Sample[] = [];
  if (legacy) {
    // A gauge histogram as Python's prometheus_client writes one in the 0.0.4 text format: buckets, then
    // _gcount (the last bucket) and _gsum (the sum of the enabled buckets).
    for (const row of windows) {
      const base = [
        ['project_slug', row.project],
        ['environment', envLabel(row.environment)],
      ] as const;
      let sum = 0;
      let last = 0;
      for (const [le, , pick] of enabled) {
        const value = pick(row);
        sum += value;
        last = value;
        samples.push({ name: 'sentry_issues_bucket', labels: [...base, ['le', le]], value });
      }
      samples.push({ name: 'sentry_issues_gcount', labels: base, value: last });
      samples.push({ name: 'sentry_issues_gsum', labels: base, value: sum });
    }
    return [
      {
        name: 'sentry_issues',
        type: 'histogram',
        help: `Number of events of open issues (aka is:unresolved) per project and environment, first seen within 1h, 24h and 14d (le="+Inf"). ${refreshedEvery(interval)}`,
        samples,
      },
    ];
  }
  for (const row of windows) {
    for (const [, window, pick] of enabled) {
      samples.push({
        name: 'sentry_unresolved_issue_events',
        labels: [
          ['project_slug', row.project],
          ['environment', envLabel(row.environment)],
          ['window', window],
        ],
        value: pick(row),
      });
    }
  }
  return [
    {
      name: 'sentry_unresolved_issue_events',
      type: 'gauge',
      help: `Events of unresolved issues per project and environment, first seen within the window (1h, 24h, 14d). ${refreshedEvery(interval)}`,
      samples,
    },
  ];
}

function openIssueFamily(rows: readonly OpenIssueRow[], ctx: RenderContext, interval: number): Family {
  const [unhandled, first, last] = ctx.legacy
    ? ['isUnhandled', 'firstSeen', 'lastSeen']
    : ['is_unhandled', 'first_seen', 'last_seen'];
  return {
    name: 'sentry_open_issue_events',
    type: 'gauge',
    help: `Events of each open issue (aka is:unresolved) first seen within the last hour. ${refreshedEvery(interval)}`,
    samples: rows.map((r) => ({
      name: 'sentry_open_issue_events',
      labels: [
        ['issue_id', r.issueId],
        ['logger', pyStr(r.logger)],
        ['level', r.level],
        ['status', r.status],
        ['platform', pyStr(r.platform)],
        ['project_slug', r.project],
        ['environment', envLabel(r.environment)],
        ['release', pyStr(r.release)],
        [unhandled, pyBool(r.isUnhandled)],
        [first, pyDate(r.firstSeen, ctx.now)],
        [last, pyDate(r.lastSeen, ctx.now)],
      ],
      value: r.count,
    })),
  };
}
