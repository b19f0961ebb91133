import type { Logger } from 'pino';
import type { SentryApi } from '../sentry/api.js';
import { SentryApiError } from '../sentry/errors.js';
import type { SentryProjectKey } from '../sentry/types.js';
import { allOrNothing } from './all-or-nothing.js';
import type { ProjectInfo, RateLimitRow } from './model.js';

/**
 * Each project's first active client key's rate limit, in events per second. The organization keys list
 * answers for every project in one paginated request; a server without it (404, older self-hosted
 * Sentry) is asked per project from then on.
 */
export class RateLimitCollector {
  private perProject = false;

  constructor(private readonly deps: { api: SentryApi; logger: Logger }) {}

  async collect(projects: readonly ProjectInfo[], signal: AbortSignal): Promise<RateLimitRow[]> {
    const keysByProject = new Map<string, SentryProjectKey[]>();
    if (!this.perProject) {
      try {
        for (const key of await this.deps.api.listOrganizationProjectKeys({ signal })) {
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
          await this.deps.api.listProjectKeys(p.slug, { signal: linked, project: p.slug }),
        );
      });
    }
    return projects.map((p) => ({
      project: p.slug,
      eventsPerSecond: eventsPerSecond(keysByProject.get(p.id) ?? []),
    }));
  }
}

export function eventsPerSecond(keys: readonly SentryProjectKey[]): number {
  const limit = keys.find((k) => k.isActive)?.rateLimit;
  if (!limit || limit.window <= 0) return 0;
  return Math.round((limit.count / limit.window) * 1e6) / 1e6;
}
