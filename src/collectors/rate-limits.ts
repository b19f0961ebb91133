import { boolean } from '../config/formats.js';
import { setting } from '../config/settings.js';
import { SentryApiError } from '../sentry/errors.js';
import type { SentryProjectKey } from '../sentry/types.js';
import { allOrNothing } from './all-or-nothing.js';
import { defineCollector, refreshedEvery } from './collector.js';
import type { CollectContext, Collector, CollectorDeps, Family, RenderContext } from './collector.js';

/** The first active client key's rate limit, in events per second (0 when it has none). */
export interface RateLimitRow {
  project: string;
  eventsPerSecond: number;
}

/**
 * Each project's first active client key's rate limit, in events per second. Keys change rarely, so they
 * are refreshed every SENTRY_METADATA_INTERVAL. The organization keys list answers for every project in one
 * paginated request; a server without it (404: Sentry releases before December 2025) is asked per project
 * from then on.
 */
export class RateLimitCollector implements Collector<RateLimitRow[]> {
  readonly name = 'rate_limits';
  readonly interval: number;
  private perProject = false;

  constructor(
    private readonly deps: CollectorDeps,
    opts: { /** SENTRY_METADATA_INTERVAL, seconds: keys change rarely. */ interval: number },
  ) {
    this.interval = opts.interval;
  }

  async collect({ projects, signal, skipped }: CollectContext): Promise<RateLimitRow[]> {
    const keysByProject = new Map<string, SentryProjectKey[]>();
    if (!this.perProject) {
      try {
        for (const key of await this.deps.api.listOrganizationProjectKeys({ signal, skipped })) {
          const list = keysByProject.get(key.projectId) ?? [];
          list.push(key);
          keysByProject.set(key.projectId, list);
        }
      } catch (err) {
        if (!(err instanceof SentryApiError && err.status === 404)) throw err;
        this.perProject = true;
        this.deps.logger.warn(
          { endpoint: err.endpoint },
          'organization project-keys endpoint not available; asking each project for its keys from now on',
        );
      }
    }
    if (this.perProject) {
      await allOrNothing(projects, signal, async (p, linked) => {
        keysByProject.set(
          p.id,
          await this.deps.api.listProjectKeys(p.slug, { signal: linked, project: p.slug, skipped }),
        );
      });
    }
    return projects.map((p) => ({
      project: p.slug,
      eventsPerSecond: eventsPerSecond(keysByProject.get(p.id) ?? []),
    }));
  }

  render(rows: RateLimitRow[], ctx: RenderContext): Family[] {
    const name = ctx.legacy ? 'sentry_rate_limit_events_sec' : 'sentry_rate_limit_events_per_second';
    return [
      {
        name,
        type: 'gauge',
        help: `Rate limit of the project's first active client key in events per second (0: none). ${refreshedEvery(this.interval)}`,
        samples: rows.map((r) => ({ name, labels: [['project_slug', r.project]], value: r.eventsPerSecond })),
      },
    ];
  }
}

export function eventsPerSecond(keys: readonly SentryProjectKey[]): number {
  const limit = keys.find((k) => k.isActive)?.rateLimit;
  if (!limit || limit.window <= 0) return 0;
  return Math.round((limit.count / limit.window) * 1e6) / 1e6;
}

export const rateLimits = defineCollector({
  name: 'rate_limits',
  settings: {
    enabled: setting({
      env: 'SENTRY_SCRAPE_RATE_LIMIT_METRICS',
      doc: 'Export sentry_rate_limit_events_sec, refreshed every SENTRY_METADATA_INTERVAL.',
      default: false,
      format: boolean,
      formerly: 'scrape.rateLimitMetrics',
    }),
  },
  create: (deps, settings, core) =>
    settings.enabled ? new RateLimitCollector(deps, { interval: core.schedule.metadataInterval }) : undefined,
});
