import type { ItemBudget } from './pagination.js';
import type { SkippedItems } from './skipped.js';
import type {
  CurrentReleaseVersion,
  EventsDataset,
  SentryEnvironment,
  SentryIssue,
  SentryMonitor,
  SentryProject,
  SentryProjectKey,
  SessionGroup,
  SessionsPage,
  StatsGroupBy,
  StatsV2,
  TransactionStatsPage,
} from './types.js';

/** Per-call options: a signal that abandons the call (deadline, shutdown) and the project it is about. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Project slug the call is about, carried into errors for context. */
  project?: string;
  /**
   * A malformed item of a list (or group of an aggregate answer) is left out and recorded here (the
   * pipeline logs them once per run) instead of failing the call. Without it, one malformed item fails it.
   */
  skipped?: SkippedItems;
  /** Lists: the item count shared by the calls of one collector run (see `ItemBudget`). */
  budget?: ItemBudget;
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
  /**
   * Whether Sentry said the endpoint is deprecated (an `X-Sentry-Deprecation-Date` header, or a 410 Gone);
   * absent when no answer came.
   */
  deprecated?: boolean;
}

/** Cumulative counters; a run logs its own figures by difference. */
export interface RequestStats {
  /** HTTP exchanges attempted (each retry and each page counts). */
  requests: number;
  /** Exchanges answered 429. */
  rateLimited: number;
  /** API calls that failed with a SentryApiError (aborts not counted). */
  errors: number;
  /** Attempts that were retried. */
  retries: number;
}

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
  /** Outcomes to filter by (one `outcome` parameter each, e.g. `accepted`); omitted: every outcome. */
  outcomes?: readonly string[];
  /**
   * Project ids to filter by. Omitted, and not grouped by project: the whole organization, every project
   * (organization_stats_v2.py `_is_org_total_query`); grouped by project: the caller's member projects.
   */
  projectIds?: string[];
  groupBy: readonly StatsGroupBy[];
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
 * A table of transactions from `GET /organizations/{org}/events/` (docs/sentry-api.md Part 4): per project
 * and transaction (and environment, when `byEnvironment`), the count, rate, failure rate and duration
 * quantiles over the last `statsPeriod`, busiest first.
 */
export interface TransactionStatsQuery {
  dataset: EventsDataset;
  /** Project ids; omitted or empty: every project the token can see (`project=-1`). */
  projectIds?: readonly string[];
  /** Environment names to filter by (one `environment` parameter each); empty: every environment. */
  environments?: readonly string[];
  /** Also group by environment (adds the `environment` field). */
  byEnvironment?: boolean;
  /** Sentry search syntax added to the dataset's own condition (e.g. `transaction.op:http.server`). */
  query?: string;
  /** Sentry's relative period, e.g. `15m` or `900s`. */
  statsPeriod: string;
  /** 1..100. */
  perPage: number;
}

/**
 * The Sentry Web API as the collectors need it, bound to one organization. Every list method follows
 * pagination to the end; every method goes through the one rate-limited request queue.
 */
export interface SentryApi {
  readonly org: string;
  listProjects(opts?: CallOptions): Promise<SentryProject[]>;
  listProjectEnvironments(projectSlug: string, opts?: CallOptions): Promise<SentryEnvironment[]>;
  /**
   * The issues of a query (every page), handed to `onPage` one page at a time as they arrive (each call
   * awaited before the next page is asked for), so that a collector can aggregate them without holding them
   * all.
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
  /** One page (at `cursor`, or the first) of a transaction table of the events endpoint. */
  getTransactionStats(
    query: TransactionStatsQuery,
    opts?: CallOptions & { cursor?: string },
  ): Promise<TransactionStatsPage>;
}
