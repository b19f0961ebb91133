/**
 * Public types of the Sentry simulator: its options, the faults it can inject, the counters it keeps and the
 * ground truth it publishes (what a correct exporter must report for the generated data).
 */

/**
 * Which Sentry the simulator answers like. `sentry.io`: the current code as sentry.io runs it (rate-limit
 * headers and 429s, the organization project-keys endpoint, stats_v2 grouped by project without
 * `intervals` or `series`, five session statuses). `self-hosted`: an older self-hosted release (no rate
 * limiter and no headers, no organization project-keys endpoint, project summaries without `environments`,
 * stats_v2 grouped by project with `intervals` and `series`, four session statuses without `unhandled`).
 * See docs/sentry-api.md for the sources.
 */
export type SimMode = 'sentry.io' | 'self-hosted';

export interface SimOptions {
  /** Default 'sentry.io'; the options below override what the mode sets. */
  mode?: SimMode;
  /** Data seed; the same seed and sizes always produce the same data. Default 1. */
  seed?: number;
  /** Default 20. */
  projects?: number;
  /** Default 2. Names come from a shared pool, so projects share environment names. */
  environmentsPerProject?: number;
  /** How many projects (the last ones) have no environment at all. Default 1 (with 2 projects or more). */
  projectsWithoutEnvironments?: number;
  /**
   * Projects deleted two days before the clock at start, after sending data: listed nowhere, refused (403)
   * by id, but their outcomes count in the organization's usage (stats_v2 without `project`). Default 1 (with
   * 2 projects or more).
   */
  deletedProjects?: number;
  /** Total issues per project, all statuses and ages. Default 60 (project index 0 always gets at least 130). */
  issuesPerProject?: number;
  /** Default 'acme'. */
  org?: string;
  /** Default 'sim-token'. */
  token?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /**
   * Per token and endpoint, like sentry.io. Default `{ perSecond: 40, concurrent: 25 }` (sentry.io mode) or
   * false (self-hosted mode: Sentry ships with its rate limiter off).
   */
  rateLimit?: { perSecond: number; concurrent: number } | false;
  /** Default true in sentry.io mode, false in self-hosted mode: no X-Sentry-Rate-Limit-* headers. */
  rateLimitHeaders?: boolean;
  /** Added to every response. Default 0. */
  latencyMs?: number;
  /**
   * Default true; false: org issue queries spanning more than one project (or all projects) answer 400 like an
   * organization without the `global-views` feature.
   */
  multiProjectStream?: boolean;
  /** Default true (sentry.io), false (self-hosted): project summaries lack `environments`. */
  projectSummaryEnvironments?: boolean;
  /** Default true (sentry.io), false (self-hosted, before December 2025): 404 on it. */
  organizationProjectKeys?: boolean;
  /**
   * Default 1. More (outcome, reason) pairs per project and category (about this many times as many), for
   * organizations whose stats_v2 answers reach Sentry's 10,000-row cap sooner.
   */
  outcomeVariety?: number;
  /** Cron monitors in the organization, spread over the projects. Default one per two projects, rounded up. */
  monitors?: number;
  /**
   * Default 'current' (sentry.io), 'older' (self-hosted): how monitors are stored and serialized. Current:
   * a monitor's `isMuted` is computed from its environments (since November 2025), `owner` and
   * `activeIncident` are sent, slugs are unique per project. Older: `isMuted` is the monitor's own flag,
   * environments can be `missed_checkin` or `timeout`, slugs are unique in the organization.
   */
  monitorRelease?: 'current' | 'older';
  /** stats_v2 grouped by project: default false (sentry.io), true (older self-hosted). */
  statsSeriesByProject?: boolean;
  /**
   * Release health: sessions with the `unhandled` status and the newer rate fields (default true, sentry.io)
   * or the four statuses of older releases (false, self-hosted).
   */
  sessionUnhandledStatus?: boolean;
  /**
   * Which release's events endpoint to answer like (sim/events.ts EventsRelease): default 'current'
   * (sentry.io: the spans dataset), 'before-spans' (self-hosted: a release of August 2024 that refuses
   * `dataset=spans` and answers `transactions`).
   */
  eventsRelease?: 'current' | 'spans-without-eap' | 'before-spans' | 'before-transactions';
  /**
   * Default true; false: the organization has neither Discover nor Performance, and the events endpoint
   * answers an empty 404.
   */
  performanceView?: boolean;
  /**
   * Clock in ms for the data: ages are relative to it at start, queries and truth() use it. Default Date.now.
   * Rate-limit windows and request times always use the wall clock.
   */
  now?: () => number;
}

/** Injected failures. Rates are 0..1 and are decided per request by a PRNG separate from the data PRNG. */
export interface Faults {
  /**
   * Project ids refused (403, the permission detail) wherever a request names one of them in `project`: a
   * project deleted or moved since it was listed, or one the token's user may not read.
   */
  refusedProjects?: readonly string[];
  /** 500/502/503 with a JSON or HTML body. */
  serverErrorRate?: number;
  /** The socket is destroyed without an answer. */
  resetRate?: number;
  /** The answer is delayed by `hangMs` (default 30 s) to trigger client timeouts. */
  hangRate?: number;
  hangMs?: number;
  /** 200 with a truncated JSON body. */
  malformedRate?: number;
  /** 200 with an HTML page (content-type text/html). */
  htmlRate?: number;
  /** 200 JSON where a field has the wrong type (issue count "abc", projects not an array, ...). */
  wrongTypeRate?: number;
  /**
   * Sentry's own refusal: 403 `You do not have permission to perform this action.`, as for a token without
   * the scope an endpoint needs (DRF PermissionDenied; docs/sentry-api.md, "Authentication").
   */
  forbiddenRate?: number;
  /** Restrict faults to these endpoint templates (e.g. `/organizations/{org}/issues/`). Default: all. */
  endpoints?: string[];
  /**
   * Issue list: every page after the first starts this many issues earlier, so it repeats the end of the
   * page before, as an offset-paginated list does after that many new issues arrived between two requests.
   */
  overlapItems?: number;
  /**
   * Issue list: `Link` always announces a next page (`results="true"`, a new cursor each time). `fresh`:
   * every later page holds new issues (ids never seen); `repeat`: the first page again; `empty`: no issue.
   */
  endlessPages?: 'fresh' | 'repeat' | 'empty';
  /** Issue list: no `X-Hits` and `X-Max-Hits` headers. */
  omitHits?: boolean;
  /**
   * A proxy in front of Sentry: a request whose target (path and query) is longer than this many bytes gets
   * nginx's `414 Request-URI Too Large` (nginx's `large_client_header_buffers` default is 8 KiB).
   */
  maxUrlBytes?: number;
  /**
   * Every answer (of `endpoints`) is 200 with a valid JSON array of this many empty arrays, `[[],[],…]`:
   * three bytes an item, the most items a body of its size can hold.
   */
  tinyItems?: number;
  /**
   * The next `headersTimes` answers (of `endpoints`; default every one) carry these headers besides their
   * own, replacing any of the same name: a proxy's or a misconfigured server's `X-Sentry-Rate-Limit-*`.
   */
  headers?: Record<string, string>;
  headersTimes?: number;
  /**
   * Which items of a list answer `wrongTypeRate` breaks: the first (default), or every one (what a change
   * of Sentry's API shape looks like).
   */
  wrongTypeItems?: 'first' | 'all';
  /**
   * Aggregate answers (stats_v2, sessions): this many of their groups carry a malformed total (a quantity
   * of `"12"`, `-1` sessions).
   */
  malformedGroups?: number;
  /** Aggregate answers (stats_v2, sessions): their first group is sent twice. */
  repeatFirstGroup?: boolean;
  /**
   * Sentry's deprecation (src/sentry/api/helpers/deprecation.py): every answer carries
   * `X-Sentry-Deprecation-Date` and `X-Sentry-Replacement-Endpoint`; with `gone`, it is the brownout's
   * `410 {"message": "This API no longer exists."}`.
   */
  deprecated?: { date: string; replacement?: string; gone?: boolean };
  /**
   * Every item of a list answer (of `endpoints`) carries a `padding` field of this many characters: valid,
   * large answers that take their time to read and parse.
   */
  padItems?: number;
  /** The current-release lookups of these issue ids answer `500 {"detail": "Internal Error"}`. */
  releaseErrorsFor?: string[];
}

export type TokenStatus = 'valid' | 'revoked' | 'missing-scope';

export interface SimRequestRecord {
  /** Endpoint template, or `(unmatched)` for paths the simulator does not serve. */
  endpoint: string;
  query: Record<string, string | string[]>;
  /** HTTP status; 0 when the socket was reset without an answer. */
  status: number;
  /** Length of the request target (path and query) in bytes. */
  urlBytes: number;
  /** Wall-clock time (ms, Date.now) when the request arrived. */
  at: number;
}

export interface SimCounters {
  total: number;
  byEndpoint: Record<string, number>;
  /** Keyed by status code as a string; `'0'` counts injected connection resets. */
  byStatus: Record<string, number>;
  /** 429 answers. */
  rateLimited: number;
  /** Highest number of requests in flight at once. */
  maxConcurrent: number;
  /** TCP connections accepted (few connections for many requests = keep-alive works). */
  connections: number;
  /** stats_v2 answers cut at 10,000 rows (Sentry says nothing; the simulator counts them for tests). */
  statsCut: number;
  /** sessions answers that left groups out without a next page (Sentry says nothing; counted for tests). */
  sessionsCut: number;
  /** The last 10,000 requests, oldest first. */
  requests: SimRequestRecord[];
}

export interface IssueWindowTruth {
  project: string;
  /** `'None'` for a project without environments. */
  environment: string;
  h1: number;
  h24: number;
  d14: number;
}

export interface OpenIssueTruth {
  issueId: string;
  project: string;
  environment: string;
  count: number;
  logger: string | null;
  level: string;
  status: string;
  platform: string | null;
  release: string | null;
  isUnhandled: boolean;
  firstSeen: string;
  lastSeen: string;
}

export interface EventsTruth {
  project: string;
  received: number;
  rejected: number;
  blacklisted: number;
}

/** One stats_v2 group of the month: what sentry_outcomes_total (or its bytes/seconds family) reports. */
export interface OutcomeTruth {
  project: string;
  /** As stats_v2 reports it: `default` and `security` are `error`. */
  category: string;
  outcome: string;
  /** As stats_v2 reports it: `none` for no reason, `spike_protection` for smart_rate_limit. */
  reason: string;
  /** Sum of quantity as Sentry stores it: items, bytes or milliseconds depending on the category. */
  quantity: number;
}

/** The whole organization's quantity of one (category, outcome, reason): every project, deleted ones too. */
export interface OrganizationOutcomeTruth {
  category: string;
  outcome: string;
  reason: string;
  quantity: number;
}

/** What Sentry counts against the organization's quota this cycle: accepted, every project, deleted ones too. */
export interface QuotaTruth {
  /** As stats_v2 reports it (`default` and `security` are `error`). */
  category: string;
  /** As Sentry stores it: items, bytes or milliseconds. */
  quantity: number;
}

/** A project of the project list: sentry_project_info. */
export interface ProjectInfoTruth {
  project: string;
  id: string;
  /** `None` when the project has no platform. */
  platform: string;
  /** Team slugs, sorted, comma-separated; '' without a team. */
  teams: string;
}

/** What the truth is computed for, as the exporter is configured. */
export interface TruthOptions {
  /** SENTRY_BILLING_CYCLE_DAY (1 to 28): the counters count from that day of the month, 00:00 UTC. Default 1. */
  billingCycleDay?: number;
}

export interface RateLimitTruth {
  project: string;
  eventsPerSecond: number;
}

/** One environment of a listed cron monitor (environment `None` for a monitor without environments). */
export interface MonitorTruth {
  project: string;
  /** The monitor's slug. */
  monitor: string;
  environment: string;
  /** `disabled` when the monitor is disabled, else the environment's status (`active` without environments). */
  status: string;
  /** The monitor (as Sentry serializes its `isMuted`) or the environment is muted. */
  muted: boolean;
  /** Unix seconds, or null before the first check-in. */
  lastCheckIn: number | null;
  nextCheckInLatest: number | null;
}

/** Sessions of one status this billing cycle (by default the UTC calendar month), per project and environment. */
export interface SessionsTruth {
  project: string;
  /** `'None'` for sessions sent without an environment. */
  environment: string;
  status: string;
  sessions: number;
}

/** Crash-free rates over the last 24 hours ([start of the hour 24 hours ago, now]). */
export interface CrashFreeTruth {
  project: string;
  environment: string;
  /** 1 − crashed ÷ sessions, as Sentry computes it. */
  sessions: number;
  /** 1 − crashed users ÷ users; null when the sessions carried no user. */
  users: number | null;
}

/** The same per release, with the release's rank in its project by sessions in the last 24 hours. */
export interface ReleaseCrashFreeTruth extends CrashFreeTruth {
  release: string;
  /** 0 for the release with the most sessions in the project (ties: the smaller version string first). */
  rank: number;
}

export interface ReleaseHealthTruth {
  /** Every project and environment with sessions this month: every status Sentry reports, zeros included. */
  sessions: SessionsTruth[];
  /** Every project and environment with sessions in the last 24 hours. */
  crashFree: CrashFreeTruth[];
  /** Every project, environment and release with sessions in the last 24 hours. */
  releases: ReleaseCrashFreeTruth[];
}

/**
 * One of the busiest transactions over a window: what the performance families of a correct exporter
 * publish for it.
 */
export interface TransactionTruth {
  project: string;
  /** The name as Sentry stores it (not cut). */
  transaction: string;
  /** Only when the query named environments: the name, or null for events sent without one. */
  environment?: string | null;
  /** Stored transactions in the window. */
  count: number;
  /** `count` ÷ the window's seconds. */
  perSecond: number;
  /** Transactions whose status is not ok, cancelled or unknown ÷ `count`. */
  failureRatio: number;
  /** p50, p75, p95, p99 of the duration, in seconds. */
  seconds: [number, number, number, number];
}

export interface PerformanceTruthQuery {
  /** How many of the busiest. */
  top: number;
  /** The window up to the simulator's clock, seconds (SENTRY_PERFORMANCE_WINDOW). */
  windowSeconds: number;
  /** Only these environments, one row per environment; default all, not split. */
  environments?: readonly string[];
  /** Only transactions of this transaction.op. */
  op?: string;
  /** Only these projects (slugs); default all. */
  projects?: readonly string[];
}

/** Exactly what a correct exporter should publish, computed at the simulator's current clock. */
export interface GroundTruth {
  /**
   * Per project and visible environment (`'None'` for a project without environments): the sum of the event
   * counts in that environment of UNRESOLVED issues first seen within 1h / 24h / 14d.
   */
  issueWindows: IssueWindowTruth[];
  /** Every unresolved issue first seen within the last hour, once per environment it has events in. */
  openIssues: OpenIssueTruth[];
  /**
   * Error events (error, default, security) of the current billing cycle (by default the UTC calendar month)
   * per project: received = accepted + filtered + rate_limited, rejected = rate_limited, blacklisted = filtered.
   */
  events: EventsTruth[];
  /**
   * Every (project, category, outcome, reason) with outcomes in the current billing cycle (by default the UTC
   * calendar month) up to the clock, summed, for the projects of the project list; combinations without
   * outcomes are absent.
   */
  outcomes: OutcomeTruth[];
  /** The same over the whole organization: every project, those deleted this month included. */
  organizationOutcomes: OrganizationOutcomeTruth[];
  /** Accepted quantities of the whole organization this cycle per category: the quota usage. */
  quota: QuotaTruth[];
  /** The current billing cycle: Unix seconds of its first instant and of the next cycle's. */
  billingCycle: { start: number; end: number };
  /** Every project of the project list. */
  projects: ProjectInfoTruth[];
  /** The first active key's rateLimit count/window, 0 without one; rounded to 6 decimals. */
  rateLimits: RateLimitTruth[];
  /** Every environment of every monitor Sentry lists (not those pending deletion). */
  monitors: MonitorTruth[];
  releaseHealth: ReleaseHealthTruth;
}

export interface SentrySimulator {
  /** Base API url with a trailing slash, e.g. `http://127.0.0.1:PORT/api/0/`. */
  readonly url: string;
  readonly port: number;
  readonly mode: SimMode;
  readonly org: string;
  readonly token: string;
  truth(opts?: TruthOptions): GroundTruth;
  /**
   * The busiest transactions over a window, busiest first (ties by project slug, then name, then
   * environment), from the dataset a correct exporter ends up reading in this simulator's release: spans
   * where it has data, transactions or discover otherwise. Counts are stored transactions (not
   * extrapolated by sampling weights).
   */
  performanceTruth(query: PerformanceTruthQuery): TransactionTruth[];
  counters(): SimCounters;
  resetCounters(): void;
  /** Replaces the current faults; `setFaults({})` clears them. */
  setFaults(f: Faults): void;
  setRateLimit(r: SimOptions['rateLimit']): void;
  setLatency(ms: number): void;
  /** revoked: 401 `Invalid token`; missing-scope: 403 permission denied. */
  setTokenStatus(s: TokenStatus): void;
  /**
   * The tokens Sentry accepts from now on (at start: `token` only); any other gets 401 `Invalid token`, as a
   * revoked token does. Rotating is `acceptTokens([old, next])`, then `acceptTokens([next])`.
   */
  acceptTokens(tokens: readonly string[]): void;
  /**
   * Sends this text as the issue's `count` (e.g. "9007199254740993", past 2^53) and counts it as
   * `Number(text)` in the ground truth. Only for an issue with events in a single environment.
   */
  setIssueCount(issueId: string, count: string): void;
  /** Moves the issue's firstSeen (and its lastSeen, if earlier) to this time, e.g. into the future. */
  setIssueFirstSeen(issueId: string, firstSeenMs: number): void;
  /** Stops listening and drops open connections (new connections are refused); data and port are kept. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Stops for good and releases every handle (sockets, timers). */
  close(): Promise<void>;
}
