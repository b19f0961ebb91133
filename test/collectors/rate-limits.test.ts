/**
 * The rate-limit collector against small Sentry answers, with the expected values worked out by hand.
 *
 * Meaning, from Sentry (docs/sentry-api.md Part 1 §5): both key lists are ordered by `-id` (newest key
 * first); each key has `isActive` and `rateLimit`, which is null, or `{window, count}` with the window in
 * seconds (src/sentry/api/serializers/models/project_key.py); the organization list
 * (src/sentry/api/endpoints/organization_project_keys.py) names each key's project with an integer
 * `projectId` and is 404 on Sentry releases before December 2025, where each project's `/keys/` is asked.
 * The exported value is the first active key's count per window in events per second, 0 without a limit.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, test } from 'node:test';
import type { ProjectInfo } from '../../src/collectors/collector.js';
import { RateLimitCollector, eventsPerSecond } from '../../src/collectors/rate-limits.js';
import { renderFamilies } from '../../src/metrics/exposition.js';
import { SentryApiError } from '../../src/sentry/errors.js';
import { makeClient, rejection, sendJson, startServer, type TestServer } from '../sentry/helpers.js';
import { runContext } from '../helpers/collect.js';

const servers: TestServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

const PROJECTS: ProjectInfo[] = [
  { id: '1', slug: 'web', environments: ['production'] },
  { id: '2', slug: 'api', environments: [] },
  { id: '3', slug: 'cron', environments: [] },
  { id: '4', slug: 'batch', environments: ['production'] },
];

function key(
  projectId: number,
  isActive: boolean,
  rateLimit: { window: number; count: number } | null,
): Record<string, unknown> {
  return { id: `public-${projectId}-${String(isActive)}`, projectId, isActive, rateLimit, label: 'Default' };
}

/**
 * Every project's keys, newest first. web: an active key of 1,000 events per 60 s (listed first), an older
 * active one of 5 per second on the next page; api: an inactive key with a limit, then an active one
 * without; cron: no key; batch: one event per hour; project 9 is not in the project list.
 */
const PAGES = [
  [key(1, true, { window: 60, count: 1000 }), key(2, false, { window: 1, count: 50 }), key(9, true, null)],
  [key(1, true, { window: 1, count: 5 }), key(2, true, null), key(4, true, { window: 3600, count: 1 })],
];

/** By hand: 1000 / 60 = 16.6666…, rounded to 6 decimals; api and cron 0; 1 / 3600 = 0.000277…. */
const EXPECTED = [
  { project: 'web', eventsPerSecond: 16.666667 },
  { project: 'api', eventsPerSecond: 0 },
  { project: 'cron', eventsPerSecond: 0 },
  { project: 'batch', eventsPerSecond: 0.000278 },
];

/** The organization list in two pages, or a 404 for it when `orgList` is false (older Sentry). */
function sentry(orgList: boolean): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/0/organizations/acme/project-keys/') {
      if (!orgList) return sendJson(res, 404, { detail: 'The requested resource does not exist' });
      const page = url.searchParams.get('cursor') === '0:10:0' ? 1 : 0;
      const self = `http://sentry.invalid${url.pathname}?per_page=100&project=-1`;
      const link =
        `<${self}&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", ` +
        `<${self}&cursor=0:10:0>; rel="next"; results="${page === 0}"; cursor="0:10:0"`;
      return sendJson(res, 200, PAGES[page], { link });
    }
    const own = /^\/api\/0\/projects\/acme\/([^/]+)\/keys\/$/.exec(url.pathname);
    const id = PROJECTS.find((p) => p.slug === own?.[1])?.id;
    if (id !== undefined)
      return sendJson(
        res,
        200,
        PAGES.flat().filter((k) => String(k.projectId) === id),
      );
    sendJson(res, 404, { detail: 'The requested resource does not exist' });
  };
}

async function collector(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = await startServer(handler);
  servers.push(server);
  const { client, log } = makeClient(server.baseUrl);
  const c = new RateLimitCollector({ api: client, logger: log.logger }, { interval: 600 });
  const collect = () =>
    c.collect(runContext({ now: Date.parse('2026-01-15T12:00:00Z'), projects: PROJECTS }));
  return { server, client, log, collector: c, collect };
}

test('the organization key list, past its first page: the first active key of each project, per second', async () => {
  const { server, client, collect } = await collector(sentry(true));
  try {
    assert.deepEqual(await collect(), EXPECTED);
    assert.deepEqual(
      server.hits.map((h) => [h.path, [...h.query]]),
      [
        [
          '/api/0/organizations/acme/project-keys/',
          [
            ['per_page', '100'],
            ['project', '-1'],
          ],
        ],
        [
          '/api/0/organizations/acme/project-keys/',
          [
            ['per_page', '100'],
            ['project', '-1'],
            ['cursor', '0:10:0'],
          ],
        ],
      ],
    );
  } finally {
    await client.close();
  }
});

test('a Sentry without the organization list (404): each project is asked, from then on, and said once', async () => {
  const { server, client, log, collect } = await collector(sentry(false));
  try {
    assert.deepEqual(await collect(), EXPECTED);
    assert.deepEqual(server.hits.map((h) => h.path).sort(), [
      '/api/0/organizations/acme/project-keys/',
      '/api/0/projects/acme/api/keys/',
      '/api/0/projects/acme/batch/keys/',
      '/api/0/projects/acme/cron/keys/',
      '/api/0/projects/acme/web/keys/',
    ]);
    for (const h of server.hits.slice(1)) assert.deepEqual([...h.query], [['per_page', '100']]);
    server.hits.length = 0;
    assert.deepEqual(await collect(), EXPECTED);
    assert.equal(server.hitsOn('/organizations/').length, 0, 'the organization list is not asked again');
    assert.equal(server.hits.length, 4);
    const warnings = log.lines().filter((l) => l['level'] === 40);
    assert.deepEqual(
      warnings.map((l) => l['endpoint']),
      ['/organizations/{org}/project-keys/'],
    );
  } finally {
    await client.close();
  }
});

test('any other refusal of the organization list fails the run, with no fallback', async () => {
  const { server, client, collect } = await collector((_req, res) =>
    sendJson(res, 403, { detail: 'You do not have permission to perform this action.' }),
  );
  try {
    const err = await rejection(collect());
    assert.ok(err instanceof SentryApiError, `the run fails with a SentryApiError: ${String(err)}`);
    assert.equal(err.status, 403);
    assert.match(err.message, /project-keys\/ answered HTTP 403: .*org:read/);
    assert.equal(server.hits.length, 1);
  } finally {
    await client.close();
  }
});

test('events per second: the first active key only; no limit, or a window of 0, is 0', () => {
  const limit = (window: number, count: number) => ({ isActive: true, rateLimit: { window, count } });
  assert.equal(eventsPerSecond([]), 0);
  assert.equal(eventsPerSecond([{ isActive: false, rateLimit: { window: 1, count: 9 } }]), 0);
  assert.equal(eventsPerSecond([limit(10, 25), limit(1, 1)]), 2.5);
  assert.equal(eventsPerSecond([{ isActive: true, rateLimit: null }, limit(1, 1)]), 0);
  // Sentry sends null rather than a window of 0; a server that sends 0 gets no division by zero.
  assert.equal(eventsPerSecond([limit(0, 5)]), 0);
  // 2 / 3 = 0.6666…: six decimals, rounded half up
  assert.equal(eventsPerSecond([limit(3, 2)]), 0.666667);
  assert.equal(eventsPerSecond([limit(7, 1)]), 0.142857);
});

test('the family, in the legacy and the strict spelling', async () => {
  const { client, collector: c } = await collector(sentry(true));
  try {
    const rows = [
      { project: 'web', eventsPerSecond: 16.666667 },
      { project: 'cron', eventsPerSecond: 0 },
    ];
    const now = new Date('2026-01-15T12:00:00Z');
    assert.equal(
      renderFamilies(c.render(rows, { legacy: true, now })),
      [
        "# HELP sentry_rate_limit_events_sec Rate limit of the project's first active client key in events per second (0: none). Collected in the background every 600s.",
        '# TYPE sentry_rate_limit_events_sec gauge',
        'sentry_rate_limit_events_sec{project_slug="web"} 16.666667',
        'sentry_rate_limit_events_sec{project_slug="cron"} 0',
        '',
      ].join('\n'),
    );
    assert.match(
      renderFamilies(c.render(rows, { legacy: false, now })),
      /^# TYPE sentry_rate_limit_events_per_second gauge\nsentry_rate_limit_events_per_second\{project_slug="web"\} 16\.666667\n/m,
    );
  } finally {
    await client.close();
  }
});
