import { allOrNothing } from './all-or-nothing.js';
import { byCodeUnit } from './collector.js';
import type { CollectContext, Collector, CollectorDeps, Family, ProjectInfo } from './collector.js';

export interface MetadataCollectorOptions {
  /** SENTRY_EXPORTER_PROJECTS; empty: every project the token can see. */
  projects: readonly string[];
  /** SENTRY_METADATA_INTERVAL, seconds. */
  interval: number;
}

/**
 * The project list and each project's environments: what every other collector splits its series by.
 * It changes rarely, so it is refreshed every SENTRY_METADATA_INTERVAL, not every cycle, and it exports
 * no family of its own.
 *
 * The organization projects list already carries each project's environments (hidden ones left out), so
 * a refresh costs one request per 100 projects; only a server that omits the field is asked per project.
 */
export class MetadataCollector implements Collector<ProjectInfo[]> {
  readonly name = 'metadata';
  readonly interval: number;
  /** Slugs from SENTRY_EXPORTER_PROJECTS already reported as missing (logged once each). */
  private readonly reportedMissing = new Set<string>();

  constructor(
    private readonly deps: CollectorDeps,
    private readonly opts: MetadataCollectorOptions,
  ) {
    this.interval = opts.interval;
  }

  async collect({ signal, skipped }: CollectContext): Promise<ProjectInfo[]> {
    const { api, logger } = this.deps;
    const selectedSlugs = this.opts.projects;
    const all = await api.listProjects({ signal, skipped });
    const wanted = new Set(selectedSlugs);
    const chosen = wanted.size === 0 ? all : all.filter((p) => wanted.has(p.slug));

    if (wanted.size > 0) {
      const found = new Set(all.map((p) => p.slug));
      for (const slug of selectedSlugs) {
        if (!found.has(slug) && !this.reportedMissing.has(slug)) {
          this.reportedMissing.add(slug);
          logger.error(
            { project: slug, org: api.org },
            'SENTRY_EXPORTER_PROJECTS names a project that does not exist or the token cannot see; it is left out',
          );
        }
      }
    }

    const projects = await allOrNothing(chosen, signal, async (p, linked): Promise<ProjectInfo> => {
      const environments =
        p.environments ??
        (await api.listProjectEnvironments(p.slug, { signal: linked, project: p.slug, skipped })).map(
          (e) => e.name,
        );
      return { id: p.id, slug: p.slug, environments: [...new Set(environments)].sort() };
    });
    return projects.sort((a, b) => byCodeUnit(a.slug, b.slug));
  }

  render(): Family[] {
    return [];
  }
}
