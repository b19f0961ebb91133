import { allOrNothing } from './all-or-nothing.js';
import { byCodeUnit, refreshedEvery } from './collector.js';
import type { CollectContext, Collector, CollectorDeps, Family, ProjectInfo } from './collector.js';
import { pyStr } from './compat.js';

export interface MetadataCollectorOptions {
  /** SENTRY_EXPORTER_PROJECTS; empty: every project the token can see. */
  projects: readonly string[];
  /** SENTRY_METADATA_INTERVAL, seconds. */
  interval: number;
  /** SENTRY_EXPORTER_ORG and SENTRY_BASE_URL: sentry_organization_info. */
  org: string;
  baseUrl: string;
}

/** The web pages of the organization that alerts link to: where its quotas and limits are set. */
export interface OrganizationPages {
  /** sentry.io: Settings > Subscription (billing overview); self-hosted: Settings > Rate Limits. */
  quota: string;
  /** sentry.io: Settings > Spike Protection; self-hosted (no spike protection): Settings > Rate Limits. */
  spikeProtection: string;
  /** Stats > Usage, on every Sentry. */
  stats: string;
}

/**
 * The organization's pages for a base URL. sentry.io (an API at sentry.io or a region such as us.sentry.io)
 * serves its web pages at https://sentry.io/ in the path form `/settings/{org}/...`; the subscription and
 * spike protection pages exist only there (getsentry/sentry static/gsApp/hooks/settingsRoutes.tsx: `billing/`
 * → `overview/`, `spike-protection/`). A self-hosted Sentry serves its pages where its API is, without
 * `/api/0/`, and sets its limits under Settings > Rate Limits (static/app/routes.tsx: `rate-limits/`).
 * A user name and password in the base URL (for a proxy in front of Sentry) are left out: these links are
 * exported and opened in a browser. docs/sentry-api.md, Part 5.
 */
export function organizationPages(baseUrl: string, org: string): OrganizationPages {
  const url = new URL(baseUrl);
  url.username = '';
  url.password = '';
  const slug = encodeURIComponent(org);
  const saas = url.hostname === 'sentry.io' || url.hostname.endsWith('.sentry.io');
  const root = saas ? 'https://sentry.io/' : url.href.replace(/api\/0\/?$/, '');
  const settings = `${root}settings/${slug}/`;
  return {
    quota: saas ? `${settings}billing/overview/` : `${settings}rate-limits/`,
    spikeProtection: saas ? `${settings}spike-protection/` : `${settings}rate-limits/`,
    stats: `${root}organizations/${slug}/stats/`,
  };
}

/**
 * The project list and each project's environments: what every other collector splits its series by.
 * It changes rarely, so it is refreshed every SENTRY_METADATA_INTERVAL, not every cycle. Its own families
 * describe the organization and its projects: `sentry_project_info` (platform and owning teams, for
 * routing alerts by team) and `sentry_organization_info` (the pages alerts link to).
 *
 * The organization projects list already carries each project's environments (hidden ones left out), its
 * platform and its teams, so a refresh costs one request per 100 projects; only a server that omits the
 * environments is asked per project.
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
      return {
        id: p.id,
        slug: p.slug,
        environments: [...new Set(environments)].sort(),
        platform: p.platform,
        teams: [...new Set(p.teams)].sort(byCodeUnit),
      };
    });
    return projects.sort((a, b) => byCodeUnit(a.slug, b.slug));
  }

  render(projects: ProjectInfo[]): Family[] {
    const refreshed = refreshedEvery(this.interval);
    const pages = organizationPages(this.opts.baseUrl, this.opts.org);
    return [
      {
        name: 'sentry_project_info',
        type: 'gauge',
        help: `Always 1, one series per project: its id, platform ("None" when none is set) and owning teams (team slugs, sorted, comma-separated; empty without a team), to join alerts to owners. ${refreshed}`,
        samples: projects.map((p) => ({
          name: 'sentry_project_info',
          labels: [
            ['project_slug', p.slug],
            ['project_id', p.id],
            ['platform', pyStr(p.platform)],
            ['teams', (p.teams ?? []).join(',')],
          ],
          value: 1,
        })),
      },
      {
        name: 'sentry_organization_info',
        type: 'gauge',
        help: `Always 1: the organization and its web pages where quotas (sentry.io: subscription; self-hosted: rate limits), spike protection and usage stats are found, for alert links.`,
        samples: [
          {
            name: 'sentry_organization_info',
            labels: [
              ['organization', this.opts.org],
              ['quota_url', pages.quota],
              ['spike_protection_url', pages.spikeProtection],
              ['stats_url', pages.stats],
            ],
            value: 1,
          },
        ],
      },
    ];
  }
}
