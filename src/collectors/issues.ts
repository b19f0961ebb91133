import { boolean, number } from '../config/formats.js';
import { setting } from '../config/settings.js';
import type { IssueQuery } from '../sentry/api.js';
import { SentryApiError } from '../sentry/errors.js';
import { ItemBudget } from '../sentry/pagination.js';
import type { CallOptions } from '../sentry/api.js';
import type { SkippedItems } from '../sentry/skipped.js';
import type { SentryIssue } from '../sentry/types.js';
import { allOrNothing } from './all-or-nothing.js';
import { byCodeUnit, defineCollector, refreshedEvery } from './collector.js';
import type {
  CollectContext,
  Collector,
  CollectorDeps,
  Family,
  ProjectInfo,
  RenderContext,
} from './collector.js';
import { issueWindowFamilies, openIssueFamily } from './issue-families.js';
import type {
  IssueData,
  IssueWindowRow,
  IssueWindows,
  OpenIssueRow,
  OpenIssueSamples,
} from './issue-families.js';
import { ReleaseCache } from './issue-releases.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface IssueCollectorOptions {
  /** SENTRY_POLL_INTERVAL, seconds. */
  interval: number;
  /** Which windows are exported; the query asks only as far back as the widest one needs. */
  windows: IssueWindows;
  /** Whether open issues (sentry_open_issue_events) are exported. */
  openIssues: boolean;
  openIssuesMax: number;
  /** How long an issue's current release is cached (SENTRY_METADATA_INTERVAL), ms. */
  releaseTtlMs: number;
  /** Release lookups under way at a time: more only wait in the client's queue. */
  releaseLookups: number;
  /**
   * True when SENTRY_EXPORTER_PROJECTS restricts the export: queries then name the projects. Otherwise
   * they ask for every project the token can see (`project=-1`) and the answers are matched against the
   * project list, which keeps URLs short for organizations with thousands of projects.
   */
  restrictedSelection: boolean;
}

/** The options every issue query of one run shares. */
type FetchOptions = CallOptions & { signal: AbortSignal; skipped: SkippedItems; budget: ItemBudget };

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
class IssueCollector implements Collector<IssueData> {
  readonly name = 'issues';
  readonly interval: number;
  private perProject = false;
  private readonly releases: ReleaseCache;
  /** Release lookups failed since start (sentry_exporter_release_lookups_failed_total). */
  private releaseLookupsFailed = 0;
  /**
   * The window families rendered from a run's rows, published again as the same objects while the run
   * publishes its progress; forgotten with the rows.
   */
  private readonly openSamples: OpenIssueSamples = new WeakMap();
  private readonly windowFamilies = new WeakMap<
    readonly IssueWindowRow[],
    { legacy: boolean; families: Family[] }
  >();

  constructor(
    private readonly deps: CollectorDeps,
    private readonly opts: IssueCollectorOptions,
  ) {
    this.interval = opts.interval;
    this.releases = new ReleaseCache({
      api: deps.api,
      ttlMs: opts.releaseTtlMs,
      intervalMs: opts.interval * 1000,
      concurrency: opts.releaseLookups,
    });
  }

  async collect(ctx: CollectContext<IssueData>): Promise<IssueData> {
    const { projects, now, signal, skipped, progress } = ctx;
    let pages = 0;
    const tally = new IssueTally(projects, now, () => progress?.('pages', ++pages));
    await this.fetchIssues(projects, { signal, skipped, budget: new ItemBudget() }, tally);
    return this.summarize(tally, ctx);
  }

  render(data: IssueData, ctx: RenderContext): Family[] {
    // The windows do not change while a run publishes its open issues as their releases come in: the same
    // family objects let the snapshot reuse their rendering.
    const cached = this.windowFamilies.get(data.windows);
    const windows =
      cached?.legacy === ctx.legacy
        ? cached.families
        : issueWindowFamilies(data.windows, this.opts.windows, ctx.legacy, this.interval);
    this.windowFamilies.set(data.windows, { legacy: ctx.legacy, families: windows });
    return [
      ...windows,
      openIssueFamily(data.openIssues, ctx, this.interval, this.openSamples),
      {
        name: 'sentry_exporter_open_issue_series_dropped',
        type: 'gauge',
        help: `sentry_open_issue_events series left out by SENTRY_OPEN_ISSUES_MAX in the last run. ${refreshedEvery(this.interval)}`,
        samples: [
          { name: 'sentry_exporter_open_issue_series_dropped', labels: [], value: data.openIssuesDropped },
        ],
      },
      ...(data.releaseLookupsFailed === undefined
        ? []
        : [
            {
              name: 'sentry_exporter_release_lookups_failed_total',
              type: 'counter' as const,
              help: "Current-release lookups of open issues that failed (after retries) or were put off after too many failures in a run; the issue's sentry_open_issue_events series is left out until its release is known, and it is asked again next run.",
              samples: [
                {
                  name: 'sentry_exporter_release_lookups_failed_total',
                  labels: [],
                  value: data.releaseLookupsFailed,
                },
              ],
            },
          ]),
    ];
  }

  private widestWindow(): string {
    const { windows } = this.opts;
    if (windows.d14) return '14d';
    if (windows.h24) return '24h';
    return '1h';
  }

  private baseQuery(): Pick<IssueQuery, 'query' | 'statsPeriod' | 'sort' | 'groupStatsPeriod'> {
    const widest = this.widestWindow();
    return {
      query: `is:unresolved firstSeen:-${widest}`,
      statsPeriod: widest === '1h' ? '24h' : widest,
      sort: 'new',
      // No per-issue time series: the exporter reads none, and they are most of each issue's JSON.
      groupStatsPeriod: '',
    };
  }

  /**
   * Hands every page of issues to the tally, with its environment (`null`: projects without environments).
   * The run's queries share one item budget (SENTRY_API_MAX_ITEMS); a malformed issue is left out and
   * counted.
   */
  private async fetchIssues(
    projects: readonly ProjectInfo[],
    call: FetchOptions,
    tally: IssueTally,
  ): Promise<void> {
    if (!this.perProject) {
      try {
        return await this.fetchOrganizationWide(projects, call, tally);
      } catch (err) {
        if (!isMultiProjectRefusal(err)) throw err;
        // Queries of a single project may have been answered before the refusal: counted again below.
        tally.reset();
        this.perProject = true;
        this.deps.logger.warn(
          { detail: (err as SentryApiError).detail },
          'Sentry refused a multi-project issue query (no global-views feature); querying per project and environment from now on',
        );
      }
    }
    return this.fetchPerProject(projects, call, tally);
  }

  private async fetchOrganizationWide(
    projects: readonly ProjectInfo[],
    call: FetchOptions,
    tally: IssueTally,
  ): Promise<void> {
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
    return this.runJobs(jobs, call, tally);
  }

  private async fetchPerProject(
    projects: readonly ProjectInfo[],
    call: FetchOptions,
    tally: IssueTally,
  ): Promise<void> {
    const base = this.baseQuery();
    const jobs: Array<[string | null, IssueQuery]> = [];
    for (const p of projects) {
      if (p.environments.length === 0) jobs.push([null, { ...base, projectIds: [p.id] }]);
      for (const environment of p.environments)
        jobs.push([environment, { ...base, projectIds: [p.id], environment }]);
    }
    return this.runJobs(jobs, call, tally);
  }

  private async runJobs(
    jobs: Array<[string | null, IssueQuery]>,
    call: FetchOptions,
    tally: IssueTally,
  ): Promise<void> {
    await allOrNothing(jobs, call.signal, async ([environment, query], linked) => {
      // Each page is counted as it arrives and let go: a cycle never holds all of the organization's issues.
      await this.deps.api.forEachIssuePage(query, (issues) => tally.add(environment, issues), {
        ...call,
        signal: linked,
      });
    });
  }

  /**
   * The windows, and the open issues newest first with their current releases. With `publish`, the windows
   * and the open issues whose release is already known are published at once, and each further open issue
   * as its release comes in (newest first): an open-issue series appears with its true release or not yet,
   * never with a placeholder that would change a moment later.
   */
  private async summarize(
    tally: IssueTally,
    { now, signal, publish, progress }: CollectContext<IssueData>,
  ): Promise<IssueData> {
    const windows = tally.windows();
    if (!this.opts.openIssues) return { windows, openIssues: [], openIssuesDropped: 0 };

    const open = tally.openNewestFirst();
    const kept = open.slice(0, this.opts.openIssuesMax);
    const openIssuesDropped = open.length - kept.length;
    // One slot per kept issue, filled once its release is known.
    const rows: Array<OpenIssueRow | undefined> = new Array<OpenIssueRow | undefined>(kept.length);
    const known = (): IssueData => ({
      windows,
      openIssues: rows.filter((r): r is OpenIssueRow => r !== undefined),
      openIssuesDropped,
      releaseLookupsFailed: this.releaseLookupsFailed,
    });
    let publishing = false;
    let releasesKnown = 0;
    const onKnown = (i: number, release: string | null): void => {
      const { issue, environment } = kept[i]!;
      rows[i] = openIssueRow(issue, environment, release);
      progress?.('releases', ++releasesKnown, kept.length);
      if (publishing) publish?.(known());
    };
    const resolving = this.releases.resolve(
      kept.map(({ issue, environment }) => ({ issueId: issue.id, project: issue.projectSlug, environment })),
      now,
      signal,
      onKnown,
    );
    // Everything known without a request (and the windows) goes out at once; then each answer as it arrives.
    publish?.(known());
    publishing = true;
    const { vanished, failed, firstFailure } = await resolving;
    this.releaseLookupsFailed += failed;
    if (failed > 0) {
      // Once per run: the series of those issues are left out (or keep a stale release) until next run.
      this.deps.logger.warn(
        { failed, lookups: kept.length, error: firstFailure?.toLog() },
        `${failed} current-release lookups failed or were put off; their open-issue series are left out until their release is known, and they are asked again next run`,
      );
    }
    if (vanished.length > 0) {
      this.deps.logger.info(
        { issues: vanished.slice(0, 10), count: vanished.length },
        'issues gone between listing and release lookup (deleted or merged in Sentry); their release is None this cycle',
      );
    }
    return known();
  }
}

/** An unresolved issue first seen within the last hour, in the environment it was listed for. */
interface OpenIssue {
  issue: SentryIssue;
  environment: string | null;
  firstSeenMs: number;
}

/**
 * Sums the pages of issues as they arrive into the window rows, one per project and environment, and keeps
 * only the issues of the last hour (the open-issue series): a page is let go once it is counted.
 */
class IssueTally {
  /** project slug -> environment (`null`: none) -> row. */
  private rows = new Map<string, Map<string | null, IssueWindowRow>>();
  private open: OpenIssue[] = [];

  constructor(
    private readonly projects: readonly ProjectInfo[],
    private readonly now: number,
    /** Called for each page added (the run's progress). */
    private readonly onPage: () => void = () => undefined,
  ) {
    this.reset();
  }

  /** Back to zero: every row of the project list at 0, no open issue. */
  reset(): void {
    this.rows = new Map();
    this.open = [];
    for (const p of this.projects) {
      const byEnv = new Map<string | null, IssueWindowRow>();
      if (p.environments.length === 0)
        byEnv.set(null, { project: p.slug, environment: null, h1: 0, h24: 0, d14: 0 });
      for (const env of p.environments)
        byEnv.set(env, { project: p.slug, environment: env, h1: 0, h24: 0, d14: 0 });
      this.rows.set(p.slug, byEnv);
    }
  }

  add(environment: string | null, issues: readonly SentryIssue[]): void {
    this.onPage();
    const now = this.now;
    for (const issue of issues) {
      const row = this.rows.get(issue.projectSlug)?.get(environment);
      if (row === undefined) continue; // a project outside the selection or newer than the project list
      // Sentry may send no firstSeen for a brand-new issue; like the Python exporter, take it as now. One in
      // the future (a clock ahead of ours) is as new as an issue can be: now too, in every window and in the
      // newest-first order of the open issues. Its label keeps what Sentry sent.
      const firstSeenMs = issue.firstSeen === null ? now : Math.min(now, Date.parse(issue.firstSeen));
      const age = now - firstSeenMs;
      if (age <= 14 * DAY) row.d14 += issue.count;
      if (age <= DAY) row.h24 += issue.count;
      if (age <= HOUR) {
        row.h1 += issue.count;
        this.open.push({ issue, environment, firstSeenMs });
      }
    }
  }

  /** Every row, in project-list order. */
  windows(): IssueWindowRow[] {
    return [...this.rows.values()].flatMap((byEnv) => [...byEnv.values()]);
  }

  /** The issues of the last hour, newest first (ties by id, then environment). */
  openNewestFirst(): OpenIssue[] {
    return [...this.open].sort(
      (a, b) =>
        b.firstSeenMs - a.firstSeenMs ||
        byCodeUnit(a.issue.id, b.issue.id) ||
        byCodeUnit(a.environment ?? '', b.environment ?? ''),
    );
  }
}

function openIssueRow(issue: SentryIssue, environment: string | null, release: string | null): OpenIssueRow {
  return {
    issueId: issue.id,
    project: issue.projectSlug,
    environment,
    count: issue.count,
    logger: issue.logger,
    level: issue.level,
    status: issue.status,
    platform: issue.platform,
    release,
    isUnhandled: issue.isUnhandled,
    firstSeen: issue.firstSeen,
    lastSeen: issue.lastSeen,
  };
}

const windowSetting = (env: string, bucket: string, formerly: string) =>
  setting({
    env,
    doc: `Export the ${bucket} bucket of sentry_issues.`,
    default: true,
    format: boolean,
    formerly,
  });

export const issues = defineCollector({
  name: 'issues',
  settings: {
    enabled: setting({
      env: 'SENTRY_SCRAPE_ISSUE_METRICS',
      doc: 'Export sentry_issues and sentry_open_issue_events, refreshed every SENTRY_POLL_INTERVAL.',
      default: true,
      format: boolean,
      formerly: 'scrape.issueMetrics',
    }),
    windows: {
      h1: windowSetting('SENTRY_ISSUES_1H', 'le="1h"', 'scrape.issues1h'),
      h24: windowSetting('SENTRY_ISSUES_24H', 'le="24h"', 'scrape.issues24h'),
      d14: windowSetting('SENTRY_ISSUES_14D', 'le="+Inf" (14 days)', 'scrape.issues14d'),
    },
    openIssuesMax: setting({
      env: 'SENTRY_OPEN_ISSUES_MAX',
      doc: 'Most sentry_open_issue_events series (newest first); the rest are dropped and counted.',
      default: 1000,
      format: number({ min: 1, integer: true }),
      formerly: 'scrape.openIssuesMax',
    }),
  },
  create: (deps, settings, { schedule, sentry }) =>
    settings.enabled
      ? new IssueCollector(deps, {
          interval: schedule.pollInterval,
          windows: settings.windows,
          openIssues: true,
          openIssuesMax: settings.openIssuesMax,
          releaseTtlMs: schedule.metadataInterval * 1000,
          releaseLookups: Math.max(4, 2 * sentry.concurrency),
          restrictedSelection: sentry.projects.length > 0,
        })
      : undefined,
});
