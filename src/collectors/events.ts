import type { SentryApi } from '../sentry/api.js';
import type { StatsV2 } from '../sentry/types.js';
import { refreshedEvery } from './collector.js';
import type { CollectContext, Collector, Family, ProjectInfo, Sample } from './collector.js';

/** Error events this calendar month (UTC) per project. */
export interface EventTotalsRow {
  project: string;
  /** accepted + filtered + rate_limited */
  received: number;
  /** rate_limited */
  rejected: number;
  /** filtered */
  blacklisted: number;
}

/**
 * Error events this calendar month (UTC) for every project, from ONE stats_v2 request per run for the
 * whole organization, grouped by project and outcome. The Python exporter asked the deprecated project
 * stats endpoint three times per project; its `received`, `rejected` and `blacklisted` map onto outcomes:
 * received = accepted + filtered + rate_limited, rejected = rate_limited, blacklisted = filtered.
 */
export class EventsCollector implements Collector<EventTotalsRow[]> {
  readonly name = 'events';

  constructor(
    private readonly api: SentryApi,
    readonly interval: number,
  ) {}

  async collect({ projects, now, signal }: CollectContext): Promise<EventTotalsRow[]> {
    const end = new Date(now);
    const start = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), 1));
    const stats = await this.api.getEventStats(
      { start, end, categories: ['error'], groupBy: ['project', 'outcome'], interval: '1d' },
      { signal },
    );
    return eventTotalsFromStats(stats, projects);
  }

  render(rows: EventTotalsRow[]): Family[] {
    const samples: Sample[] = [];
    for (const row of rows) {
      for (const stat of ['received', 'rejected', 'blacklisted'] as const) {
        samples.push({
          name: 'sentry_events_total',
          labels: [
            ['project_slug', row.project],
            ['stat', stat],
          ],
          value: row[stat],
        });
      }
    }
    return [
      {
        name: 'sentry_events_total',
        type: 'counter',
        help: `Error events this calendar month (UTC) per project: received, rejected (rate limited), blacklisted (filtered). ${refreshedEvery(this.interval)}`,
        samples,
      },
    ];
  }
}

export function eventTotalsFromStats(stats: StatsV2, projects: readonly ProjectInfo[]): EventTotalsRow[] {
  const byId = new Map<string, EventTotalsRow>();
  for (const p of projects) byId.set(p.id, { project: p.slug, received: 0, rejected: 0, blacklisted: 0 });
  for (const group of stats.groups) {
    const row = byId.get(String(group.by.project));
    if (row === undefined) continue; // a project outside SENTRY_EXPORTER_PROJECTS, or newer than the list
    const quantity = group.totals['sum(quantity)'] ?? 0;
    switch (group.by.outcome) {
      case 'accepted':
        row.received += quantity;
        break;
      case 'filtered':
        row.received += quantity;
        row.blacklisted += quantity;
        break;
      case 'rate_limited':
        row.received += quantity;
        row.rejected += quantity;
        break;
      default:
        // invalid, abuse, client_discard, cardinality_limited: the Python exporter's stats did not count them
        break;
    }
  }
  return [...byId.values()];
}
