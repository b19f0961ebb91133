/**
 * Performance of the organization's busiest transactions: per project and transaction (and environment,
 * when SENTRY_PERFORMANCE_ENVIRONMENTS is set), the duration quantiles, the failure ratio, the throughput
 * and the number of transactions, over the last SENTRY_PERFORMANCE_WINDOW. Off by default: only
 * SENTRY_PERFORMANCE_TRANSACTIONS > 0 turns it on.
 *
 * One query of `GET /organizations/{org}/events/`, sorted by count, its first ⌈N / 100⌉ pages: the N
 * busiest transactions. Current Sentry answers from the `spans` dataset (the segment spans, which are the
 * transactions); older self-hosted releases know no such dataset and answer 400, and the collector falls
 * back to `transactions`, then to `discover`, and keeps that choice (asking `spans` again every few hours).
 * docs/sentry-api.md, Part 4.
 *
 * Every value is the answer's, converted to base units by the answer's `meta.units` (milliseconds to
 * seconds, per minute to per second). The numbers are those of the transactions Sentry stored (after SDK
 * and dynamic sampling), in every dataset: the spans query asks Sentry not to extrapolate them.
 */
import { createHash } from 'node:crypto';
import { duration, list, number, text } from '../config/formats.js';
import { setting } from '../config/settings.js';
import { SentryApiError } from '../sentry/errors.js';
import { TRANSACTION_QUANTILES } from '../sentry/types.js';
import type { EventsDataset, TransactionStats } from '../sentry/types.js';
import type { TransactionStatsPage } from '../sentry/types.js';
import { byCodeUnit, defineCollector, refreshedEvery } from './collector.js';
import type { CollectContext, Collector, CollectorDeps, Family, Sample } from './collector.js';
import { NO_ENVIRONMENT } from './compat.js';

/** Sentry's largest page of the events endpoint (`per_page` 1..100, src/sentry/api/base.py). */
const PAGE_SIZE = 100;
/** Project ids named in one query when SENTRY_EXPORTER_PROJECTS restricts them (about 2.5 KB of URL). */
const PROJECTS_PER_QUERY = 100;
/** After a fallback, `spans` is asked again this long after (an upgraded server answers it). */
export const DATASET_REPROBE_MS = 6 * 3_600_000;

/**
 * The longest `transaction` label value, in characters (code points). A longer name is cut to its first
 * TRANSACTION_LABEL_MAX − 17 characters, then `~` and the first 16 hex digits of the SHA-256 of the whole
 * name: two names cut alike still differ, and the same name always gives the same label.
 */
export const TRANSACTION_LABEL_MAX = 200;
const HASH_HEX_DIGITS = 16;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The label value of a transaction name: the name itself, or cut with a hash suffix past
 * TRANSACTION_LABEL_MAX characters. A lone UTF-16 surrogate (JSON allows one) becomes U+FFFD, which is what
 * UTF-8 output would make of it anyway.
 */
export function transactionLabel(name: string): { value: string; cut: boolean } {
  const whole = name.replace(LONE_SURROGATE, '\uFFFD');
  // A string of at most MAX code units has at most MAX code points.
  if (whole.length <= TRANSACTION_LABEL_MAX) return { value: whole, cut: false };
  const points = Array.from(whole);
  if (points.length <= TRANSACTION_LABEL_MAX) return { value: whole, cut: false };
  const hash = createHash('sha256').update(whole, 'utf8').digest('hex').slice(0, HASH_HEX_DIGITS);
  const keep = TRANSACTION_LABEL_MAX - HASH_HEX_DIGITS - 1;
  return { value: `${points.slice(0, keep).join('')}~${hash}`, cut: true };
}

/** Sentry's `statsPeriod` for a window of whole seconds: `15m`, `2h`, `1d`, or seconds (`90s`). */
export function statsPeriod(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  if (s % 86_400 === 0) return `${s / 86_400}d`;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

/** One exported transaction: its labels (the name as its label value) and its values in base units. */
export interface PerformanceRow {
  project: string;
  /** The label value (transactionLabel). */
  transaction: string;
  /** Only when split by environment: the name, `None` for events sent without one. */
  environment?: string;
  count: number;
  perSecond: number | null;
  failureRatio: number | null;
  /** In TRANSACTION_QUANTILES order. */
  seconds: Array<number | null>;
}

export interface PerformanceData {
  rows: PerformanceRow[];
  /** Rows whose transaction name was cut (TRANSACTION_LABEL_MAX). */
  truncated: number;
}

export interface PerformanceOptions {
  /** SENTRY_PERFORMANCE_INTERVAL, or SENTRY_POLL_INTERVAL; seconds. */
  interval: number;
  /** SENTRY_PERFORMANCE_TRANSACTIONS: how many of the busiest transactions. */
  transactions: number;
  /** SENTRY_PERFORMANCE_WINDOW, seconds. */
  window: number;
  /** SENTRY_PERFORMANCE_QUERY. */
  query: string;
  /** SENTRY_PERFORMANCE_ENVIRONMENTS; empty: all environments, no environment label. */
  environments: readonly string[];
  /** SENTRY_EXPORTER_PROJECTS is set: queries name the listed projects (never `project=-1`). */
  restrictedSelection: boolean;
}

/** The dataset tried after `d` answered 400, or undefined after the last one. */
const AFTER: Record<EventsDataset, EventsDataset | undefined> = {
  spans: 'transactions',
  transactions: 'discover',
  discover: undefined,
};

/**
 * Whether an answer came from the dataset asked. `meta.dataset` names the dataset the server used
 * (`DATASET_LABELS`); a server that ignores the parameter answers from `discover`. Discover is the default,
 * asked without the parameter: any answer is its own (servers before `meta.dataset` send none).
 */
function answeredBy(asked: EventsDataset, page: TransactionStatsPage): boolean {
  return asked === 'discover' || page.dataset === asked;
}

/**
 * A 400 that says the dataset (or a field or parameter of it) is unknown to this server, not that Sentry is
 * overloaded: snuba's limits come back as a 400 "Query timeout" (src/sentry/api/utils.py,
 * handle_query_errors), retried next cycle rather than falling back.
 */
function refusedByServer(err: unknown): err is SentryApiError {
  return (
    err instanceof SentryApiError &&
    err.kind === 'http' &&
    err.status === 400 &&
    !/query timeout/i.test(err.detail ?? '')
  );
}

/**
 * A 404 without a body is the events endpoint's answer to an organization without Discover or Performance
 * (`has_feature`, src/sentry/api/bases/organization_events.py): said so, rather than a bare status.
 */
function explained(err: unknown): unknown {
  if (!(err instanceof SentryApiError) || err.status !== 404 || err.detail !== undefined) return err;
  return new SentryApiError(
    `${err.message} (no body: the organization has neither Discover nor Performance, which the events endpoint needs)`,
    {
      kind: err.kind,
      endpoint: err.endpoint,
      status: err.status,
      project: err.project,
      attempts: err.attempts,
      cause: err,
    },
  );
}

export class PerformanceCollector implements Collector<PerformanceData> {
  readonly name = 'performance';
  readonly interval: number;
  /** The dataset that answered last; every run starts with it. */
  #dataset: EventsDataset = 'spans';
  /** When the collector fell back from `spans` (undefined while on spans). */
  #fellBackAt: number | undefined;

  constructor(
    private readonly deps: CollectorDeps,
    private readonly o: PerformanceOptions,
  ) {
    this.interval = o.interval;
  }

  /** The dataset of the last successful run. */
  get dataset(): EventsDataset {
    return this.#dataset;
  }

  async collect(ctx: CollectContext): Promise<PerformanceData> {
    const { projects } = ctx;
    if (this.o.restrictedSelection && projects.length === 0) return { rows: [], truncated: 0 };
    // After a fallback, spans is asked again now and then; the fallback stands until spans answers.
    let start = this.#dataset;
    if (this.#fellBackAt !== undefined && ctx.now - this.#fellBackAt >= DATASET_REPROBE_MS) {
      start = 'spans';
      this.#fellBackAt = ctx.now;
    }
    const groups: string[][] = [];
    if (!this.o.restrictedSelection) groups.push([]);
    else
      for (let i = 0; i < projects.length; i += PROJECTS_PER_QUERY)
        groups.push(projects.slice(i, i + PROJECTS_PER_QUERY).map((p) => p.id));

    const byEnvironment = this.o.environments.length > 0;
    const found = new Map<string, TransactionStats>();
    for (const ids of groups) {
      const rows = await this.top(ids, ctx, start);
      start = this.#dataset;
      for (const row of rows) {
        const key = `${row.project}\u0000${row.transaction}\u0000${row.environment ?? ''}`;
        if (!found.has(key)) found.set(key, row);
      }
    }
    const top = [...found.values()]
      .sort(
        (a, b) =>
          b.count - a.count ||
          byCodeUnit(a.project, b.project) ||
          byCodeUnit(a.transaction, b.transaction) ||
          byCodeUnit(a.environment ?? '', b.environment ?? ''),
      )
      .slice(0, this.o.transactions);

    const rows: PerformanceRow[] = [];
    const labelSets = new Set<string>();
    let truncated = 0;
    let collided = 0;
    for (const r of top) {
      const label = transactionLabel(r.transaction);
      const environment = byEnvironment ? (r.environment ?? NO_ENVIRONMENT) : undefined;
      const labelSet = `${r.project}\u0000${label.value}\u0000${environment ?? ''}`;
      // Two names alike but for a lone surrogate, or a hash collision: one series per label set.
      if (labelSets.has(labelSet)) {
        collided++;
        continue;
      }
      labelSets.add(labelSet);
      if (label.cut) truncated++;
      rows.push({
        project: r.project,
        transaction: label.value,
        ...(environment === undefined ? {} : { environment }),
        count: r.count,
        perSecond: r.perSecond,
        failureRatio: r.failureRatio,
        seconds: r.seconds,
      });
    }
    if (collided > 0) {
      this.deps.logger.warn(
        { transactions: collided },
        'transactions whose label values came out the same as another one of the same project were left out',
      );
    }
    return { rows, truncated };
  }

  /** The busiest transactions of a group of projects (all of them: `[]`), at most N. */
  private async top(
    projectIds: string[],
    ctx: CollectContext,
    start: EventsDataset,
  ): Promise<TransactionStats[]> {
    const { page: first, dataset } = await this.firstPage(projectIds, ctx, start);
    const rows = [...first.rows];
    let next = first.next;
    // ⌈N / 100⌉ pages at most: the first and the ones after it, while Sentry has more.
    const pages = Math.ceil(this.o.transactions / PAGE_SIZE);
    for (let page = 1; page < pages && next !== undefined && rows.length < this.o.transactions; page++) {
      const answer = await this.ask(dataset, projectIds, ctx, next);
      rows.push(...answer.rows);
      next = answer.next;
    }
    return rows.slice(0, this.o.transactions);
  }

  /**
   * The first page from `start` (the dataset of the last run, or spans when it is asked again), or from the
   * next dataset when the server refuses it (400) or answers from another one (it ignored the parameter).
   * `spans` answering nothing at all is checked against `transactions`: self-hosted releases know the spans
   * dataset before they store anything in it.
   */
  private async firstPage(
    projectIds: string[],
    ctx: CollectContext,
    start: EventsDataset,
  ): Promise<{ page: TransactionStatsPage; dataset: EventsDataset }> {
    let dataset = start;
    let why = '';
    for (;;) {
      let page: TransactionStatsPage | undefined;
      let refusal: SentryApiError | undefined;
      try {
        page = await this.ask(dataset, projectIds, ctx);
      } catch (err) {
        if (!refusedByServer(err)) throw explained(err);
        refusal = err;
      }
      if (page !== undefined && answeredBy(dataset, page)) {
        if (dataset === 'spans' && page.rows.length === 0) {
          const other = await this.emptySpans(projectIds, ctx);
          if (other !== undefined) {
            this.#use(
              'transactions',
              ctx.now,
              'the spans dataset holds no transactions, the transactions dataset does',
            );
            return { page: other, dataset: 'transactions' };
          }
        }
        this.#use(dataset, ctx.now, why);
        return { page, dataset };
      }
      if (refusal !== undefined) {
        const next = AFTER[dataset];
        if (next === undefined) throw refusal;
        why = `Sentry refused the ${dataset} dataset: ${refusal.detail ?? `HTTP ${refusal.status ?? ''}`}`;
        dataset = next;
      } else {
        // Only a server that ignores the `dataset` parameter answers from another dataset: discover, asked
        // without one. (Discover itself never gets here: any answer is its own.)
        why = `Sentry answered the ${dataset} query from the "${page?.dataset ?? 'default'}" dataset`;
        dataset = 'discover';
      }
      this.deps.logger.debug({ dataset, reason: why }, 'asking the next dataset');
    }
  }

  /** The transactions dataset's first page when spans had none and it has some; otherwise undefined. */
  private async emptySpans(
    projectIds: string[],
    ctx: CollectContext,
  ): Promise<TransactionStatsPage | undefined> {
    try {
      const page = await this.ask('transactions', projectIds, ctx);
      return page.dataset === 'transactions' && page.rows.length > 0 ? page : undefined;
    } catch (err) {
      // sentry.io may retire the transactions dataset: spans and its empty answer stand.
      if (refusedByServer(err)) return undefined;
      throw err;
    }
  }

  /** Keeps the dataset that answered for the next runs; a change is logged once, with its reason. */
  #use(dataset: EventsDataset, now: number, reason: string): void {
    if (dataset === this.#dataset) return;
    this.deps.logger.info(
      { dataset, previous: this.#dataset, reason },
      `transactions are read from Sentry's ${dataset} dataset`,
    );
    this.#dataset = dataset;
    this.#fellBackAt = dataset === 'spans' ? undefined : now;
  }

  private ask(
    dataset: EventsDataset,
    projectIds: string[],
    ctx: CollectContext,
    cursor?: string,
  ): Promise<TransactionStatsPage> {
    return this.deps.api.getTransactionStats(
      {
        dataset,
        projectIds,
        environments: this.o.environments,
        byEnvironment: this.o.environments.length > 0,
        query: this.o.query,
        statsPeriod: statsPeriod(this.o.window),
        perPage: Math.min(this.o.transactions, PAGE_SIZE),
      },
      { signal: ctx.signal, skipped: ctx.skipped, ...(cursor === undefined ? {} : { cursor }) },
    );
  }

  render(data: PerformanceData): Family[] {
    const refreshed = refreshedEvery(this.interval);
    const window = statsPeriod(this.o.window);
    const durations: Sample[] = [];
    const failure: Sample[] = [];
    const throughput: Sample[] = [];
    const counts: Sample[] = [];
    for (const r of data.rows) {
      const labels: Array<[string, string]> = [
        ['project_slug', r.project],
        ['transaction', r.transaction],
      ];
      if (r.environment !== undefined) labels.push(['environment', r.environment]);
      TRANSACTION_QUANTILES.forEach((q, i) => {
        const v = r.seconds[i];
        if (v === null || v === undefined) return;
        durations.push({
          name: 'sentry_transaction_duration_seconds',
          labels: [...labels, ['quantile', String(q)]],
          value: v,
        });
      });
      if (r.failureRatio !== null)
        failure.push({ name: 'sentry_transaction_failure_ratio', labels, value: r.failureRatio });
      if (r.perSecond !== null)
        throughput.push({ name: 'sentry_transaction_throughput_per_second', labels, value: r.perSecond });
      counts.push({ name: 'sentry_transactions_in_window', labels, value: r.count });
    }
    const scope = `the ${this.o.transactions} busiest transactions of the organization over the last ${window}`;
    return [
      // A summary of quantiles only: quantiles over a sliding window are what a summary's are, and
      // Prometheus' lint refuses a `quantile` label on any other type. No _sum or _count: nothing here is
      // cumulative (the window's count is sentry_transactions_in_window).
      {
        name: 'sentry_transaction_duration_seconds',
        type: 'summary',
        help: `Duration quantiles (0.5, 0.75, 0.95, 0.99) in seconds, per project and transaction, of ${scope}, as Sentry computes them (quantiles only, no _sum or _count). ${refreshed}`,
        samples: durations,
      },
      {
        name: 'sentry_transaction_failure_ratio',
        type: 'gauge',
        help: `Share of transactions whose status is not ok, cancelled or unknown, of ${scope}. ${refreshed}`,
        samples: failure,
      },
      {
        name: 'sentry_transaction_throughput_per_second',
        type: 'gauge',
        help: `Transactions per second Sentry stored (after SDK and dynamic sampling), of ${scope}. ${refreshed}`,
        samples: throughput,
      },
      // Not `..._count`: Prometheus' lint keeps that suffix for histograms and summaries, where it is cumulative.
      {
        name: 'sentry_transactions_in_window',
        type: 'gauge',
        help: `Transactions Sentry stored, of ${scope}: what the quantiles and ratios rest on. ${refreshed}`,
        samples: counts,
      },
      {
        name: 'sentry_transaction_names_truncated',
        type: 'gauge',
        help: `Transactions exported whose name was longer than ${TRANSACTION_LABEL_MAX} characters: their transaction label is the name cut, "~" and 16 hex digits of its SHA-256. ${refreshed}`,
        samples: [{ name: 'sentry_transaction_names_truncated', labels: [], value: data.truncated }],
      },
    ];
  }
}

export const performance = defineCollector({
  name: 'performance',
  settings: {
    transactions: setting({
      env: 'SENTRY_PERFORMANCE_TRANSACTIONS',
      doc: 'Export duration quantiles, failure ratio, throughput and count of the N busiest transactions of the organization (token scope org:read); 0 turns it off.',
      default: 0,
      format: number({ min: 0, max: 10_000, integer: true }),
    }),
    window: setting({
      env: 'SENTRY_PERFORMANCE_WINDOW',
      doc: 'The window the transaction metrics cover, up to now (seconds or a duration such as 15m, 1h).',
      default: 900,
      format: duration({ zero: false, min: 60 }),
    }),
    interval: setting({
      env: 'SENTRY_PERFORMANCE_INTERVAL',
      doc: 'Seconds between refreshes of the transaction metrics; 0 means SENTRY_POLL_INTERVAL.',
      default: 0,
      format: duration({ zero: true }),
    }),
    query: setting({
      env: 'SENTRY_PERFORMANCE_QUERY',
      doc: 'Sentry search terms added to the transaction query, e.g. transaction.op:http.server.',
      default: '',
      format: text(),
    }),
    environments: setting<string[]>({
      env: 'SENTRY_PERFORMANCE_ENVIRONMENTS',
      doc: 'Comma-separated environments: only their transactions, each series with an environment label; empty: all environments, no environment label.',
      default: [],
      format: list('environment names'),
    }),
  },
  create: (deps, settings, { schedule, sentry }) =>
    settings.transactions > 0
      ? new PerformanceCollector(deps, {
          interval: settings.interval > 0 ? settings.interval : schedule.pollInterval,
          transactions: settings.transactions,
          window: Math.round(settings.window),
          query: settings.query,
          environments: settings.environments,
          restrictedSelection: sentry.projects.length > 0,
        })
      : undefined,
});
