import type {
  CurrentReleaseVersion,
  SentryEnvironment,
  SentryIssue,
  SentryProject,
  SentryProjectKey,
  StatsV2,
} from './types.js';

/** Per-call options: a signal that abandons the call (cycle deadline, shutdown). */
export interface CallOptions {
  signal?: AbortSignal;
  /** Project slug the call is about, carried into errors for context. */
  project?: string;
}

/** `GET /organizations/{org}/issues/` parameters. */
export interface IssueQuery {
  /**
   * Project ids to restrict to. Omitted or empty: every project the token can see (`project=-1`), which
   * Sentry only allows with the `organizations:global-views` feature.
   */
  projectIds?: string[];
  /** One environment name; omitted: all environments. */
  environment?: string;
  /** Sentry search syntax, e.g. `is:unresolved firstSeen:-14d`. */
  query: string;
  /** e.g. `14d`. */
  statsPeriod?: string;
  sort?: 'date' | 'new' | 'freq';
}

/** `GET /organizations/{org}/stats_v2/` parameters; the client always asks `field=sum(quantity)`. */
export interface EventStatsQuery {
  start: Date;
  end: Date;
  category: 'error' | 'transaction' | 'attachment' | 'default' | 'security';
  groupBy: Array<'project' | 'outcome' | 'category' | 'reason'>;
  interval?: string;
}

/** What the client reports about every HTTP exchange with Sentry (for self-metrics). */
export interface RequestObservation {
  /** Path template, e.g. `/organizations/{org}/issues/`. */
  endpoint: string;
  /** HTTP status, or `undefined` for a network error or timeout. */
  status: number | undefined;
  durationMs: number;
  /** `X-Sentry-Rate-Limit-Remaining` when Sentry sent it. */
  rateLimitRemaining: number | undefined;
}

/**
 * The Sentry Web API as the collectors need it, bound to one organization. Every list method follows
 * pagination to the end; every method goes through the one rate-limited request queue.
 */
export interface SentryApi {
  readonly org: string;
  listProjects(opts?: CallOptions): Promise<SentryProject[]>;
  listProjectEnvironments(projectSlug: string, opts?: CallOptions): Promise<SentryEnvironment[]>;
  listIssues(query: IssueQuery, opts?: CallOptions): Promise<SentryIssue[]>;
  listProjectKeys(projectSlug: string, opts?: CallOptions): Promise<SentryProjectKey[]>;
  /** `GET /organizations/{org}/project-keys/`: every project's keys in one paginated list. */
  listOrganizationProjectKeys(opts?: CallOptions): Promise<SentryProjectKey[]>;
  getEventStats(query: EventStatsQuery, opts?: CallOptions): Promise<StatsV2>;
  /** `GET /issues/{id}/current-release/?environment=`: the version, or null when there is none. */
  getCurrentRelease(
    issueId: string,
    environment: string | undefined,
    opts?: CallOptions,
  ): Promise<CurrentReleaseVersion>;
}
