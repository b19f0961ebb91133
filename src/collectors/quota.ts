/**
 * The organization's quota usage this billing cycle, against the budgets the operator sets: Sentry has no
 * public API for quotas or spend, so the budgets are configuration (SENTRY_QUOTA_BUDGETS) and the usage comes
 * from `GET /organizations/{org}/stats_v2/`.
 *
 * A quota counts what Sentry accepted, and only that: filtered, rate-limited (over quota, spike protection,
 * rate limits), invalid, abuse and client-discarded data is not charged (docs.sentry.io, "What counts toward
 * my quota"; accepted is the outcome of stored data, src/sentry/utils/outcomes.py `Outcome`). Quotas are the
 * organization's, over every project of it: the usage is one question with no `project` parameter, which
 * Sentry answers for the whole organization, projects the token's user is not a member of and projects
 * deleted this cycle included (organization_stats_v2.py `_is_org_total_query`). One request per run:
 * `field=sum(quantity)&groupBy=category&outcome=accepted&interval=1d`, from the cycle's start to now.
 * docs/sentry-api.md, Part 2 §8.
 */
import { boolean, quantities } from '../config/formats.js';
import type { QuantityUnit } from '../config/formats.js';
import { setting } from '../config/settings.js';
import { billingCycle, cycleSoFar, cycleWording } from './billing-cycle.js';
import { CarryOver } from './carry-over.js';
import type { BillingCycle } from './billing-cycle.js';
import { byCodeUnit, defineCollector, refreshedEvery } from './collector.js';
import type { CollectContext, Collector, CollectorDeps, Family, Sample } from './collector.js';
import { organizationOutcomes } from './organization-outcomes.js';
import { unitOf } from './outcomes.js';

export interface QuotaData {
  cycle: BillingCycle;
  /** What Sentry accepted this cycle per category (as stats_v2 names them), in Sentry's unit; sorted. */
  usage: Array<{ category: string; quantity: number }>;
}

export interface QuotaCollectorOptions {
  /** SENTRY_POLL_INTERVAL, seconds. */
  interval: number;
  /** SENTRY_BILLING_CYCLE_DAY. */
  cycleDay: number;
  /** SENTRY_QUOTA_BUDGETS: per category, in the unit of sentry_quota_usage_total (items, bytes, seconds). */
  budgets: Readonly<Record<string, number>>;
}

/** The unit a category's budget is written in, or why it cannot have one. */
export function budgetUnit(category: string): QuantityUnit | { refused: string } {
  if (category === 'default' || category === 'security') {
    return {
      refused: `Sentry's usage stats count ${category} events as error: give their budget as part of error`,
    };
  }
  const unit = unitOf(category);
  if (unit === undefined) {
    return {
      refused: `${category} is not a data category this exporter knows (error, transaction, span, replay, attachment, profile_duration, log_byte, monitor_seat, ...)`,
    };
  }
  return unit === 'milliseconds' ? 'seconds' : unit;
}

export class QuotaCollector implements Collector<QuotaData> {
  readonly name = 'quota';
  readonly interval: number;
  /** The usage never goes below its earlier value of the cycle (a group left out of an answer). */
  private readonly carry = new CarryOver<{ category: string; quantity: number }>(
    {
      project: () => '',
      series: (u) => u.category,
      value: (u) => u.quantity,
      withValue: (u, quantity) => ({ ...u, quantity }),
    },
    0,
  );

  constructor(
    private readonly deps: CollectorDeps,
    private readonly o: QuotaCollectorOptions,
  ) {
    this.interval = o.interval;
  }

  async collect({ now, signal, skipped }: CollectContext): Promise<QuotaData> {
    const cycle = billingCycle(now, this.o.cycleDay);
    const groups = await organizationOutcomes(
      this.deps.api,
      {
        ...cycleSoFar(now, this.o.cycleDay),
        outcomes: ['accepted'],
        by: [],
      },
      { signal, skipped },
    );
    const usage = new Map<string, number>();
    for (const g of groups) {
      const category = g.category ?? '';
      usage.set(category, (usage.get(category) ?? 0) + g.quantity);
    }
    const { rows } = this.carry.merge(
      [...usage].map(([category, quantity]) => ({ category, quantity })),
      [''],
      new Set(),
      { now, cycle: cycle.start },
    );
    return { cycle, usage: rows.sort((a, b) => byCodeUnit(a.category, b.category)) };
  }

  render(data: QuotaData): Family[] {
    const refreshed = refreshedEvery(this.interval);
    const { period, reset } = cycleWording(this.o.cycleDay);
    const used = new Map(data.usage.map((u) => [u.category, u.quantity]));
    // A category with a budget and nothing accepted yet has used 0 of it: Sentry's answer is complete.
    for (const category of Object.keys(this.o.budgets)) if (!used.has(category)) used.set(category, 0);
    const usage: Sample[] = [...used]
      .sort(([a], [b]) => byCodeUnit(a, b))
      .map(([category, quantity]) => ({
        name: 'sentry_quota_usage_total',
        labels: [['category', category]],
        value: unitOf(category) === 'milliseconds' ? quantity / 1000 : quantity,
      }));
    const budgets: Sample[] = Object.entries(this.o.budgets)
      .sort(([a], [b]) => byCodeUnit(a, b))
      .map(([category, amount]) => ({
        name: 'sentry_quota_budget',
        labels: [['category', category]],
        value: amount,
      }));
    const gauge = (name: string, help: string, ms: number): Family => ({
      name,
      type: 'gauge',
      help,
      samples: [{ name, labels: [], value: ms / 1000 }],
    });
    return [
      {
        name: 'sentry_quota_usage_total',
        type: 'counter',
        help: `What Sentry counted against the organization's quota ${period}: the data it accepted per data category, over every project of the organization (also those the token cannot see, and projects deleted this cycle); items, bytes for attachment and log_byte, seconds for profile durations. ${reset} ${refreshed}`,
        samples: usage,
      },
      {
        name: 'sentry_quota_budget',
        type: 'gauge',
        help: 'The budget of a data category for one billing cycle, as SENTRY_QUOTA_BUDGETS sets it, in the unit of sentry_quota_usage_total; no series for a category without a budget.',
        samples: budgets,
      },
      gauge(
        'sentry_billing_cycle_start_timestamp_seconds',
        `Unix time at which the current billing cycle started (SENTRY_BILLING_CYCLE_DAY, 00:00 UTC). ${refreshed}`,
        data.cycle.start,
      ),
      gauge(
        'sentry_billing_cycle_end_timestamp_seconds',
        `Unix time at which the current billing cycle ends and the next starts. ${refreshed}`,
        data.cycle.end,
      ),
    ];
  }
}

export const quota = defineCollector({
  name: 'quota',
  settings: {
    enabled: setting({
      env: 'SENTRY_SCRAPE_QUOTA_METRICS',
      doc: "Export sentry_quota_usage_total (what Sentry counted against the organization's quota this billing cycle), sentry_quota_budget and the billing cycle's start and end: one stats_v2 request per SENTRY_POLL_INTERVAL (token scope org:read).",
      default: true,
      format: boolean,
    }),
    budgets: setting<Readonly<Record<string, number>>>({
      env: 'SENTRY_QUOTA_BUDGETS',
      doc: 'Budgets per billing cycle as category=amount, comma-separated, e.g. error=5M,transaction=10M,replay=50k,attachment=1GB,profile_duration=10h: counts with k, M, G (thousand, million, billion); bytes with KB, MB, GB, TB (powers of 1,000, as Sentry counts GB) or KiB, MiB, GiB, TiB (of 1,024); durations with s, m, h. Each becomes sentry_quota_budget{category} in the unit of sentry_quota_usage_total (items, bytes, seconds).',
      default: {},
      format: quantities(budgetUnit, 'data category'),
    }),
  },
  create: (deps, settings, { schedule, billing }) =>
    settings.enabled
      ? new QuotaCollector(deps, {
          interval: schedule.pollInterval,
          cycleDay: billing.cycleDay,
          budgets: settings.budgets,
        })
      : undefined,
});
