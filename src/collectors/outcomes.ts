/**
 * What Sentry did with every event this calendar month (UTC): the quantity per project, data category,
 * outcome and reason, from `GET /organizations/{org}/stats_v2/` (`field=sum(quantity)`, grouped by project,
 * category, outcome and reason; start = the month's first second, end = now). One set of answers feeds
 *
 * - `sentry_outcomes_total` (items), `sentry_outcome_bytes_total` (attachment, log_byte) and
 *   `sentry_outcome_seconds_total` (profile_duration*, milliseconds in Sentry) — SENTRY_SCRAPE_OUTCOME_METRICS;
 * - `sentry_events_total{stat}`, the Python exporter's family, from the `error` category (which Sentry's
 *   stats_v2 reports for error, default and security events alike, exactly what its `category=error` filter
 *   counts): received = accepted + filtered + rate_limited, rejected = rate_limited, blacklisted = filtered —
 *   SENTRY_SCRAPE_EVENT_METRICS.
 *
 * Sentry cuts every stats_v2 answer at 10,000 rows without a word, keeping arbitrary ones, and counts the
 * rows before it folds default and security into error (src/sentry/snuba/outcomes.py: `Limit(10000)`, no
 * ORDER BY, `_format_rows`). So the projects are asked in batches sized from the previous run's rows (half
 * the cap), and an answer that may have reached the cap is never used: its batch is split and asked again,
 * down to one project, then one category of one project. docs/sentry-api.md, Part 2.
 */
import type { SentryApi } from '../sentry/api.js';
import { ENDPOINTS } from '../sentry/endpoints.js';
import { SentryApiError } from '../sentry/errors.js';
import type { StatsV2Group } from '../sentry/types.js';
import { refreshedEvery } from './collector.js';
import type { CollectContext, Collector, Family, ProjectInfo, Sample } from './collector.js';

/** The quantity of one (project, category, outcome, reason) this month, as Sentry stores it. */
export interface OutcomeRow {
  project: string;
  category: string;
  outcome: string;
  /** `none` when Sentry has no reason. */
  reason: string;
  /** Items, bytes or milliseconds: see `unitOf`. */
  quantity: number;
}

export interface OutcomeData {
  /** Slugs of every project reported on (each gets sentry_events_total, zeros without outcomes). */
  projects: string[];
  outcomes: OutcomeRow[];
}

export type CategoryUnit = 'count' | 'bytes' | 'milliseconds';

/**
 * Units from relay's `CategoryUnit::from_category` (relay-base-schema/src/data_category.rs). stats_v2 sums
 * quantities as stored and converts nothing.
 */
const BYTE_CATEGORIES = new Set(['attachment', 'log_byte']);
const MILLISECOND_CATEGORIES = new Set(['profile_duration', 'profile_duration_ui']);
const COUNT_CATEGORIES = new Set([
  'error',
  'default',
  'security',
  'transaction',
  'transaction_processed',
  'transaction_indexed',
  'replay',
  'replay_video',
  'profile',
  'profile_indexed',
  'profile_chunk',
  'profile_chunk_ui',
  'profile_backend',
  'profile_ui',
  'span',
  'span_indexed',
  'log_item',
  'monitor',
  'monitor_seat',
  'metric_bucket',
  'metric_second',
  'feedback',
  'uptime',
  'attachment_item',
  'session',
  'seer_autofix',
  'seer_scanner',
  'seer_user',
  'prevent_user',
  'prevent_review',
  'size_analysis',
  'installable_build',
  'trace_metric',
]);

/** The unit of a category; one this exporter does not know is taken as a count (and logged once). */
export function unitOf(category: string): CategoryUnit | undefined {
  if (BYTE_CATEGORIES.has(category)) return 'bytes';
  if (MILLISECOND_CATEGORIES.has(category)) return 'milliseconds';
  return COUNT_CATEGORIES.has(category) ? 'count' : undefined;
}

/** snuba's row limit on a stats_v2 query (src/sentry/snuba/outcomes.py `Limit(10000)`). */
export const STATS_ROW_CAP = 10_000;
/** Rows a batch is planned to hold: half the cap, room for the month's new reasons. */
const DEFAULT_ROW_TARGET = 5_000;
/** Rows per project assumed before the first answer. */
const FIRST_RUN_ROWS_PER_PROJECT = 50;
/** Characters of `&project=<id>` parameters per request: URLs stay near 3.5 KB, well under 8 KB. */
const PROJECT_PARAMS_MAX_CHARS = 3_000;
const GROUP_BY = ['project', 'category', 'outcome', 'reason'] as const;

/**
 * Rows snuba may have returned for these groups: an `error` group may merge error, default and security
 * rows, a `spike_protection` group smart_rate_limit and spike_protection ones. At or above the cap, the
 * answer may have been cut.
 */
export function rowsBefore(groups: readonly StatsV2Group[]): number {
  let rows = 0;
  for (const g of groups)
    rows += (g.by.category === 'error' ? 3 : 1) * (g.by.reason === 'spike_protection' ? 2 : 1);
  return rows;
}

export function monthStartUtc(now: number): Date {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

export interface OutcomesCollectorOptions {
  api: SentryApi;
  /** Seconds between runs (SENTRY_OUTCOMES_INTERVAL, by default SENTRY_POLL_INTERVAL). */
  interval: number;
  /** SENTRY_SCRAPE_OUTCOME_METRICS: the outcome families. */
  outcomes: boolean;
  /** SENTRY_SCRAPE_EVENT_METRICS: sentry_events_total. */
  events: boolean;
  /** Rows a batch is planned to hold (default 5,000). */
  rowTarget?: number;
}

interface Range {
  start: Date;
  end: Date;
  signal: AbortSignal;
}

/** What one run learns while it asks: answers split for the cap, projects Sentry no longer shows. */
interface RunState {
  cutAnswers: number;
  /** Project ids answered 403 alone while the organization's stats were readable: deleted or moved. */
  gone: string[];
  /** Whether the token may read the organization's stats at all (asked once, at the first 403). */
  access?: Promise<boolean>;
}

export class OutcomesCollector implements Collector<OutcomeData> {
  readonly name = 'outcomes';
  readonly interval: number;
  private readonly rowTarget: number;
  /** Rows per project id in the last run's answers: the next run's batches are sized from them. */
  private rowsByProject = new Map<string, number>();
  /** Categories of unknown unit already logged. */
  private readonly unknownCategories = new Set<string>();

  constructor(private readonly o: OutcomesCollectorOptions) {
    this.interval = o.interval;
    this.rowTarget = o.rowTarget ?? DEFAULT_ROW_TARGET;
  }

  async collect({ projects, now, signal, logger }: CollectContext): Promise<OutcomeData> {
    const start = monthStartUtc(now);
    // Sentry refuses start >= end: at the month's very first instant, ask for its first second.
    const end = new Date(Math.max(now, start.getTime() + 1000));
    const range: Range = { start, end, signal };
    const run: RunState = { cutAnswers: 0, gone: [] };
    const answers = await Promise.all(
      this.batches(projects).map((b) => this.fetch(b, undefined, range, run)),
    );

    const byId = new Map(projects.map((p) => [p.id, p.slug]));
    const rows = new Map<string, OutcomeRow>();
    const rowsByProject = new Map<string, number>(projects.map((p) => [p.id, 0]));
    for (const group of answers.flat()) {
      const id = String(group.by.project);
      const project = byId.get(id);
      if (project === undefined) continue; // not asked for: never expected
      const category = label(group, 'category');
      const outcome = label(group, 'outcome');
      const reason = group.by.reason === undefined ? 'none' : label(group, 'reason');
      const quantity = group.totals['sum(quantity)'] ?? 0;
      rowsByProject.set(id, (rowsByProject.get(id) ?? 0) + rowsBefore([group]));
      if (unitOf(category) === undefined && !this.unknownCategories.has(category)) {
        this.unknownCategories.add(category);
        logger.warn(
          { collector: this.name, category },
          'Sentry reports a data category this exporter does not know the unit of; it is exported as a count in sentry_outcomes_total',
        );
      }
      const key = `${project}\u0000${category}\u0000${outcome}\u0000${reason}`;
      const row = rows.get(key);
      if (row) row.quantity += quantity;
      else rows.set(key, { project, category, outcome, reason, quantity });
    }
    this.rowsByProject = rowsByProject;
    if (run.cutAnswers > 0) {
      logger.info(
        { collector: this.name, cutAnswers: run.cutAnswers },
        "stats_v2 answers that may have reached Sentry's 10,000-row cap were split and asked again",
      );
    }
    if (run.gone.length > 0) {
      logger.info(
        { collector: this.name, projectIds: run.gone.slice(0, 10), count: run.gone.length },
        'projects refused (403) since the project list was read (deleted, or no longer visible to the token); left out until the next project list',
      );
    }
    const outcomes = [...rows.values()].sort(
      (a, b) =>
        compare(a.project, b.project) ||
        compare(a.category, b.category) ||
        compare(a.outcome, b.outcome) ||
        compare(a.reason, b.reason),
    );
    return { projects: projects.map((p) => p.slug), outcomes };
  }

  /** Consecutive projects, each batch within the row target (by the last run) and the URL budget. */
  private batches(projects: readonly ProjectInfo[]): string[][] {
    const known = [...this.rowsByProject.values()];
    const fallback =
      known.length > 0
        ? Math.max(1, Math.ceil(known.reduce((a, b) => a + b, 0) / known.length))
        : FIRST_RUN_ROWS_PER_PROJECT;
    const batches: string[][] = [];
    let batch: string[] = [];
    let rows = 0;
    let chars = 0;
    for (const p of projects) {
      const estimate = Math.max(1, this.rowsByProject.get(p.id) ?? fallback);
      const paramChars = '&project='.length + encodeURIComponent(p.id).length;
      if (
        batch.length > 0 &&
        (rows + estimate > this.rowTarget || chars + paramChars > PROJECT_PARAMS_MAX_CHARS)
      ) {
        batches.push(batch);
        batch = [];
        rows = 0;
        chars = 0;
      }
      batch.push(p.id);
      rows += estimate;
      chars += paramChars;
    }
    if (batch.length > 0) batches.push(batch);
    return batches;
  }

  /**
   * The groups of these projects (of one category, when given). An answer that may be cut is split: into
   * two halves of the projects, or for one project into its categories; one category of one project at the
   * cap is an error, never a silently short total.
   */
  private async fetch(
    projectIds: string[],
    category: string | undefined,
    range: Range,
    run: RunState,
  ): Promise<StatsV2Group[]> {
    let stats;
    try {
      stats = await this.o.api.getEventStats(
        {
          start: range.start,
          end: range.end,
          projectIds,
          ...(category === undefined ? {} : { categories: [category] }),
          groupBy: [...GROUP_BY],
          interval: '1d',
        },
        { signal: range.signal },
      );
    } catch (err) {
      return this.refused(err, projectIds, category, range, run);
    }
    if (rowsBefore(stats.groups) < STATS_ROW_CAP) return stats.groups;
    run.cutAnswers++;
    if (projectIds.length > 1) return this.halves(projectIds, category, range, run);
    if (category === undefined) {
      const listing = await this.o.api.getEventStats(
        { start: range.start, end: range.end, projectIds, groupBy: ['category'], interval: '1d' },
        { signal: range.signal },
      );
      const categories = listing.groups.map((g) => label(g, 'category'));
      const parts = await Promise.all(categories.map((c) => this.fetch(projectIds, c, range, run)));
      return parts.flat();
    }
    throw new SentryApiError(
      `Sentry's stats_v2 answer for project id ${projectIds[0] ?? ''} and category ${category} this month reached its ${STATS_ROW_CAP}-row cap (more outcome and reason pairs than it returns); its outcomes are not published rather than published short`,
      { kind: 'parse', endpoint: ENDPOINTS.statsV2 },
    );
  }

  private async halves(
    projectIds: string[],
    category: string | undefined,
    range: Range,
    run: RunState,
  ): Promise<StatsV2Group[]> {
    const half = Math.ceil(projectIds.length / 2);
    const parts = await Promise.all([
      this.fetch(projectIds.slice(0, half), category, range, run),
      this.fetch(projectIds.slice(half), category, range, run),
    ]);
    return parts.flat();
  }

  /**
   * A 403 names no project: Sentry refuses the whole request when one listed project is no longer
   * accessible (src/sentry/api/bases/organization.py, get_projects), as when it was deleted after the project
   * list was read. When the token can read the organization's stats at all (asked once per run, with
   * project=-1), the batch is halved until the refused projects are found and left out; otherwise (a token
   * without org:read) the refusal is the collector's error.
   */
  private async refused(
    err: unknown,
    projectIds: string[],
    category: string | undefined,
    range: Range,
    run: RunState,
  ): Promise<StatsV2Group[]> {
    if (!(err instanceof SentryApiError && err.status === 403)) throw err;
    run.access ??= this.o.api
      .getEventStats(
        {
          start: range.start,
          end: range.end,
          projectIds: ['-1'],
          categories: ['error'],
          groupBy: ['outcome'],
          interval: '1d',
        },
        { signal: range.signal },
      )
      .then(
        () => true,
        () => false,
      );
    if (!(await run.access)) throw err;
    if (projectIds.length > 1) return this.halves(projectIds, category, range, run);
    run.gone.push(...projectIds);
    return [];
  }

  render(data: OutcomeData): Family[] {
    const families: Family[] = [];
    if (this.o.events) families.push(this.eventsFamily(data));
    if (!this.o.outcomes) return families;
    const counts: Sample[] = [];
    const bytes: Sample[] = [];
    const seconds: Sample[] = [];
    for (const row of data.outcomes) {
      const unit = unitOf(row.category) ?? 'count';
      const name =
        unit === 'bytes'
          ? 'sentry_outcome_bytes_total'
          : unit === 'milliseconds'
            ? 'sentry_outcome_seconds_total'
            : 'sentry_outcomes_total';
      const sample: Sample = {
        name,
        labels: [
          ['project_slug', row.project],
          ['category', row.category],
          ['outcome', row.outcome],
          ['reason', row.reason],
        ],
        value: unit === 'milliseconds' ? row.quantity / 1000 : row.quantity,
      };
      (unit === 'bytes' ? bytes : unit === 'milliseconds' ? seconds : counts).push(sample);
    }
    const month =
      'this calendar month (UTC) per project, data category, outcome (accepted, filtered, rate_limited, invalid, abuse, client_discard, cardinality_limited) and reason as Sentry gives it ("none" when it has none); resets at the start of a month.';
    families.push(
      {
        name: 'sentry_outcomes_total',
        type: 'counter',
        help: `Items Sentry recorded ${month} Categories measured in bytes or milliseconds have their own families; a category this exporter does not know the unit of is counted here. ${refreshedEvery(this.interval)}`,
        samples: counts,
      },
      {
        name: 'sentry_outcome_bytes_total',
        type: 'counter',
        help: `Bytes Sentry recorded (attachment, log_byte) ${month} ${refreshedEvery(this.interval)}`,
        samples: bytes,
      },
      {
        name: 'sentry_outcome_seconds_total',
        type: 'counter',
        help: `Seconds Sentry recorded (profile_duration, profile_duration_ui; milliseconds in Sentry) ${month} ${refreshedEvery(this.interval)}`,
        samples: seconds,
      },
    );
    return families;
  }

  private eventsFamily(data: OutcomeData): Family {
    const totals = new Map(data.projects.map((p) => [p, { received: 0, rejected: 0, blacklisted: 0 }]));
    for (const row of data.outcomes) {
      const t = totals.get(row.project);
      if (t === undefined || row.category !== 'error') continue;
      // invalid, abuse, client_discard, cardinality_limited: the Python exporter's stats did not count them
      if (row.outcome === 'accepted' || row.outcome === 'filtered' || row.outcome === 'rate_limited')
        t.received += row.quantity;
      if (row.outcome === 'filtered') t.blacklisted += row.quantity;
      if (row.outcome === 'rate_limited') t.rejected += row.quantity;
    }
    const samples: Sample[] = [];
    for (const [project, t] of totals) {
      for (const stat of ['received', 'rejected', 'blacklisted'] as const) {
        samples.push({
          name: 'sentry_events_total',
          labels: [
            ['project_slug', project],
            ['stat', stat],
          ],
          value: t[stat],
        });
      }
    }
    return {
      name: 'sentry_events_total',
      type: 'counter',
      help: `Error events this calendar month (UTC) per project: received, rejected (rate limited), blacklisted (filtered). ${refreshedEvery(this.interval)}`,
      samples,
    };
  }
}

/** A `by` value the collector uses: a string, or the answer is refused with the endpoint named. */
function label(group: StatsV2Group, key: string): string {
  const value = group.by[key];
  if (typeof value === 'string') return value;
  throw new SentryApiError(
    `Unexpected response from Sentry ${ENDPOINTS.statsV2}: groups[].by.${key} should be a string, got ${JSON.stringify(value) ?? 'nothing'}`,
    { kind: 'parse', endpoint: ENDPOINTS.statsV2 },
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
