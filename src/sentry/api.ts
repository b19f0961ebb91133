import type { CallOptions } from './request.js';
import type {
  CurrentReleaseVersion,
  SentryEnvironment,
  SentryIssue,
  SentryMonitor,
  SentryProject,
  SentryProjectKey,
  SessionGroup,
  SessionsPage,
  StatsV2,
} from './types.js';

/** `GET /organizations/{org}/issues/` parameters. */
export interface IssueQuery {
  /**
   * Project ids to restrict to. Omitted or empty: every project the token can see (`project=-1`), which
   * older Sentry releases allow only with the `organizations:global-views` feature.
   */
  projectIds?: string[];
  /** One environment name; omitted: all environments. */
  environment?: string;
  /** Sentry search syntax, e.g. `is:unresolved firstSeen:-14d`. */
  query: string;
  /** e.g. `14d`. */
  statsPeriod?: string;
  sort?: 'date' | 'new' | 'freq';
  /**
   * The per-issue `stats` time series: `''` leaves them out of the answer (the exporter reads none of them;
   * they are most of an issue's JSON); omitted: Sentry's default, hourly points for 24h.
   */
  groupStatsPeriod?: '' | '24h' | '14d' | 'auto';
}

/** `GET /organizations/{org}/stats_v2/` parameters; the client always asks `field=sum(quantity)`. */
export interface EventStatsQuery {
  start: Date;
  end: Date;
  /** Data categories to filter by (one `category` parameter each); omitted: every category. */
  categories?: readonly string[];
  /** Project ids to filter by; omitted: the whole organization. */
  projectIds?: string[];
  groupBy: Array<'project' | 'outcome' | 'category' | 'reason'>;
  interval?: string;
}

/** `GET /organizations/{org}/sessions/` parameters (docs/sentry-api.md Part 3 §1). */
export interface SessionsQuery {
  /** e.g. `sum(session)`, `crash_free_rate(session)`; the answer's totals are checked for exactly these. */
  fields: readonly string[];
  groupBy: ReadonlyArray<'project' | 'environment' | 'release' | 'session.status'>;
  /** Project ids; omitted or empty: every project the token can see (`project=-1`). */
  projectIds?: readonly string[];
  start: Date;
  end: Date;
  /** `1h` .. `1d`, dividing a day. */
  interval: string;
  /** Sentry search syntax, e.g. `release:["a@1.0","a@1.1"]`. */
  query?: string;
  /** One of `fields`, `-` for descending. */
  orderBy?: string;
  perPage?: number;
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
  /**
   * The same issues as `listIssues`, handed to `onPage` one page at a time as they arrive (each call awaited
   * before the next page is asked for), so that a collector can aggregate them without holding them all.
   */
  forEachIssuePage(
    query: IssueQuery,
    onPage: (issues: SentryIssue[]) => void | Promise<void>,
    opts?: CallOptions,
  ): Promise<void>;
  listProjectKeys(projectSlug: string, opts?: CallOptions): Promise<SentryProjectKey[]>;
  /** `GET /organizations/{org}/project-keys/`: every project's keys in one paginated list. */
  listOrganizationProjectKeys(opts?: CallOptions): Promise<Array<SentryProjectKey & { projectId: string }>>;
  getEventStats(query: EventStatsQuery, opts?: CallOptions): Promise<StatsV2>;
  /**
   * One answer of `GET /organizations/{org}/sessions/` (the page at `cursor`, or the first): Sentry cuts
   * large answers without saying so, the caller decides from `intervals` and the groups whether it was cut.
   */
  getSessions(query: SessionsQuery, opts?: CallOptions & { cursor?: string }): Promise<SessionsPage>;
  /** Every page of a sessions query (for queries whose pagination Sentry reports correctly). */
  listSessionGroups(query: SessionsQuery, opts?: CallOptions): Promise<SessionGroup[]>;
  /** The issue's current release in the environment: the version, or null when there is none. */
  getCurrentRelease(
    issueId: string,
    environment: string | undefined,
    opts?: CallOptions,
  ): Promise<CurrentReleaseVersion>;
  /** `GET /organizations/{org}/monitors/`: every cron monitor of every project the token can see. */
  listMonitors(opts?: CallOptions): Promise<SentryMonitor[]>;
}
