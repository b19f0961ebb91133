import { boolean } from '../config/formats.js';
import { setting } from '../config/settings.js';
import type { SentryMonitor } from '../sentry/types.js';
import { byCodeUnit, defineCollector, refreshedEvery } from './collector.js';
import type { CollectContext, Collector, CollectorDeps, Family, ProjectInfo, Sample } from './collector.js';
import { NO_ENVIRONMENT } from './compat.js';

/**
 * Every status a monitor environment shows in Sentry's monitor list, the state set's members: `active` (no
 * check-in processed yet), `disabled`, `ok`, `error`, and `missed_checkin` and `timeout` of older releases.
 * `pending_deletion` and `deletion_in_progress` exist too but are never listed. docs/sentry-api.md, Part 3 §2.3.
 */
const MONITOR_STATUSES = ['active', 'disabled', 'ok', 'error', 'missed_checkin', 'timeout'] as const;

/** One environment of one cron monitor, as exported. */
export interface MonitorRow {
  project: string;
  /** The monitor's slug: unique within its project. */
  monitor: string;
  /** `None` for a monitor without environments (no check-in yet). */
  environment: string;
  /** `disabled` whenever the monitor itself is disabled; otherwise the environment's status as Sentry sent it. */
  status: string;
  /** The monitor or this environment is muted. */
  muted: boolean;
  /** Unix seconds; `null` before the first check-in. */
  lastCheckIn: number | null;
  /** Unix seconds; `null` when Sentry expects no check-in. */
  nextCheckInLatest: number | null;
}

/**
 * Cron monitors, one series per monitor and environment: status, muted, last check-in and the time after
 * which Sentry calls the next check-in missed. One paginated request per 100 monitors for the whole
 * organization, every SENTRY_POLL_INTERVAL; monitors of projects outside the project list
 * (SENTRY_EXPORTER_PROJECTS) are left out.
 *
 * A disabled monitor keeps its environments' last statuses in Sentry (disabling changes only the monitor),
 * and Sentry no longer checks them; its environments show as `disabled`. A monitor without environments
 * (it never checked in) shows once, as environment `None` with status `active` (or `disabled`). A malformed
 * monitor is left out, counted and logged once per run; the others are exported.
 */
export class MonitorCollector implements Collector<MonitorRow[]> {
  readonly name = 'monitors';
  readonly interval: number;

  constructor(
    private readonly deps: CollectorDeps,
    opts: { /** SENTRY_POLL_INTERVAL, seconds. */ interval: number },
  ) {
    this.interval = opts.interval;
  }

  async collect({ projects, signal, skipped }: CollectContext): Promise<MonitorRow[]> {
    return monitorRows(await this.deps.api.listMonitors({ signal, skipped }), projects);
  }

  render(rows: MonitorRow[]): Family[] {
    const refreshed = refreshedEvery(this.interval);
    const status: Sample[] = [];
    const muted: Sample[] = [];
    const lastCheckIn: Sample[] = [];
    const nextLatest: Sample[] = [];
    for (const r of rows) {
      const labels: Array<[string, string]> = [
        ['project_slug', r.project],
        ['monitor', r.monitor],
        ['environment', r.environment],
      ];
      const known: readonly string[] = MONITOR_STATUSES;
      const members = known.includes(r.status) ? known : [...known, r.status];
      for (const s of members) {
        status.push({
          name: 'sentry_monitor_status',
          labels: [...labels, ['status', s]],
          value: s === r.status ? 1 : 0,
        });
      }
      muted.push({ name: 'sentry_monitor_muted', labels, value: r.muted ? 1 : 0 });
      if (r.lastCheckIn !== null) {
        lastCheckIn.push({
          name: 'sentry_monitor_last_checkin_timestamp_seconds',
          labels,
          value: r.lastCheckIn,
        });
      }
      if (r.nextCheckInLatest !== null) {
        nextLatest.push({
          name: 'sentry_monitor_next_checkin_latest_timestamp_seconds',
          labels,
          value: r.nextCheckInLatest,
        });
      }
    }
    return [
      {
        name: 'sentry_monitor_status',
        type: 'gauge',
        help: `Cron monitor status per environment as a state set: 1 for the current status, 0 for the others (active: no check-in yet; disabled: the monitor or the environment is disabled; missed_checkin, timeout: older Sentry releases; a status Sentry adds later gets a series of its own). ${refreshed}`,
        samples: status,
      },
      {
        name: 'sentry_monitor_muted',
        type: 'gauge',
        help: `1 when the cron monitor or this environment of it is muted in Sentry. ${refreshed}`,
        samples: muted,
      },
      {
        name: 'sentry_monitor_last_checkin_timestamp_seconds',
        type: 'gauge',
        help: `Unix time of the cron monitor's last check-in in the environment; no series before the first one. ${refreshed}`,
        samples: lastCheckIn,
      },
      {
        name: 'sentry_monitor_next_checkin_latest_timestamp_seconds',
        type: 'gauge',
        help: `Unix time after which Sentry marks the cron monitor's expected check-in in the environment as missed (next expected check-in plus its margin). ${refreshed}`,
        samples: nextLatest,
      },
    ];
  }
}

/**
 * The rows of the monitors of the listed projects, sorted by project, monitor and environment. A monitor
 * listed twice (offset pages read while monitors are added or removed) and an environment name listed
 * twice in a monitor count once: the first answer wins.
 */
function monitorRows(monitors: readonly SentryMonitor[], projects: readonly ProjectInfo[]): MonitorRow[] {
  const listed = new Set(projects.map((p) => p.id));
  const seenMonitors = new Set<string>();
  const rows = new Map<string, MonitorRow>();
  for (const m of monitors) {
    if (!listed.has(m.projectId) || seenMonitors.has(m.id)) continue;
    seenMonitors.add(m.id);
    const disabled = m.status === 'disabled';
    const environments =
      m.environments.length > 0
        ? m.environments
        : [
            {
              name: NO_ENVIRONMENT,
              status: 'active',
              isMuted: false,
              lastCheckIn: null,
              nextCheckInLatest: null,
            },
          ];
    for (const env of environments) {
      const key = `${m.projectSlug}\u0000${m.slug}\u0000${env.name}`;
      if (rows.has(key)) continue;
      rows.set(key, {
        project: m.projectSlug,
        monitor: m.slug,
        environment: env.name,
        status: disabled ? 'disabled' : env.status,
        muted: m.isMuted || env.isMuted,
        lastCheckIn: env.lastCheckIn,
        nextCheckInLatest: env.nextCheckInLatest,
      });
    }
  }
  return [...rows.values()].sort(
    (a, b) =>
      byCodeUnit(a.project, b.project) ||
      byCodeUnit(a.monitor, b.monitor) ||
      byCodeUnit(a.environment, b.environment),
  );
}

export const monitors = defineCollector({
  name: 'monitors',
  settings: {
    enabled: setting({
      env: 'SENTRY_SCRAPE_MONITOR_METRICS',
      doc: 'Export the sentry_monitor_* families of cron monitors (token scope org:read or alerts:read).',
      default: true,
      format: boolean,
      formerly: 'scrape.monitorMetrics',
    }),
  },
  create: (deps, settings, core) =>
    settings.enabled ? new MonitorCollector(deps, { interval: core.schedule.pollInterval }) : undefined,
});
