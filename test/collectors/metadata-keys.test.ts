/**
 * The metadata collector (the project list) and the client-key rate limits against small, explicit Sentry
 * answers, with every expected value written out by hand.
 *
 * From Sentry's code (docs/sentry-api.md, Part 1): a project summary's `environments` lists the names of its
 * visible environments (src/sentry/api/serializers/models/project.py, ProjectSummarySerializer; older servers
 * leave it out, and the project's environments endpoint answers instead); a client key's `rateLimit` is null or
 * `{window, count}` with the window in seconds, `projectId` an integer
 * (src/sentry/api/serializers/models/project_key.py); the organization keys list is new in December 2025, so
 * older servers answer 404 there (src/sentry/api/endpoints/organization_project_keys.py).
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, test } from 'node:test';
import pino from 'pino';
import type { Collector, ProjectInfo } from '../../src/collectors/collector.js';
import { createCollectors } from '../../src/collectors/index.js';
import { MetadataCollector } from '../../src/collectors/metadata.js';
import { loadExporterConfig as loadConfig } from '../../src/collectors/index.js';
import { renderFamilies } from '../../src/metrics/exposition.js';
import { createSentryClient } from '../../src/sentry/client.js';
import { parseExposition } from '../helpers/exporter.js';
import { makeClient, sendJson, startServer, type TestServer } from '../sentry/helpers.js';
import { runContext } from '../helpers/collect.js';

const servers: TestServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

type Handler = (url: URL, res: ServerResponse) => boolean;

async function collectorsAgainst(handle: Handler, env: NodeJS.ProcessEnv = {}) {
  const server = await startServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!handle(url, res)) sendJson(res, 404, { detail: 'The requested resource does not exist' });
  });
  servers.push(server);
  const config = loadConfig({
    env: {
      SENTRY_BASE_URL: server.baseUrl,
      SENTRY_AUTH_TOKEN: 't',
      SENTRY_EXPORTER_ORG: 'acme',
      SENTRY_API_RATE: '100',
      SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
      ...env,
    },
  });
  const logger = pino({ level: 'silent' });
  const client = createSentryClient({ ...config.sentry, timeout: 5, logger });
  const { metadata, metrics } = createCollectors(config, client, logger);
  return {
    server,
    projects: () => metadata.collect(runContext()),
    /** The metadata collector's own families, rendered from a fresh project list. */
    async info() {
      const rows = await metadata.collect(runContext());
      return renderFamilies(metadata.render(rows, { legacy: true, now: new Date() }));
    },
    async keys(projects: ProjectInfo[]) {
      const c = metrics.find((m) => m.name === 'rate_limits') as Collector;
      const rows = await c.collect(runContext({ projects }));
      return parseExposition(renderFamilies(c.render(rows, { legacy: true, now: new Date() }))).map((r) => [
        r.labels.project_slug,
        r.value,
      ]);
    },
    close: () => client.close(),
  };
}

const PROJECTS = [
  {
    id: '11',
    slug: 'web',
    name: 'Web',
    platform: 'javascript-react',
    environments: ['staging', 'production', 'staging'],
    // Sentry lists a project's teams in no particular order (ProjectWithTeamSerializer.get_attrs)
    teams: [
      { id: '4', slug: 'storefront', name: 'Storefront' },
      { id: '2', slug: 'platform', name: 'Platform' },
    ],
  },
  { id: '12', slug: 'api', platform: null, environments: [], teams: [] },
  { id: '13', slug: 'batch' }, // an older server: no environments, platform or teams in the summary
];

test('the project list: sorted by slug, environments sorted and unique, the environments endpoint when absent', async () => {
  const env = await collectorsAgainst((url, res) => {
    if (url.pathname === '/api/0/organizations/acme/projects/') return (sendJson(res, 200, PROJECTS), true);
    if (url.pathname === '/api/0/projects/acme/batch/environments/') {
      return (sendJson(res, 200, [{ id: '7', name: 'prod', isHidden: false }]), true);
    }
    return false;
  });
  try {
    assert.deepEqual(await env.projects(), [
      { id: '12', slug: 'api', environments: [], platform: null, teams: [] },
      { id: '13', slug: 'batch', environments: ['prod'], platform: null, teams: [] },
      {
        id: '11',
        slug: 'web',
        environments: ['production', 'staging'],
        platform: 'javascript-react',
        teams: ['platform', 'storefront'],
      },
    ]);
    // asked once for the one project whose summary had no environments
    assert.equal(env.server.hitsOn('/projects/').length, 1);
    // sentry_project_info from the same list (no request of its own); sentry_organization_info for a
    // self-hosted base URL: its pages where its API is, quotas under Settings > Rate Limits.
    const before = env.server.hits.length;
    const info = parseExposition(await env.info()).map((r) => ({
      name: r.name,
      ...r.labels,
      value: r.value,
    }));
    const root = env.server.baseUrl.replace(/api\/0\/$/, '');
    assert.deepEqual(info, [
      {
        name: 'sentry_project_info',
        project_slug: 'api',
        project_id: '12',
        platform: 'None',
        teams: '',
        value: 1,
      },
      {
        name: 'sentry_project_info',
        project_slug: 'batch',
        project_id: '13',
        platform: 'None',
        teams: '',
        value: 1,
      },
      {
        name: 'sentry_project_info',
        project_slug: 'web',
        project_id: '11',
        platform: 'javascript-react',
        teams: 'platform,storefront',
        value: 1,
      },
      {
        name: 'sentry_organization_info',
        organization: 'acme',
        quota_url: `${root}settings/acme/rate-limits/`,
        spike_protection_url: `${root}settings/acme/rate-limits/`,
        stats_url: `${root}organizations/acme/stats/`,
        value: 1,
      },
    ]);
    assert.equal(env.server.hits.length - before, 2, 'the list again and the environments of batch');
  } finally {
    await env.close();
  }
});

test('SENTRY_EXPORTER_PROJECTS keeps only the named projects', async () => {
  const env = await collectorsAgainst(
    (url, res) => {
      if (url.pathname === '/api/0/organizations/acme/projects/') return (sendJson(res, 200, PROJECTS), true);
      return false;
    },
    { SENTRY_EXPORTER_PROJECTS: 'web,gone' },
  );
  try {
    assert.deepEqual(
      (await env.projects()).map((p) => p.slug),
      ['web'],
    );
    assert.deepEqual(
      parseExposition(await env.info())
        .filter((r) => r.name === 'sentry_project_info')
        .map((r) => r.labels.project_slug),
      ['web'],
      'project info only for the selected projects',
    );
  } finally {
    await env.close();
  }
});

const projects: ProjectInfo[] = [
  { id: '11', slug: 'web', environments: [] },
  { id: '12', slug: 'api', environments: [] },
  { id: '13', slug: 'batch', environments: [] },
  { id: '14', slug: 'quiet', environments: [] },
];
const ORG_KEYS = [
  // web: the first key is inactive, the second active: 1,000 events per 60 s = 16.666667/s
  { projectId: 11, isActive: false, rateLimit: { window: 1, count: 5 } },
  { projectId: 11, isActive: true, rateLimit: { window: 60, count: 1000 } },
  { projectId: 11, isActive: true, rateLimit: { window: 1, count: 99 } },
  // api: active without a rate limit: 0
  { projectId: 12, isActive: true, rateLimit: null },
  // batch: 86,400 a day = 1/s
  { projectId: 13, isActive: true, rateLimit: { window: 86400, count: 86400 } },
  // quiet: no key at all: 0
];

test('rate limits: the first active key per project, in events per second (by hand)', async () => {
  const env = await collectorsAgainst((url, res) => {
    if (url.pathname === '/api/0/organizations/acme/project-keys/')
      return (sendJson(res, 200, ORG_KEYS), true);
    return false;
  });
  try {
    assert.deepEqual(await env.keys(projects), [
      ['web', 16.666667],
      ['api', 0],
      ['batch', 1],
      ['quiet', 0],
    ]);
  } finally {
    await env.close();
  }
});

test('rate limits on a server without the organization keys list (404): each project is asked, the same values', async () => {
  const env = await collectorsAgainst((url, res) => {
    const m = /^\/api\/0\/projects\/acme\/([^/]+)\/keys\/$/.exec(url.pathname);
    if (!m) return false;
    const id = { web: 11, api: 12, batch: 13, quiet: 14 }[m[1] as 'web'];
    // the project's own list: no projectId needed
    const keys = ORG_KEYS.filter((k) => k.projectId === id).map(({ isActive, rateLimit }) => ({
      isActive,
      rateLimit,
    }));
    sendJson(res, 200, keys);
    return true;
  });
  try {
    const expected = [
      ['web', 16.666667],
      ['api', 0],
      ['batch', 1],
      ['quiet', 0],
    ];
    assert.deepEqual(await env.keys(projects), expected);
    assert.equal(env.server.hitsOn('/organizations/acme/project-keys/').length, 1);
    // from then on, only the per-project lists
    assert.deepEqual(await env.keys(projects), expected);
    assert.equal(env.server.hitsOn('/organizations/acme/project-keys/').length, 1);
    assert.equal(env.server.hitsOn('/projects/acme/').length, 8);
  } finally {
    await env.close();
  }
});

test('40 projects in no order come back sorted by slug; an unknown SENTRY_EXPORTER_PROJECTS slug is logged once, as an error', async () => {
  // Slugs p00…p39 listed in the order 7·i mod 40 (7 and 40 share no divisor: every slug once, well mixed).
  const listed = Array.from({ length: 40 }, (_, i) => {
    const n = String((7 * i) % 40).padStart(2, '0');
    return { id: `1${n}`, slug: `p${n}`, environments: [] };
  });
  const server = await startServer((req, res) => {
    if (req.url?.startsWith('/api/0/organizations/acme/projects/')) return sendJson(res, 200, listed);
    sendJson(res, 404, { detail: 'The requested resource does not exist' });
  });
  servers.push(server);
  const { client, log } = makeClient(server.baseUrl);
  try {
    const every = new MetadataCollector(
      { api: client, logger: log.logger },
      { projects: [], interval: 60, org: 'acme', baseUrl: server.baseUrl },
    );
    assert.deepEqual(
      (await every.collect(runContext())).map((p) => p.slug),
      Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(2, '0')}`),
    );
    const some = new MetadataCollector(
      { api: client, logger: log.logger },
      { projects: ['p31', 'gone', 'p05'], interval: 60, org: 'acme', baseUrl: server.baseUrl },
    );
    for (let run = 0; run < 2; run++) {
      assert.deepEqual(await some.collect(runContext()), [
        { id: '105', slug: 'p05', environments: [], platform: null, teams: [] },
        { id: '131', slug: 'p31', environments: [], platform: null, teams: [] },
      ]);
    }
    const errors = log.lines().filter((l) => l['level'] === 50);
    assert.deepEqual(
      errors.map((l) => [l['project'], l['org'], l['msg']]),
      [
        [
          'gone',
          'acme',
          'SENTRY_EXPORTER_PROJECTS names a project that does not exist or the token cannot see; it is left out',
        ],
      ],
    );
  } finally {
    await client.close();
  }
});
