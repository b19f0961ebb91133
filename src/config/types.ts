/** The exporter's configuration after loading and validation (see `schema.ts` for names and defaults). */
export interface RetryConfig {
  /** Attempts in all, the first included (SENTRY_RETRY_TRIES). */
  tries: number;
  /** First backoff delay, seconds (SENTRY_RETRY_DELAY). */
  delay: number;
  /** Longest backoff delay, seconds (SENTRY_RETRY_MAX_DELAY). */
  maxDelay: number;
  /** Multiplier between attempts (SENTRY_RETRY_BACKOFF). */
  backoff: number;
  /** Up to this many seconds of random extra delay (SENTRY_RETRY_JITTER). */
  jitter: number;
}

export interface ExporterConfig {
  sentry: {
    /** Always ends with a slash, e.g. `https://sentry.io/api/0/`. */
    baseUrl: string;
    /** The token at start-up (from SENTRY_AUTH_TOKEN or the file). */
    token: string;
    /** SENTRY_AUTH_TOKEN_FILE, watched while the exporter runs; '' when the token came from SENTRY_AUTH_TOKEN. */
    tokenFile: string;
    org: string;
    /** Empty: every project the token can see. */
    projects: string[];
    /** Requests per second sent to Sentry. */
    rate: number;
    /** Requests in flight at once. */
    concurrency: number;
    /** Seconds per request before it is abandoned. */
    timeout: number;
    /** Most items one paginated query, or one collector run, may list (SENTRY_API_MAX_ITEMS). */
    maxItems: number;
    retry: RetryConfig;
  };
  scrape: {
    issueMetrics: boolean;
    eventMetrics: boolean;
    /** sentry_outcomes_total, sentry_outcome_bytes_total, sentry_outcome_seconds_total. */
    outcomeMetrics: boolean;
    rateLimitMetrics: boolean;
    /** Cron monitor families (SENTRY_SCRAPE_MONITOR_METRICS). */
    monitorMetrics: boolean;
    /** SENTRY_SCRAPE_RELEASE_HEALTH_METRICS. */
    releaseHealthMetrics: boolean;
    /** SENTRY_RELEASE_HEALTH_RELEASES: releases per project with their own crash-free ratios; 0: none. */
    releaseHealthReleases: number;
    issues1h: boolean;
    issues24h: boolean;
    issues14d: boolean;
    /** Cap on sentry_open_issue_events series. */
    openIssuesMax: number;
    /** Emit the gauge-histogram family `sentry_issues` with its non-numeric `le`. */
    legacyMetrics: boolean;
  };
  schedule: {
    /** Seconds between collection cycles. */
    pollInterval: number;
    /** Seconds between refreshes of project list, environments, keys and current releases. */
    metadataInterval: number;
    /** Seconds between refreshes of outcomes (and sentry_events_total). */
    outcomesInterval: number;
    /** Seconds between refreshes of release health (SENTRY_RELEASE_HEALTH_INTERVAL). */
    releaseHealthInterval: number;
    /** Seconds after which /healthz reports the data as stale. */
    readyMaxAge: number;
    /** Seconds after which a cycle that is still running is abandoned (its collectors fail). */
    cycleDeadline: number;
  };
  http: {
    host: string;
    port: number;
    basicAuth: { enabled: boolean; user: string; pass: string };
    /** Path of an exporter-toolkit web config file (TLS, bcrypt users, headers), or '' for none. */
    webConfigFile: string;
  };
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
}
