/**
 * What Sentry did with every event this billing cycle (SENTRY_BILLING_CYCLE_DAY; by default the calendar
 * month, UTC): the quantity per project, data category, outcome and reason, from
 * `GET /organizations/{org}/stats_v2/` (`field=sum(quantity)`, grouped by project, category, outcome and
 * reason; start = the cycle's first second, end = now). One set of answers feeds
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
 *
 * SENTRY_OUTCOME_LABELS drops labels of the outcome families, which then hold sums over them. Without
 * `project_slug` (and without SENTRY_EXPORTER_PROJECTS) they are the whole organization's: one question with
 * no `project` parameter, which Sentry answers for every project of the organization, those the token's user
 * is not a member of and deleted ones included (`organizationOutcomes`).
 */
import { boolean, duration, labelList } from '../config/formats.js';
import { setting } from '../config/settings.js';
import type { EventStatsQuery } from '../sentry/api.js';
import { ENDPOINTS } from '../sentry/endpoints.js';
import { SentryApiError } from '../sentry/errors.js';
import type { SkippedItems } from '../sentry/skipped.js';
import type { StatsGroupBy, StatsV2Group } from '../sentry/types.js';
import { cycleSoFar, cycleWording } from './billing-cycle.js';
import { byCodeUnit, defineCollector, refreshedEvery } from './collector.js';
import type { CollectContext, Collector, CollectorDeps, Family, ProjectInfo, Sample } from './collector.js';
import { STATS_ROW_CAP, organizationOutcomes, rowsBefore } from './organization-outcomes.js';
import { CarryOver } from './carry-over.js';
import type { CounterRows } from './carry-over.js';
import { CutSafePlanner, REFUSED_FOR_MS } from './planner.js';
import type { CutSafeQuery, PlannerRun } from './planner.js';

/** The quantity of one (project, category, outcome, reason) this cycle, as Sentry stores it. */
interface OutcomeRow {
  /** '' in the organization's rows. */
  project: string;
  category: string;
  outcome: string;
  /** `none` when Sentry has no reason; '' when the reason was not asked for. */
  reason: string;
  /** Items, bytes or milliseconds: see `unitOf`. */
  quantity: number;
}

export interface OutcomeData {
  /** Slugs of every project reported on (each gets sentry_events_total, zeros without outcomes). */
  projects: string[];
  /** Per project (when the families keep `project_slug`, or for sentry_events_total). */
  outcomes: OutcomeRow[];
  /** The whole organization's, by category, outcome and reason: when the families keep no `project_slug`. */
  organization?: OutcomeRow[];
}

/** The labels the outcome families can keep (SENTRY_OUTCOME_LABELS), in the order they are written. */
export const OUTCOME_LABELS = ['project_slug', 'category', 'outcome', 'reason'] as const;

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

/** Rows a batch is planned to hold: half the cap, room for the month's new reasons. */
const DEFAULT_ROW_TARGET = 5_000;
/** Rows per project assumed before the first answer. */
const FIRST_RUN_ROWS_PER_PROJECT = 50;
const GROUP_BY: readonly StatsGroupBy[] = ['project', 'category', 'outcome', 'reason'];

export interface OutcomesCollectorOptions {
  /** Seconds between runs (SENTRY_OUTCOMES_INTERVAL, by default SENTRY_POLL_INTERVAL). */
  interval: number;
  /** SENTRY_SCRAPE_OUTCOME_METRICS: the outcome families. */
  outcomes: boolean;
  /** SENTRY_SCRAPE_EVENT_METRICS: sentry_events_total. */
  events: boolean;
  /** SENTRY_BILLING_CYCLE_DAY: the counters count from this day of the month (default 1). */
  cycleDay?: number;
  /** SENTRY_OUTCOME_LABELS: the labels the outcome families keep (default all of OUTCOME_LABELS). */
  labels?: readonly string[];
  /**
   * Without `project_slug` in `labels`: whether the families are the whole organization's (no project
   * selection) rather than the sum over the projects reported on (SENTRY_EXPORTER_PROJECTS).
   */
  wholeOrganization?: boolean;
  /** Rows a batch is planned to hold (default 5,000). */
  rowTarget?: number;
}

/** Outcome rows as counters: a series per category, outcome and reason of a project. */
const OUTCOME_ROWS: CounterRows<OutcomeRow> = {
  project: (r) => r.project,
  series: (r) => `${r.category}\u0000${r.outcome}\u0000${r.reason}`,
  value: (r) => r.quantity,
  withValue: (r, quantity) => ({ ...r, quantity }),
};

export class OutcomesCollector implements Collector<OutcomeData> {
  readonly name = 'outcomes';
  readonly interval: number;
  private readonly rowTarget: number;
  private readonly planner = new CutSafePlanner();
  private readonly carry = new CarryOver<OutcomeRow>(OUTCOME_ROWS, REFUSED_FOR_MS);
  /** The organization's rows (project ''), floored as a read project's. */
  private readonly organizationCarry = new CarryOver<OutcomeRow>(OUTCOME_ROWS, 0);
  /** Categories of unknown unit already logged. */
  private readonly unknownCategories = new Set<string>();
  private readonly cycleDay: number;
  /** The labels the outcome families keep, in OUTCOME_LABELS order. */
  private readonly labels: readonly string[];
  /** The outcome families come from one question about the whole organization. */
  private readonly wholeOrganization: boolean;
  /** The per-project question's grouping (`reason` only when a family needs it). */
  private readonly groupBy: readonly StatsGroupBy[];

  constructor(
    private readonly deps: CollectorDeps,
    private readonly o: OutcomesCollectorOptions,
  ) {
    this.interval = o.interval;
    this.rowTarget = o.rowTarget ?? DEFAULT_ROW_TARGET;
    this.cycleDay = o.cycleDay ?? 1;
    this.labels = OUTCOME_LABELS.filter((l) => (o.labels ?? OUTCOME_LABELS).includes(l));
    this.wholeOrganization =
      o.outcomes && !this.labels.includes('project_slug') && o.wholeOrganization === true;
    const reasonPerProject = o.outcomes && !this.wholeOrganization && this.labels.includes('reason');
    this.groupBy = reasonPerProject ? GROUP_BY : GROUP_BY.filter((g) => g !== 'reason');
  }

  async collect({ projects, now, signal, skipped }: CollectContext): Promise<OutcomeData> {
    const { start, end } = cycleSoFar(now, this.cycleDay);
    const perProject = this.o.events || (this.o.outcomes && !this.wholeOrganization);
    const run = this.planner.run(signal, now);
    const [groups, organization] = await Promise.all([
      perProject ? run.fetch(this.query({ start, end }, skipped), projects) : [],
      this.wholeOrganization
        ? organizationOutcomes(
            this.deps.api,
            { start, end, by: this.labels.includes('reason') ? ['outcome', 'reason'] : ['outcome'] },
            { signal, skipped },
          )
        : undefined,
    ]);
    run.finish(this.deps.logger, ENDPOINTS.statsV2);

    const byId = new Map(projects.map((p) => [p.id, p.slug]));
    // A project refused this run keeps its last values (a drop would read as a counter reset), or is left
    // out; a read project's counters never go below their earlier values of the cycle.
    const missing = new Set([...run.gone].flatMap((id) => byId.get(id) ?? []));
    const read = projects.map((p) => p.slug);
    const { rows, carried, floored } = this.carry.merge(
      this.rows(groups, (g) => byId.get(g.project ?? '')),
      read,
      missing,
      { now, cycle: start.getTime() },
    );
    if (floored > 0) this.deps.logger.debug({ floored }, 'outcome series kept at their earlier values');
    return {
      projects: read.filter((p) => !missing.has(p) || carried.includes(p)),
      outcomes: rows.sort(byRow),
      ...(organization === undefined
        ? {}
        : {
            organization: this.organizationCarry
              .merge(
                this.rows(organization, () => ''),
                [''],
                new Set(),
                { now, cycle: start.getTime() },
              )
              .rows.sort(byRow),
          }),
    };
  }

  /** Groups as rows, summed by (project, category, outcome, reason) and sorted; `project` undefined: left out. */
  private rows(
    groups: readonly StatsV2Group[],
    project: (g: StatsV2Group) => string | undefined,
  ): OutcomeRow[] {
    const rows = new Map<string, OutcomeRow>();
    for (const group of groups) {
      const slug = project(group);
      if (slug === undefined) continue; // not asked for: never expected
      const { category = '', outcome = '', reason = '', quantity } = group;
      if (unitOf(category) === undefined && !this.unknownCategories.has(category)) {
        this.unknownCategories.add(category);
        this.deps.logger.warn(
          { category },
          'Sentry reports a data category this exporter does not know the unit of; it is exported as a count in sentry_outcomes_total',
        );
      }
      const key = `${slug}\u0000${category}\u0000${outcome}\u0000${reason}`;
      const row = rows.get(key);
      if (row) row.quantity += quantity;
      else rows.set(key, { project: slug, category, outcome, reason, quantity });
    }
    return [...rows.values()].sort(byRow);
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
            groupBy: this.groupBy,
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
        `Sentry's stats_v2 answer for project ${project.slug} and category ${category} this cycle reached its ${STATS_ROW_CAP}-row cap (more outcome and reason pairs than it returns); its outcomes are not published rather than published short`,
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
    for (const row of this.kept(data.organization ?? data.outcomes)) {
      const unit = unitOf(row.category) ?? 'count';
      const name =
        unit === 'bytes'
          ? 'sentry_outcome_bytes_total'
          : unit === 'milliseconds'
            ? 'sentry_outcome_seconds_total'
            : 'sentry_outcomes_total';
      const value: Record<string, string> = {
        project_slug: row.project,
        category: row.category,
        outcome: row.outcome,
        reason: row.reason,
      };
      const sample: Sample = {
        name,
        labels: this.labels.map((l) => [l, value[l] ?? ''] as const),
        value: unit === 'milliseconds' ? row.quantity / 1000 : row.quantity,
      };
      (unit === 'bytes' ? bytes : unit === 'milliseconds' ? seconds : counts).push(sample);
    }
    const { period, reset } = cycleWording(this.cycleDay);
    const per = [
      ...(this.labels.includes('project_slug') ? ['project'] : []),
      'data category',
      'outcome (accepted, filtered, rate_limited, invalid, abuse, client_discard, cardinality_limited)',
      ...(this.labels.includes('reason') ? ['reason as Sentry gives it ("none" when it has none)'] : []),
    ];
    const over = this.labels.includes('project_slug')
      ? ''
      : this.wholeOrganization
        ? ' Summed over every project of the organization (SENTRY_OUTCOME_LABELS), also those the token cannot see and deleted ones.'
        : ' Summed over the projects of SENTRY_EXPORTER_PROJECTS (SENTRY_OUTCOME_LABELS).';
    const month = `${period} per ${per.slice(0, -1).join(', ')} and ${per.at(-1) ?? ''}; ${reset.charAt(0).toLowerCase()}${reset.slice(1)}${over}`;
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

  /** The rows summed over the labels the families leave out, sorted by the ones they keep. */
  private kept(rows: readonly OutcomeRow[]): OutcomeRow[] {
    if (this.labels.length === OUTCOME_LABELS.length) return [...rows];
    const keep = (l: string) => this.labels.includes(l);
    const sums = new Map<string, OutcomeRow>();
    for (const r of rows) {
      const row = {
        project: keep('project_slug') ? r.project : '',
        category: r.category,
        outcome: r.outcome,
        reason: keep('reason') ? r.reason : '',
        quantity: r.quantity,
      };
      const key = `${row.project}\u0000${row.category}\u0000${row.outcome}\u0000${row.reason}`;
      const sum = sums.get(key);
      if (sum) sum.quantity += row.quantity;
      else sums.set(key, row);
    }
    return [...sums.values()].sort(byRow);
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
      help: `Error events ${cycleWording(this.cycleDay).period} per project: received, rejected (rate limited), blacklisted (filtered). ${refreshedEvery(this.interval)}`,
      samples,
    };
  }
}

/** Rows in the order of project slug, category, outcome and reason. */
function byRow(a: OutcomeRow, b: OutcomeRow): number {
  return (
    byCodeUnit(a.project, b.project) ||
    byCodeUnit(a.category, b.category) ||
    byCodeUnit(a.outcome, b.outcome) ||
    byCodeUnit(a.reason, b.reason)
  );
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
    labels: setting<string[]>({
      env: 'SENTRY_OUTCOME_LABELS',
      doc: 'Comma-separated labels the outcome families keep, out of project_slug, category, outcome, reason (category and outcome are always kept); the exporter sums over the others. Without project_slug they count the whole organization: every project, also those the token cannot see and deleted ones (the sum over SENTRY_EXPORTER_PROJECTS when that is set).',
      default: [...OUTCOME_LABELS],
      format: labelList(OUTCOME_LABELS, ['category', 'outcome']),
    }),
  },
  create: (deps, settings, { schedule, billing, sentry }) =>
    settings.enabled || settings.events
      ? new OutcomesCollector(deps, {
          interval: settings.interval > 0 ? settings.interval : schedule.pollInterval,
          outcomes: settings.enabled,
          events: settings.events,
          cycleDay: billing.cycleDay,
          labels: settings.labels,
          wholeOrganization: sentry.projects.length === 0,
        })
      : undefined,
});
