/**
 * The Sentry objects the exporter works with, as typed values.
 *
 * Sentry's JSON is parsed into these in one place (`parse.ts`); nothing past the client ever sees raw JSON.
 * Only the fields the collectors use are kept.
 */

/** An entry of `GET /organizations/{org}/projects/`. */
export interface SentryProject {
  /** Sentry sends ids as strings. */
  id: string;
  slug: string;
  /**
   * Environment names of the project, as the project summary lists them. `undefined` when the server does
   * not send the field (older self-hosted Sentry); the collectors then ask the project environments endpoint.
   */
  environments: string[] | undefined;
  /** The project's platform (`python`, `javascript-react`, ...), or null when none is set. */
  platform: string | null;
  /** Slugs of the teams that own the project (`teams[].slug`), as Sentry lists them; empty without a team. */
  teams: string[];
}

/** An entry of `GET /projects/{org}/{project}/environments/` (visible environments only, the default). */
export interface SentryEnvironment {
  name: string;
}

/** An entry of `GET /organizations/{org}/issues/`. */
export interface SentryIssue {
  id: string;
  /** The owning project's slug (from the issue's `project` object). */
  projectSlug: string;
  logger: string | null;
  level: string;
  status: string;
  platform: string | null;
  isUnhandled: boolean;
  /** Sentry sends `count` as a string; parsed to a number here, rejected when it is not an integer. */
  count: number;
  /** ISO 8601 timestamps; Sentry may send null for a brand-new issue. */
  firstSeen: string | null;
  lastSeen: string | null;
}

/**
 * A client key (DSN) of a project, from the project or organization keys endpoints. The organization list
 * also carries the owning project's id (`projectId`, an integer in Sentry's JSON).
 */
export interface SentryProjectKey {
  isActive: boolean;
  /** `null` when the key has no rate limit. `window` is in seconds. */
  rateLimit: { window: number; count: number } | null;
}

/** What a `stats_v2` query may be grouped by (`key_id` is a filter, not a group: snuba/outcomes.py GROUPBY_MAP). */
export type StatsGroupBy = 'project' | 'category' | 'outcome' | 'reason';

/**
 * One group of a `stats_v2` answer: the values of the dimensions the query was grouped by (the project as
 * its id; a reason Sentry has none for is `none`), and `sum(quantity)`.
 */
export interface StatsV2Group {
  project?: string;
  category?: string;
  outcome?: string;
  reason?: string;
  /** Items, bytes or milliseconds, by category. */
  quantity: number;
}

/**
 * `GET /organizations/{org}/stats_v2/`, totals only. Grouped by project, Sentry sends neither `intervals`
 * nor `series` (older releases did); the exporter needs neither, so neither is read.
 */
export interface StatsV2 {
  groups: StatsV2Group[];
}

/** `GET /issues/{id}/current-release/`, reduced to the release version or `null`. */
export type CurrentReleaseVersion = string | null;

/**
 * One environment of a cron monitor, from `GET /organizations/{org}/monitors/` (`environments[]`; environments
 * pending deletion are left out by Sentry).
 */
export interface SentryMonitorEnvironment {
  name: string;
  /** `active` (no check-in processed yet), `disabled`, `ok`, `error`; older releases also `missed_checkin`, `timeout`. */
  status: string;
  isMuted: boolean;
  /** Unix seconds; `null` before the first check-in. */
  lastCheckIn: number | null;
  /** Unix seconds after which Sentry marks the expected check-in missed; `null` when none is expected. */
  nextCheckInLatest: number | null;
}

/** An entry of `GET /organizations/{org}/monitors/`. */
export interface SentryMonitor {
  /** The monitor's GUID. */
  id: string;
  /** Unique within its project (within the organization in older releases). */
  slug: string;
  /** `active` or `disabled` (monitors pending deletion are not listed). */
  status: string;
  /**
   * Since November 2025 computed: true exactly when the monitor has environments and all are muted; before,
   * a flag of its own, independent of the environments.
   */
  isMuted: boolean;
  /** The owning project's id and slug (from the monitor's `project` object). */
  projectId: string;
  projectSlug: string;
  environments: SentryMonitorEnvironment[];
}

/**
 * One group of a `GET /organizations/{org}/sessions/` answer: the requested groupBy values (`project` is the
 * integer project id, as a string here; `environment` and `release` can be empty strings) and the totals of
 * the requested fields (`null` for a rate without sessions or users).
 */
export interface SessionGroup {
  project: string | undefined;
  environment: string | undefined;
  release: string | undefined;
  status: string | undefined;
  totals: Record<string, number | null>;
}

/** One answer of the sessions endpoint: its groups, how many intervals it spans, and the next page. */
export interface SessionsPage {
  /** `intervals.length`: what Sentry divides its 10,000-point limit by. */
  intervals: number;
  groups: SessionGroup[];
  /** Groups Sentry sent that are not in `groups` (malformed, or repeated): each may be a metric group more. */
  leftOut: number;
  /** The next page's cursor when the `Link` header says there are more results. */
  next: string | undefined;
}

/**
 * Which of Sentry's datasets answers a transaction table of `GET /organizations/{org}/events/`: `spans`
 * (the segment spans of the EAP store, current Sentry), `transactions` (SnQL, August 2024 on) or
 * `discover` (SnQL, every server with the events table; transactions filtered by `event.type`).
 * docs/sentry-api.md, Part 4.
 */
export type EventsDataset = 'spans' | 'transactions' | 'discover';

/** The quantiles the exporter asks of a transaction's duration (p50, p75, p95, p99). */
export const TRANSACTION_QUANTILES = [0.5, 0.75, 0.95, 0.99] as const;

/**
 * One row of a transaction table: a transaction of a project (and environment, when the query is split by
 * environment) over the window, its values already in base units from the answer's `meta.units`.
 */
export interface TransactionStats {
  /** The project's slug. */
  project: string;
  transaction: string;
  /** Only when the query asked for `environment`; null for events sent without one. */
  environment?: string | null;
  /** Transactions in the window (`count()`). */
  count: number;
  /** `epm()` in transactions per second; null when Sentry sent none. */
  perSecond: number | null;
  /** `failure_rate()`, a ratio 0..1; null when Sentry sent none. */
  failureRatio: number | null;
  /** Duration quantiles in seconds, in TRANSACTION_QUANTILES order; null where Sentry sent null. */
  seconds: Array<number | null>;
}

/** One page of a transaction table. */
export interface TransactionStatsPage {
  /**
   * `meta.dataset`: the dataset the server really used (`DATASET_LABELS`), which tells a server that ignored
   * the `dataset` parameter; undefined when the answer has none (older servers, or no project to query).
   */
  dataset: string | undefined;
  rows: TransactionStats[];
  /** The next page's cursor when the `Link` header announces one. */
  next: string | undefined;
}
