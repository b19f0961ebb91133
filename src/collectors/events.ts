import type { SentryApi } from '../sentry/api.js';
import type { StatsV2 } from '../sentry/types.js';
import type { EventTotalsRow, ProjectInfo } from './model.js';

/**
 * Error events this calendar month (UTC) for every project, from ONE stats_v2 request per cycle for the
 * whole organization, grouped by project and outcome. The Python exporter asked the deprecated project
 * stats endpoint three times per project; its `received`, `rejected` and `blacklisted` map onto outcomes:
 * received = accepted + filtered + rate_limited, rejected = rate_limited, blacklisted = filtered.
 */
export async function collectEventTotals(
  api: SentryApi,
  projects: readonly ProjectInfo[],
  now: Date,
  signal: AbortSignal,
): Promise<EventTotalsRow[]> {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const stats = await api.getEventStats(
    { start, end: now, category: 'error', groupBy: ['project', 'outcome'], interval: '1d' },
    { signal },
  );
  return eventTotalsFromStats(stats, projects);
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
