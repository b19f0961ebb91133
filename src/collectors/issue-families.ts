/**
 * Issues as exported: the rows a run of the issues collector (issues.ts) yields, and their families in
 * the Python exporter's spelling (legacy) or the strict one.
 */
import { refreshedEvery } from './collector.js';
import type { Family, RenderContext, Sample } from './collector.js';
import { NO_ENVIRONMENT, pyBool, pyDate, pyStr } from './compat.js';

/** Which windows are exported (SENTRY_ISSUES_1H, SENTRY_ISSUES_24H, SENTRY_ISSUES_14D). */
export interface IssueWindows {
  h1: boolean;
  h24: boolean;
  d14: boolean;
}

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
  /**
   * Release lookups that failed since the exporter started (sentry_exporter_release_lookups_failed_total);
   * absent where the collector does not count them.
   */
  releaseLookupsFailed?: number;
}

function envLabel(environment: string | null): string {
  return environment ?? NO_ENVIRONMENT;
}

/**
 * Legacy mode (the default) writes the Python exporter's `sentry_issues`: a gauge histogram with the
 * non-numeric `le` values "1h", "24h" and "+Inf" (14 days), which prom-client cannot express. Strict mode
 * writes the same numbers as `sentry_unresolved_issue_events{window}`, which passes `promtool check metrics`.
 */
export function issueWindowFamilies(
  windows: readonly IssueWindowRow[],
  enabledWindows: IssueWindows,
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

/** The samples of open issues already rendered, by row: a run publishing its progress renders each once. */
export type OpenIssueSamples = WeakMap<OpenIssueRow, { legacy: boolean; sample: Sample }>;

export function openIssueFamily(
  rows: readonly OpenIssueRow[],
  ctx: RenderContext,
  interval: number,
  rendered: OpenIssueSamples = new WeakMap(),
): Family {
  const sampleOf = (r: OpenIssueRow): Sample => {
    const cached = rendered.get(r);
    if (cached?.legacy === ctx.legacy) return cached.sample;
    const sample = openIssueSample(r, ctx);
    rendered.set(r, { legacy: ctx.legacy, sample });
    return sample;
  };
  return {
    name: 'sentry_open_issue_events',
    type: 'gauge',
    help: `Events of each open issue (aka is:unresolved) first seen within the last hour. ${refreshedEvery(interval)}`,
    samples: rows.map(sampleOf),
  };
}

function openIssueSample(r: OpenIssueRow, ctx: RenderContext): Sample {
  const [unhandled, first, last] = ctx.legacy
    ? ['isUnhandled', 'firstSeen', 'lastSeen']
    : ['is_unhandled', 'first_seen', 'last_seen'];
  return {
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
  };
}
