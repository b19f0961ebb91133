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
import { boolean, duration } from '../config/formats.js';
import { setting } from '../config/settings.js';
import type { EventStatsQuery } from '../sentry/api.js';
import { ENDPOINTS } from '../sentry/endpoints.js';
import { SentryApiError } from '../sentry/errors.js';
import type { SkippedItems } from '../sentry/skipped.js';
import type { StatsGroupBy, StatsV2Group } from '../sentry/types.js';
import { byCodeUnit, defineCollector, refreshedEvery } from './collector.js';
import type { CollectContext, Collector, CollectorDeps, Family, ProjectInfo, Sample } from './collector.js';
import { CutSafePlanner } from './planner.js';
import type { CutSafeQuery, PlannerRun } from './planner.js';

/** The quantity of one (project, category, outcome, reason) this month, as Sentry stores it. */
interface OutcomeRow {
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
const STATS_ROW_CAP = 10_000;
/** Rows a batch is planned to hold: half the cap, room for the month's new reasons. */
const DEFAULT_ROW_TARGET = 5_000;
/** Rows per project assumed before the first answer. */
const FIRST_RUN_ROWS_PER_PROJECT = 50;
const GROUP_BY: readonly StatsGroupBy[] = ['project', 'category', 'outcome', 'reason'];

/**
 * Rows snuba may have returned for these groups: an `error` group may merge error, default and security
 * rows, a `spike_protection` group smart_rate_limit and spike_protection ones. At or above the cap, the
 * answer may have been cut.
 */
function rowsBefore(groups: readonly StatsV2Group[]): number {
  let rows = 0;
  for (const g of groups)
    rows += (g.category === 'error' ? 3 : 1) * (g.reason === 'spike_protection' ? 2 : 1);
  return rows;
}

function monthStartUtc(now: number): Date {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

export interface OutcomesCollectorOptions {
  /** Seconds between runs (SENTRY_OUTCOMES_INTERVAL, by default SENTRY_POLL_INTERVAL). */
  interval: number;
  /** SENTRY_SCRAPE_OUTCOME_METRICS: the outcome families. */
  outcomes: boolean;
  /** SENTRY_SCRAPE_EVENT_METRICS: sentry_events_total. */
  events: boolean;
  /** Rows a batch is planned to hold (default 5,000). */
  rowTarget?: number;
}

export class OutcomesCollector implements Collector<OutcomeData> {
  readonly name = 'outcomes';
  readonly interval: number;
  private readonly rowTarget: number;
  private readonly planner = new CutSafePlanner();
  /** Categories of unknown unit already logged. */
  private readonly unknownCategories = new Set<string>();

  constructor(
    private readonly deps: CollectorDeps,
    private readonly o: OutcomesCollectorOptions,
  ) {
    this.interval = o.interval;
    this.rowTarget = o.rowTarget ?? DEFAULT_ROW_TARGET;
  }

  async collect({ projects, now, signal, skipped }: CollectContext): Promise<OutcomeData> {
    const start = monthStartUtc(now);
    // Sentry refuses start >= end: at the month's very first instant, ask for its first second.
    const end = new Date(Math.max(now, start.getTime() + 1000));
    const run = this.planner.run(signal);
    const groups = await run.fetch(this.query({ start, end }, skipped), projects);
    run.finish(this.deps.logger, ENDPOINTS.statsV2);

    const byId = new Map(projects.map((p) => [p.id, p.slug]));
    const rows = new Map<string, OutcomeRow>();
    for (const group of groups) {
      const project = byId.get(group.project ?? '');
      if (project === undefined) continue; // not asked for: never expected
      const { category = '', outcome = '', reason = 'none', quantity } = group;
      if (unitOf(category) === undefined && !this.unknownCategories.has(category)) {
        this.unknownCategories.add(category);
        this.deps.logger.warn(
          { category },
          'Sentry reports a data category this exporter does not know the unit of; it is exported as a count in sentry_outcomes_total',
        );
      }
      const key = `${project}\u0000${category}\u0000${outcome}\u0000${reason}`;
      const row = rows.get(key);
      if (row) row.quantity += quantity;
      else rows.set(key, { project, category, outcome, reason, quantity });
    }
    const outcomes = [...rows.values()].sort(
      (a, b) =>
        byCodeUnit(a.project, b.project) ||
        byCodeUnit(a.category, b.category) ||
        byCodeUnit(a.outcome, b.outcome) ||
        byCodeUnit(a.reason, b.reason),
    );
    return { projects: projects.map((p) => p.slug), outcomes };
  }

  /**
   * The month's outcomes of a batch of projects (of one category, when given). An answer that may be cut is
   * split by the planner; one project cut alone is asked per category, and one category of one project at
   * the cap is an error, never a silently short total.
   */
  private query(
    range: Pick<EventStatsQuery, 'start' | 'end'>,
    skipped: SkippedItems,
    category?: string,
  ): CutSafeQuery<StatsV2Group[], StatsV2Group> {
    const { api } = this.deps;
    const ask = (projectIds: string[], signal: AbortSignal, q: Partial<EventStatsQuery> = {}) =>
      api
        .getEventStats(
          {
            ...range,
            projectIds,
            groupBy: GROUP_BY,
            interval: '1d',
            ...(category === undefined ? {} : { categories: [category] }),
            ...q,
          },
          { signal, skipped },
        )
        .then((stats) => stats.groups);
    return {
      ...(category === undefined ? { key: 'outcomes' } : {}),
      target: this.rowTarget,
      allowAll: false,
      estimate: (_p, lastRun) => lastRun ?? FIRST_RUN_ROWS_PER_PROJECT,
      ask: (batch, signal) =>
        ask(
          batch.projects.map((p) => p.id),
          signal,
        ),
      measure: (groups) => {
        const rows = new Map<string, number>();
        for (const g of groups) {
          const id = g.project ?? '';
          rows.set(id, (rows.get(id) ?? 0) + rowsBefore([g]));
        }
        return { rows, cut: rowsBefore(groups) >= STATS_ROW_CAP };
      },
      items: (groups) => groups,
      alone: (project, _answer, run) => this.perCategory(project, range, skipped, category, run),
      // Whether the token may read the organization's stats at all (project=-1).
      probe: (signal) => ask(['-1'], signal, { categories: ['error'], groupBy: ['outcome'] }),
    };
  }

  private async perCategory(
    project: ProjectInfo,
    range: Pick<EventStatsQuery, 'start' | 'end'>,
    skipped: SkippedItems,
    category: string | undefined,
    run: PlannerRun,
  ): Promise<StatsV2Group[]> {
    if (category !== undefined) {
      throw new SentryApiError(
        `Sentry's stats_v2 answer for project ${project.slug} and category ${category} this month reached its ${STATS_ROW_CAP}-row cap (more outcome and reason pairs than it returns); its outcomes are not published rather than published short`,
        { kind: 'cut', endpoint: ENDPOINTS.statsV2, project: project.slug },
      );
    }
    const listing = await this.deps.api.getEventStats(
      { ...range, projectIds: [project.id], groupBy: ['category'], interval: '1d' },
      { signal: run.signal, project: project.slug, skipped },
    );
    const categories = listing.groups.map((g) => g.category ?? '');
    const parts = await Promise.all(
      categories.map((c) => run.fetch(this.query(range, skipped, c), [project])),
    );
    return parts.flat();
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

export const outcomes = defineCollector({
  name: 'outcomes',
  settings: {
    enabled: setting({
      env: 'SENTRY_SCRAPE_OUTCOME_METRICS',
      doc: 'Export sentry_outcomes_total, sentry_outcome_bytes_total and sentry_outcome_seconds_total.',
      default: true,
      format: boolean,
      formerly: 'scrape.outcomeMetrics',
    }),
    events: setting({
      env: 'SENTRY_SCRAPE_EVENT_METRICS',
      doc: 'Export sentry_events_total.',
      default: true,
      format: boolean,
      formerly: 'scrape.eventMetrics',
    }),
    interval: setting({
      env: 'SENTRY_OUTCOMES_INTERVAL',
      doc: 'Seconds between refreshes of the outcome families and sentry_events_total; 0 means SENTRY_POLL_INTERVAL.',
      default: 0,
      format: duration({ zero: true }),
      formerly: 'schedule.outcomesInterval',
    }),
  },
  create: (deps, settings, { schedule }) =>
    settings.enabled || settings.events
      ? new OutcomesCollector(deps, {
          interval: settings.interval > 0 ? settings.interval : schedule.pollInterval,
          outcomes: settings.enabled,
          events: settings.events,
        })
      : undefined,
});
