/**
 * Questions to `GET /organizations/{org}/stats_v2/` about the whole organization, and the bound that tells an
 * answer Sentry may have cut from a whole one (docs/sentry-api.md, Part 2 §3 and §8).
 */
import type { CallOptions, EventStatsQuery, SentryApi } from '../sentry/api.js';
import { ENDPOINTS } from '../sentry/endpoints.js';
import { SentryApiError } from '../sentry/errors.js';
import type { StatsGroupBy, StatsV2Group } from '../sentry/types.js';

/** snuba's row limit on a stats_v2 query (src/sentry/snuba/outcomes.py `Limit(10000)`). */
export const STATS_ROW_CAP = 10_000;

/**
 * Rows snuba may have returned for these groups: an `error` group may merge error, default and security
 * rows, a `spike_protection` group smart_rate_limit and spike_protection ones. At or above the cap, the
 * answer may have been cut.
 */
export function rowsBefore(groups: readonly StatsV2Group[]): number {
  let rows = 0;
  for (const g of groups)
    rows += (g.category === 'error' ? 3 : 1) * (g.reason === 'spike_protection' ? 2 : 1);
  return rows;
}

/**
 * Quantities of the whole organization over `range`, grouped by category and `by` (outcome, reason), from
 * stats_v2 asked with no `project` parameter and not grouped by project: Sentry then filters on the
 * organization alone and counts every project of it, those the token's user is not a member of and deleted
 * ones included (organization_stats_v2.py `_is_org_total_query`; snuba/outcomes.py `get_conditions`). One
 * request; an answer that may have reached the 10,000-row cap is asked again per category (listed with
 * `groupBy=category`), and one category at the cap is an error, never a short total.
 */
export async function organizationOutcomes(
  api: SentryApi,
  q: Pick<EventStatsQuery, 'start' | 'end' | 'outcomes'> & { by: ReadonlyArray<'outcome' | 'reason'> },
  opts: CallOptions,
): Promise<StatsV2Group[]> {
  const { by, ...range } = q;
  const ask = (groupBy: readonly StatsGroupBy[], categories?: string[]) =>
    api
      .getEventStats(
        { ...range, groupBy, interval: '1d', ...(categories === undefined ? {} : { categories }) },
        opts,
      )
      .then((stats) => stats.groups);
  const whole = await ask(['category', ...by]);
  if (rowsBefore(whole) < STATS_ROW_CAP) return whole;
  const categories = (await ask(['category'])).map((g) => g.category ?? '');
  const parts = await Promise.all(
    categories.map(async (category) => {
      const groups = await ask(['category', ...by], [category]);
      if (rowsBefore(groups) >= STATS_ROW_CAP) {
        throw new SentryApiError(
          `Sentry's stats_v2 answer for the organization's ${category} this cycle reached its ${STATS_ROW_CAP}-row cap; it is not published rather than published short`,
          { kind: 'cut', endpoint: ENDPOINTS.statsV2 },
        );
      }
      return groups;
    }),
  );
  return parts.flat();
}
