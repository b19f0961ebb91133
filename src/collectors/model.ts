/**
 * Plain data the collectors hand to the metrics layer. No Sentry JSON and no Prometheus text here: the
 * collectors turn the former into these rows, and src/metrics turns these rows into the latter.
 */

/** A project the exporter reports on, with the environments its series are split by. */
export interface ProjectInfo {
  id: string;
  slug: string;
  /** Empty when the project has no environments: its series carry `environment="None"`. */
  environments: string[];
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
  /** ISO timestamps; `null` when Sentry sent none (a brand-new issue). */
  firstSeen: string | null;
  lastSeen: string | null;
}

/** Error events this calendar month (UTC) per project. */
export interface EventTotalsRow {
  project: string;
  /** accepted + filtered + rate_limited */
  received: number;
  /** rate_limited */
  rejected: number;
  /** filtered */
  blacklisted: number;
}

/** The first active client key's rate limit, in events per second (0 when it has none). */
export interface RateLimitRow {
  project: string;
  eventsPerSecond: number;
}

export interface IssueData {
  windows: IssueWindowRow[];
  /** Newest first, already capped at SENTRY_OPEN_ISSUES_MAX. */
  openIssues: OpenIssueRow[];
  /** How many open-issue series the cap dropped this cycle. */
  openIssuesDropped: number;
}
