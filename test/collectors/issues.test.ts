/**
 * The issues collector against small, explicit Sentry answers, with expected values worked out by hand in
 * this file (not by the simulator's ground truth): the 1 h / 24 h / 14 d windows at their edges, an issue
 * without firstSeen, the newest-first cap of the open-issue series, an environment and a project without
 * issues, and an empty organization.
 *
 * Meaning, from Sentry: an issue's `firstSeen` is when its first event (in the queried environment) was
 * seen, `count` (a string) its events there (src/sentry/api/serializers/models/group.py); the Python
 * exporter counts an issue into a window when firstSeen is at most the window's length ago, and takes a
 * missing firstSeen as "now".
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, test } from 'node:test';
import pino from 'pino';
import type { Collector, ProjectInfo } from '../../src/collectors/collector.js';
import { createCollectors } from '../../src/collectors/index.js';
import { loadExporterConfig as loadConfig } from '../../src/collectors/index.js';
import { renderFamilies } from '../../src/metrics/exposition.js';
import { createSentryClient } from '../../src/sentry/client.js';
import { parseExposition } from '../helpers/exporter.js';
import { sendJson, startServer, type TestServer } from '../sentry/helpers.js';
import { runContext } from '../helpers/collect.js';

const NOW = Date.parse('2026-11-25T13:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const at = (msAgo: number): string => new Date(NOW - msAgo).toISOString();

function issue(
  id: number,
  project: string,
  count: number,
  firstSeen: string | null,
): Record<string, unknown> {
  return {
    id: String(id),
    project: { id: project === 'web' ? '1' : project === 'cron' ? '2' : '3', slug: project },
    logger: null,
    level: 'error',
    status: 'unresolved',
    platform: 'python',
    isUnhandled: false,
    count: String(count),
    firstSeen,
    lastSeen: firstSeen === null ? null : at(0),
  };
}

/** Issues of `web` in production: at, inside and outside each window's edge, and one without firstSeen. */
const PRODUCTION = [
  issue(101, 'web', 5, at(HOUR)), // exactly 1 h: in every window, an open issue
  issue(102, 'web', 7, at(HOUR + 1)), // 1 ms past 1 h: 24 h and 14 d
  issue(103, 'web', 11, at(HOUR - 1)), // 1 ms inside 1 h: every window, open
  issue(104, 'web', 13, at(DAY)), // exactly 24 h: 24 h and 14 d
  issue(105, 'web', 17, at(DAY + 1)), // 1 ms past 24 h: 14 d only
  issue(106, 'web', 19, at(14 * DAY)), // exactly 14 d: 14 d only
  issue(107, 'web', 23, at(14 * DAY + 1)), // 1 ms past 14 d: no window
  issue(108, 'web', 2, null), // no firstSeen: taken as now, so every window, open
];
/** The project without environments. */
const CRON = [issue(201, 'cron', 3, at(30 * MINUTE))];

const projectsJson = [
  { id: '1', slug: 'web', environments: ['production', 'staging'] },
  { id: '2', slug: 'cron', environments: [] },
  { id: '3', slug: 'quiet', environments: ['production'] },
];

function sentry(projects: unknown[]): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/0/organizations/acme/projects/') return sendJson(res, 200, projects);
    if (url.pathname === '/api/0/organizations/acme/issues/') {
      const env = url.searchParams.get('environment');
      const ids = url.searchParams.getAll('project');
      if (env === 'production') return sendJson(res, 200, PRODUCTION);
      if (env === null && ids.length === 1 && ids[0] === '2') return sendJson(res, 200, CRON);
      return sendJson(res, 200, []);
    }
    const release = /^\/api\/0\/organizations\/acme\/issues\/(\d+)\/current-release\/$/.exec(url.pathname);
    if (release) {
      return sendJson(res, 200, { currentRelease: { release: { version: `rel-${release[1]}` } } });
    }
    sendJson(res, 404, { detail: 'The requested resource does not exist' });
  };
}

const servers: TestServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

/** The value of `sentry_issues_bucket` for a project, environment and window, if exported. */
function bucketOf(
  rows: Array<{ name: string; labels: Record<string, string>; value: number }>,
  project: string,
  environment: string,
  le: string,
): number | undefined {
  return rows.find(
    (r) =>
      r.name === 'sentry_issues_bucket' &&
      r.labels.project_slug === project &&
      r.labels.environment === environment &&
      r.labels.le === le,
  )?.value;
}

async function collectOnce(
  projects: unknown[],
  env: NodeJS.ProcessEnv = {},
): Promise<Array<{ name: string; labels: Record<string, string>; value: number }>> {
  const server = await startServer(sentry(projects));
  servers.push(server);
  const config = loadConfig({
    env: {
      SENTRY_BASE_URL: server.baseUrl,
      SENTRY_AUTH_TOKEN: 't',
      SENTRY_EXPORTER_ORG: 'acme',
      // The windows are under test, not the pace: at the default 3 requests/s a run takes two seconds.
      SENTRY_API_RATE: '100',
      ...env,
    },
  });
  const logger = pino({ level: 'silent' });
  const client = createSentryClient({ ...config.sentry, timeout: 5, logger });
  try {
    const { metadata, metrics } = createCollectors(config, client, logger);
    const ctx = runContext<ProjectInfo[]>({ now: NOW });
    const list = await metadata.collect(ctx);
    const issues = metrics.find((c) => c.name === 'issues') as Collector;
    const rows = await issues.collect({ ...runContext({ now: NOW }), projects: list });
    return parseExposition(renderFamilies(issues.render(rows, { legacy: true, now: new Date(NOW) })));
  } finally {
    await client.close();
  }
}

test('windows at their edges: exactly 1 h, 24 h and 14 d ago are inside, 1 ms more is outside', async () => {
  const rows = await collectOnce(projectsJson);
  const bucket = (project: string, environment: string, le: string) =>
    bucketOf(rows, project, environment, le);
  // production, by hand: 1 h = 5 + 11 + 2 = 18; 24 h = 18 + 7 + 13 = 38; 14 d = 38 + 17 + 19 = 74 (not 23)
  assert.equal(bucket('web', 'production', '1h'), 18);
  assert.equal(bucket('web', 'production', '24h'), 38);
  assert.equal(bucket('web', 'production', '+Inf'), 74);
  // an environment without events and a project without issues: zeros, not missing series
  for (const [project, environment] of [
    ['web', 'staging'],
    ['quiet', 'production'],
  ]) {
    for (const le of ['1h', '24h', '+Inf']) assert.equal(bucket(project!, environment!, le), 0);
  }
  // the project without environments: environment="None"
  assert.equal(bucket('cron', 'None', '1h'), 3);
  assert.equal(bucket('cron', 'None', '+Inf'), 3);
  const gsum = rows.find(
    (r) =>
      r.name === 'sentry_issues_gsum' &&
      r.labels.project_slug === 'web' &&
      r.labels.environment === 'production',
  );
  assert.equal(gsum?.value, 18 + 38 + 74);
});

test('open issues: first seen within the hour (the edge included), a missing firstSeen as today, with releases', async () => {
  const rows = await collectOnce(projectsJson);
  const open = rows.filter((r) => r.name === 'sentry_open_issue_events');
  assert.deepEqual(
    open.map((r) => [r.labels.issue_id, r.labels.environment, r.labels.release, r.labels.firstSeen, r.value]),
    [
      // newest first: 108 (no firstSeen: now), 201 (30 min), 103 (59:59.999), 101 (60:00)
      ['108', 'production', 'rel-108', '2026-11-25', 2],
      ['201', 'None', 'rel-201', '2026-11-25', 3],
      ['103', 'production', 'rel-103', '2026-11-25', 11],
      ['101', 'production', 'rel-101', '2026-11-25', 5],
    ],
  );
});

test('SENTRY_OPEN_ISSUES_MAX keeps the newest issues and counts the rest as dropped', async () => {
  const rows = await collectOnce(projectsJson, { SENTRY_OPEN_ISSUES_MAX: '2' });
  assert.deepEqual(
    rows.filter((r) => r.name === 'sentry_open_issue_events').map((r) => r.labels.issue_id),
    ['108', '201'],
  );
  assert.equal(rows.find((r) => r.name === 'sentry_exporter_open_issue_series_dropped')?.value, 2);
});

test('an empty organization exports no series and drops nothing', async () => {
  const rows = await collectOnce([]);
  assert.deepEqual(
    rows.map((r) => [r.name, r.value]),
    [
      ['sentry_exporter_open_issue_series_dropped', 0],
      ['sentry_exporter_release_lookups_failed_total', 0],
    ],
  );
});

/**
 * Sentry before 2025-09-08 without the `organizations:global-views` feature (plans below Business): an
 * issue query over more than one project (`project=-1` included) is a 400 whose detail names the multi
 * project stream (docs/sentry-api.md, organization_group_index.py at commit 124990885). `refuse` is the
 * detail of that 400; issue 103's current release answers 404 (deleted or merged since the listing).
 */
async function collectRuns(
  refuse: string,
  runs: number,
): Promise<{
  server: TestServer;
  results: Array<Awaited<ReturnType<typeof collectOnce>> | Error>;
  /** The number of requests the server had seen at the end of each run. */
  marks: number[];
}> {
  const inner = sentry(projectsJson);
  const server = await startServer((req, res, hit) => {
    const ids = hit.query.getAll('project');
    if (hit.path === '/api/0/organizations/acme/issues/' && (ids.length !== 1 || ids[0] === '-1'))
      return sendJson(res, 400, { detail: refuse });
    // Project 3 (quiet) has no issue; the answers of `sentry` do not look at the project filter.
    if (hit.path === '/api/0/organizations/acme/issues/' && ids[0] === '3') return sendJson(res, 200, []);
    if (hit.path === '/api/0/organizations/acme/issues/103/current-release/')
      return sendJson(res, 404, { detail: 'The requested resource does not exist' });
    inner(req, res);
  });
  servers.push(server);
  const config = loadConfig({
    env: {
      SENTRY_BASE_URL: server.baseUrl,
      SENTRY_AUTH_TOKEN: 'sntrys_issues_test',
      SENTRY_EXPORTER_ORG: 'acme',
      SENTRY_API_RATE: '100',
    },
  });
  const logger = pino({ level: 'silent' });
  const client = createSentryClient({ ...config.sentry, timeout: 5, logger });
  const results: Array<Awaited<ReturnType<typeof collectOnce>> | Error> = [];
  const marks: number[] = [];
  try {
    const { metadata, metrics } = createCollectors(config, client, logger);
    const ctx = runContext<ProjectInfo[]>({ now: NOW });
    const list = await metadata.collect(ctx);
    const issues = metrics.find((c) => c.name === 'issues') as Collector;
    for (let run = 0; run < runs; run++) {
      try {
        const rows = await issues.collect({ ...runContext({ now: NOW }), projects: list });
        results.push(
          parseExposition(renderFamilies(issues.render(rows, { legacy: true, now: new Date(NOW) }))),
        );
      } catch (err) {
        results.push(err as Error);
      }
      marks.push(server.hits.length);
    }
  } finally {
    await client.close();
  }
  return { server, results, marks };
}

test('without global-views, a refused multi-project query makes the collector ask per project and environment, from then on', async () => {
  const { server, results, marks } = await collectRuns(
    'You do not have the multi project stream feature enabled',
    2,
  );
  const issueQueries = (from: number, to: number) =>
    server.hits
      .slice(from, to)
      .filter((h) => h.path === '/api/0/organizations/acme/issues/')
      .map((h) => [h.query.getAll('project').join(','), h.query.get('environment')])
      .sort((a, b) => String(a).localeCompare(String(b)));
  const perProject = [
    ['1', 'production'],
    ['1', 'staging'],
    ['2', null],
    ['3', 'production'],
  ];
  // First run: the organization-wide queries, one per environment (production, staging) over every
  // project, refused, then one per project and environment: web (production, staging), cron (no
  // environment), quiet (production). Cron's own query of the first attempt may or may not have gone out
  // before the refusal cancelled it.
  const first = issueQueries(0, marks[0]!);
  assert.ok(
    first.some(([p]) => p === '-1'),
    'the first run tried the organization-wide query (project=-1)',
  );
  for (const [p, e] of perProject)
    assert.ok(
      first.some(([fp, fe]) => fp === p && fe === e),
      `${p} ${e}`,
    );
  // The second run asks per project and environment only.
  assert.deepEqual(issueQueries(marks[0]!, marks[1]!), perProject);
  for (const rows of results) {
    assert.ok(!(rows instanceof Error), String(rows));
    const bucket = (project: string, environment: string, le: string) =>
      bucketOf(rows, project, environment, le);
    // As in the organization-wide case: production 18 / 38 / 74, cron 3, the rest 0 (counted once,
    // although cron's own query may have been answered before the refusal).
    assert.deepEqual(
      [
        bucket('web', 'production', '1h'),
        bucket('web', 'production', '24h'),
        bucket('web', 'production', '+Inf'),
      ],
      [18, 38, 74],
    );
    assert.deepEqual([bucket('cron', 'None', '1h'), bucket('cron', 'None', '+Inf')], [3, 3]);
    assert.equal(bucket('web', 'staging', '+Inf'), 0);
    assert.equal(bucket('quiet', 'production', '+Inf'), 0);
    // Issue 103 vanished before its release was asked: release None.
    assert.deepEqual(
      rows
        .filter((r) => r.name === 'sentry_open_issue_events')
        .map((r) => [r.labels.issue_id, r.labels.release, r.value]),
      [
        ['108', 'rel-108', 2],
        ['201', 'rel-201', 3],
        ['103', 'None', 11],
        ['101', 'rel-101', 5],
      ],
    );
  }
});

test('any other 400 on the issue query fails the run, naming the endpoint', async () => {
  const { results } = await collectRuns('Invalid search query', 1);
  const [err] = results;
  assert.ok(err instanceof Error, `the run fails with an Error: ${String(err)}`);
  assert.match(err.message, /\/organizations\/acme\/issues\/ answered HTTP 400: Invalid search query/);
});

test('the widest enabled window sets the query; disabled windows are not exported', async () => {
  const cases: Array<[NodeJS.ProcessEnv, string, Array<[string, number]>]> = [
    [
      { SENTRY_ISSUES_14D: 'false' },
      'is:unresolved firstSeen:-24h',
      [
        ['1h', 18],
        ['24h', 38],
      ],
    ],
    [{ SENTRY_ISSUES_14D: 'false', SENTRY_ISSUES_24H: 'false' }, 'is:unresolved firstSeen:-1h', [['1h', 18]]],
    [
      { SENTRY_ISSUES_14D: 'false', SENTRY_ISSUES_24H: 'false', SENTRY_ISSUES_1H: 'false' },
      'is:unresolved firstSeen:-1h',
      [],
    ],
  ];
  for (const [env, query, buckets] of cases) {
    const rows = await collectOnce(projectsJson, env);
    const asked = servers.at(-1)!.hits.filter((h) => h.path === '/api/0/organizations/acme/issues/');
    assert.deepEqual(
      [...new Set(asked.map((h) => `${h.query.get('query')} ${h.query.get('statsPeriod')}`))],
      [`${query} 24h`],
    );
    assert.deepEqual(
      rows
        .filter(
          (r) =>
            r.name === 'sentry_issues_bucket' &&
            r.labels.project_slug === 'web' &&
            r.labels.environment === 'production',
        )
        .map((r) => [r.labels.le, r.value]),
      buckets,
    );
  }
});

test('SENTRY_EXPORTER_PROJECTS: each issue query names the selected projects of its environment', async () => {
  await collectOnce(projectsJson, { SENTRY_EXPORTER_PROJECTS: 'web,cron' });
  const asked = servers
    .at(-1)!
    .hits.filter((h) => h.path === '/api/0/organizations/acme/issues/')
    .map((h) => [h.query.getAll('project').join(','), h.query.get('environment')])
    .sort((a, b) => String(a).localeCompare(String(b)));
  assert.deepEqual(asked, [
    ['1', 'production'],
    ['1', 'staging'],
    ['2', null],
  ]);
});
