/**
 * Cron monitors: small explicit Sentry answers with expected values written out by hand (the data of
 * Sentry's own tests, docs/sentry-api.md Part 3 §4.2), then the whole exporter against the simulator in
 * both of its modes, compared with the ground truth.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { MonitorCollector } from '../../src/collectors/monitors.js';
import type { ProjectInfo } from '../../src/collectors/collector.js';
import { renderFamilies } from '../../src/metrics/exposition.js';
import { SentryApiError } from '../../src/sentry/errors.js';
import { startSimulator } from '../../sim/index.js';
import type { SimOptions } from '../../sim/index.js';
import { healthWhen, parseExposition, startExporterAgainst } from '../helpers/exporter.js';
import { waitUntil } from '../helpers/wait.js';
import { MONITOR_STATUS_SET, expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { makeClient, rejection, sendJson, startServer, type TestServer } from '../sentry/helpers.js';
import { runContext } from '../helpers/collect.js';

const servers: TestServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

/** Sentry's clock in the fixtures: 2024-05-01T12:00:00Z. */
const NOW = Date.parse('2024-05-01T12:00:00Z');
const at = (secondsBeforeNow: number) => new Date(NOW - secondsBeforeNow * 1000).toISOString();

const PROJECTS: ProjectInfo[] = [
  { id: '1', slug: 'backend', environments: ['dev', 'prod', 'production'] },
  { id: '2', slug: 'frontend', environments: [] },
];

/** A project object as the monitor serializer nests it (ProjectSerializer; only a few of its keys). */
function project(id: string, slug: string): Record<string, unknown> {
  return { id, slug, name: slug, platform: 'python', dateCreated: '2023-01-01T00:00:00Z', hasMonitors: true };
}

interface EnvFixture {
  name: string;
  status: string;
  isMuted?: boolean;
  lastCheckIn?: string | null;
  nextCheckInLatest?: string | null;
}

function monitor(
  id: string,
  slug: string,
  environments: EnvFixture[],
  extra: { status?: string; isMuted?: boolean; project?: Record<string, unknown> } = {},
): Record<string, unknown> {
  return {
    id,
    slug,
    name: slug,
    status: extra.status ?? 'active',
    isMuted: extra.isMuted ?? false,
    type: 'cron_job',
    config: { schedule_type: 'crontab', schedule: '* * * * *', checkin_margin: null, max_runtime: null },
    dateCreated: '2024-04-01T00:00:00Z',
    project: extra.project ?? project('1', 'backend'),
    owner: null,
    environments: environments.map((e) => ({
      name: e.name,
      status: e.status,
      isMuted: e.isMuted ?? false,
      dateCreated: '2024-04-01T00:00:00Z',
      lastCheckIn: e.lastCheckIn ?? null,
      nextCheckIn: null,
      nextCheckInLatest: e.nextCheckInLatest ?? null,
      activeIncident: null,
    })),
  };
}

/** Serves `pages` in order as one offset-paginated list, like OffsetPaginator (cursor `100:<page>:0`). */
async function monitorServer(pages: () => unknown[][]): Promise<TestServer> {
  const server = await startServer((_req, res, hit) => {
    const all = pages();
    const page = Number(/^100:(\d+):0$/.exec(hit.query.get('cursor') ?? '100:0:0')?.[1] ?? -1);
    const url = `http://sentry.invalid${hit.path}?per_page=100&project=-1&sort=name`;
    const link =
      `<${url}&cursor=100:${page - 1}:1>; rel="previous"; results="${page > 0}"; cursor="100:${page - 1}:1", ` +
      `<${url}&cursor=100:${page + 1}:0>; rel="next"; results="${page + 1 < all.length}"; cursor="100:${page + 1}:0"`;
    sendJson(res, 200, all[page] ?? [], { link });
  });
  servers.push(server);
  return server;
}

async function collectFrom(server: TestServer, projects = PROJECTS) {
  const { client, log } = makeClient(server.baseUrl);
  const collector = new MonitorCollector({ api: client, logger: log.logger }, { interval: 60 });
  try {
    const ctx = runContext({ now: NOW, projects });
    const rows = await collector.collect(ctx);
    const text = renderFamilies(collector.render(rows));
    return {
      rows,
      text,
      skipped: ctx.skipped.toLog(),
      values: new Map(parseExposition(text).map((r) => [sampleKey(r), r.value])),
      log: log.lines(),
    };
  } finally {
    await client.close();
  }
}

function sampleKey(r: { name: string; labels: Record<string, string> }): string {
  const l = r.labels;
  const base = `${r.name.replace(/^sentry_monitor_/, '')} ${l.project_slug}/${l.monitor}/${l.environment}`;
  return l.status === undefined ? base : `${base} ${l.status}`;
}

/**
 * What one environment must export, written as Sentry's meaning gives it: the state set (1 for `status`, 0
 * for each other status Sentry defines), muted, and the two timestamps when Sentry sent them.
 */
function expect(
  id: string,
  status: string,
  muted: 0 | 1,
  lastCheckIn: number | null,
  nextCheckInLatest: number | null = null,
): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const s of ['active', 'disabled', 'ok', 'error', 'missed_checkin', 'timeout']) {
    out.push([`status ${id} ${s}`, s === status ? 1 : 0]);
  }
  if (!out.some(([k]) => k === `status ${id} ${status}`)) out.push([`status ${id} ${status}`, 1]);
  out.push([`muted ${id}`, muted]);
  if (lastCheckIn !== null) out.push([`last_checkin_timestamp_seconds ${id}`, lastCheckIn]);
  if (nextCheckInLatest !== null)
    out.push([`next_checkin_latest_timestamp_seconds ${id}`, nextCheckInLatest]);
  return out;
}

test("Sentry's own monitor-list fixtures, two pages, values written out by hand", async () => {
  // tests/sentry/monitors/endpoints/test_organization_monitor_index.py, ListOrganizationMonitorsTest.
  // Statuses and check-in times a test does not set are ours; slugs are ours where a test names none.
  const page1 = [
    // test_is_muted_calculated_from_all_envs_not_filtered: "Test Monitor", prod not muted, dev muted;
    // the monitor's computed isMuted is false.
    monitor('a1', 'test-monitor', [
      { name: 'prod', status: 'ok', lastCheckIn: at(60), nextCheckInLatest: at(-120) },
      { name: 'dev', status: 'ok', isMuted: true, lastCheckIn: at(3600) },
    ]),
    // test_environments_sorted: answered in the order jungle, volcano, vines, tree.
    monitor('b1', 'sorted', [
      { name: 'jungle', status: 'error', lastCheckIn: at(90) },
      { name: 'volcano', status: 'ok', lastCheckIn: at(75) },
      { name: 'vines', status: 'ok', lastCheckIn: at(80) },
      { name: 'tree', status: 'ok', isMuted: true, lastCheckIn: at(105) },
    ]),
    // test_ignore_pending_deletion_environments: Sentry leaves out `deleted_environment`.
    monitor('c1', 'pending-env', [{ name: 'production', status: 'ok', lastCheckIn: at(60) }]),
    // test_all_monitor_environments: a monitor with no environments has `environments: []`.
    monitor('e1', 'empty', []),
    monitor('e2', 'with-test-env', [{ name: 'test', status: 'ok' }]),
  ];
  // test_sort_status (a release where a monitor's isMuted was its own flag): each monitor has `jungle` with
  // the status its name says and `volcano` DISABLED; last check-ins 1 min (older: 5 min) ago minus 30 s
  // (jungle) and 15 s (volcano).
  const sortStatus = (id: string, slug: string, jungle: string, minutes: number, extra = {}) =>
    monitor(
      id,
      slug,
      [
        { name: 'jungle', status: jungle, lastCheckIn: at(minutes * 60 + 30) },
        { name: 'volcano', status: 'disabled', lastCheckIn: at(minutes * 60 + 15) },
      ],
      extra,
    );
  const page2 = [
    sortStatus('d1', 'active-active', 'active', 1),
    sortStatus('d2', 'active-ok', 'ok', 1),
    sortStatus('d3', 'disabled-ok', 'ok', 1, { status: 'disabled' }),
    sortStatus('d4', 'active-error-older', 'error', 5),
    sortStatus('d5', 'active-error', 'error', 1),
    sortStatus('d6', 'active-active-muted', 'active', 1, { isMuted: true }),
    // Ours: the statuses of older releases, one Sentry may add later, another project (frontend), a
    // project outside the list (SENTRY_EXPORTER_PROJECTS), and a monitor the offset pages served twice.
    monitor('f1', 'legacy', [
      { name: 'prod', status: 'missed_checkin', lastCheckIn: '2024-05-01T11:00:00.123456Z' },
      { name: 'dev', status: 'timeout', lastCheckIn: '2024-05-01T11:30:00+00:00' },
    ]),
    monitor('g1', 'test-monitor', [{ name: 'production', status: 'paused' }], {
      project: project('2', 'frontend'),
    }),
    monitor('h1', 'elsewhere', [{ name: 'production', status: 'error' }], { project: project('3', 'other') }),
    page1[2]!,
  ];
  const server = await monitorServer(() => [page1, page2]);
  const { rows, values } = await collectFrom(server);

  // Both pages were read, with the same parameters.
  assert.deepEqual(
    server.hits.map((h) => [h.path, [...h.query]]),
    [
      [
        '/api/0/organizations/acme/monitors/',
        [
          ['per_page', '100'],
          ['project', '-1'],
          ['sort', 'name'],
        ],
      ],
      [
        '/api/0/organizations/acme/monitors/',
        [
          ['per_page', '100'],
          ['project', '-1'],
          ['sort', 'name'],
          ['cursor', '100:1:0'],
        ],
      ],
    ],
  );

  const expected = new Map<string, number>([
    // muted: the environment's own flag (the monitor is not muted as a whole)
    ...expect('backend/test-monitor/prod', 'ok', 0, 1714564740, 1714564920),
    ...expect('backend/test-monitor/dev', 'ok', 1, 1714561200),
    ...expect('backend/sorted/jungle', 'error', 0, 1714564710),
    ...expect('backend/sorted/volcano', 'ok', 0, 1714564725),
    ...expect('backend/sorted/vines', 'ok', 0, 1714564720),
    ...expect('backend/sorted/tree', 'ok', 1, 1714564695),
    ...expect('backend/pending-env/production', 'ok', 0, 1714564740),
    // no environments: one row, environment None, waiting for its first check-in
    ...expect('backend/empty/None', 'active', 0, null),
    ...expect('backend/with-test-env/test', 'ok', 0, null),
    ...expect('backend/active-active/jungle', 'active', 0, 1714564710),
    ...expect('backend/active-active/volcano', 'disabled', 0, 1714564725),
    ...expect('backend/active-ok/jungle', 'ok', 0, 1714564710),
    ...expect('backend/active-ok/volcano', 'disabled', 0, 1714564725),
    // the monitor is disabled: both environments show disabled, whatever their own status
    ...expect('backend/disabled-ok/jungle', 'disabled', 0, 1714564710),
    ...expect('backend/disabled-ok/volcano', 'disabled', 0, 1714564725),
    ...expect('backend/active-error-older/jungle', 'error', 0, 1714564470),
    ...expect('backend/active-error-older/volcano', 'disabled', 0, 1714564485),
    ...expect('backend/active-error/jungle', 'error', 0, 1714564710),
    ...expect('backend/active-error/volcano', 'disabled', 0, 1714564725),
    // the monitor's own isMuted (older releases): every environment is muted
    ...expect('backend/active-active-muted/jungle', 'active', 1, 1714564710),
    ...expect('backend/active-active-muted/volcano', 'disabled', 1, 1714564725),
    // microseconds kept; an offset instead of Z
    ...expect('backend/legacy/prod', 'missed_checkin', 0, 1714561200.123456),
    ...expect('backend/legacy/dev', 'timeout', 0, 1714563000),
    // an unknown status is a seventh member of the state set, not a missing series
    ...expect('frontend/test-monitor/production', 'paused', 0, null),
  ]);
  assert.deepEqual(values, expected);
  assert.equal(rows.length, 24, 'other (not listed) is left out; pending-env counts once');

  // Later: every environment of "Test Monitor" muted, so Sentry computes the monitor's isMuted as true.
  page1[0] = monitor(
    'a1',
    'test-monitor',
    [
      { name: 'prod', status: 'ok', isMuted: true },
      { name: 'dev', status: 'ok', isMuted: true },
    ],
    { isMuted: true },
  );
  const later = await collectFrom(server);
  assert.equal(later.values.get('muted backend/test-monitor/prod'), 1);
  assert.equal(later.values.get('muted backend/test-monitor/dev'), 1);
});

test('the exposition of one monitor, as written', async () => {
  const server = await monitorServer(() => [
    [
      monitor('e1', 'empty', []),
      monitor('x1', 'nightly', [
        {
          name: 'production',
          status: 'error',
          isMuted: true,
          lastCheckIn: '2024-05-01T02:00:03.5Z',
          nextCheckInLatest: '2024-05-02T02:05:00Z',
        },
      ]),
    ],
  ]);
  const { text } = await collectFrom(server);
  assert.equal(
    text,
    `# HELP sentry_monitor_status Cron monitor status per environment as a state set: 1 for the current status, 0 for the others (active: no check-in yet; disabled: the monitor or the environment is disabled; missed_checkin, timeout: older Sentry releases; a status Sentry adds later gets a series of its own). Collected in the background every 60s.
# TYPE sentry_monitor_status gauge
sentry_monitor_status{project_slug="backend",monitor="empty",environment="None",status="active"} 1
sentry_monitor_status{project_slug="backend",monitor="empty",environment="None",status="disabled"} 0
sentry_monitor_status{project_slug="backend",monitor="empty",environment="None",status="ok"} 0
sentry_monitor_status{project_slug="backend",monitor="empty",environment="None",status="error"} 0
sentry_monitor_status{project_slug="backend",monitor="empty",environment="None",status="missed_checkin"} 0
sentry_monitor_status{project_slug="backend",monitor="empty",environment="None",status="timeout"} 0
sentry_monitor_status{project_slug="backend",monitor="nightly",environment="production",status="active"} 0
sentry_monitor_status{project_slug="backend",monitor="nightly",environment="production",status="disabled"} 0
sentry_monitor_status{project_slug="backend",monitor="nightly",environment="production",status="ok"} 0
sentry_monitor_status{project_slug="backend",monitor="nightly",environment="production",status="error"} 1
sentry_monitor_status{project_slug="backend",monitor="nightly",environment="production",status="missed_checkin"} 0
sentry_monitor_status{project_slug="backend",monitor="nightly",environment="production",status="timeout"} 0
# HELP sentry_monitor_muted 1 when the cron monitor or this environment of it is muted in Sentry. Collected in the background every 60s.
# TYPE sentry_monitor_muted gauge
sentry_monitor_muted{project_slug="backend",monitor="empty",environment="None"} 0
sentry_monitor_muted{project_slug="backend",monitor="nightly",environment="production"} 1
# HELP sentry_monitor_last_checkin_timestamp_seconds Unix time of the cron monitor's last check-in in the environment; no series before the first one. Collected in the background every 60s.
# TYPE sentry_monitor_last_checkin_timestamp_seconds gauge
sentry_monitor_last_checkin_timestamp_seconds{project_slug="backend",monitor="nightly",environment="production"} 1714528803.5
# HELP sentry_monitor_next_checkin_latest_timestamp_seconds Unix time after which Sentry marks the cron monitor's expected check-in in the environment as missed (next expected check-in plus its margin). Collected in the background every 60s.
# TYPE sentry_monitor_next_checkin_latest_timestamp_seconds gauge
sentry_monitor_next_checkin_latest_timestamp_seconds{project_slug="backend",monitor="nightly",environment="production"} 1714615500
`,
  );
});

test('a monitor the exporter cannot read is left out and recorded naming the field; a page it cannot read fails', async () => {
  const cases: Array<[unknown, RegExp]> = [
    // the shape the published spec claims: environments as one object
    [
      [{ ...monitor('a', 'a', []), environments: {} }],
      /\[0\]\.environments should be an array, got an object/,
    ],
    [
      [monitor('a', 'a', [{ name: 'prod', status: 'ok', lastCheckIn: '2024-05-01T12:00:00' }])],
      /\[0\]\.environments\[0\]\.lastCheckIn should be an ISO 8601 timestamp with a time zone, or null/,
    ],
    [[{ ...monitor('a', 'a', []), project: null }], /\[0\]\.project should be an object, got null/],
  ];
  const good = monitor('g', 'good', [{ name: 'prod', status: 'ok' }]);
  for (const [body, message] of cases) {
    const server = await monitorServer(() => [[...(body as unknown[]), good]]);
    const { rows, skipped: all } = await collectFrom(server);
    assert.deepEqual(
      rows.map((r) => r.monitor),
      ['good'],
    );
    // Recorded for the pipeline, which logs it once per run (test/pipeline/scheduler.test.ts).
    assert.equal(all.length, 1, 'one endpoint with skipped items');
    const [skipped] = all;
    assert.equal(skipped?.endpoint, '/organizations/{org}/monitors/');
    assert.equal(skipped?.count, 1);
    assert.match(skipped?.example ?? '', message);
    assert.match(skipped?.example ?? '', /\/api\/0\/organizations\/acme\/monitors\//);
  }
  const server = await monitorServer(() => [{ monitors: [] } as unknown as unknown[]]);
  const err = await rejection(collectFrom(server));
  assert.ok(
    err instanceof SentryApiError,
    `a page that is not a list fails with a SentryApiError: ${String(err)}`,
  );
  assert.equal(err.kind, 'parse');
  assert.equal(err.endpoint, '/organizations/{org}/monitors/');
  assert.match(err.message, /monitors\/: the body should be an array, got an object/);
  // Fields the exporter does not read never fail it: owner, config, activeIncident of any shape.
  const odd = { ...monitor('a', 'a', [{ name: 'prod', status: 'ok' }]), owner: 7, config: 'x', extra: [] };
  const oddServer = await monitorServer(() => [[odd]]);
  assert.equal((await collectFrom(oddServer)).rows.length, 1);
});

test('a token without org:read or alerts:read: the 403 names the scope', async () => {
  const server = await startServer((_req, res) =>
    sendJson(res, 403, { detail: 'You do not have permission to perform this action.' }),
  );
  servers.push(server);
  const err = await rejection(collectFrom(server));
  assert.ok(err instanceof SentryApiError, `a 403 fails with a SentryApiError: ${String(err)}`);
  assert.equal(err.status, 403);
  assert.match(err.message, /monitors\/ answered HTTP 403: .*lacks the org:read or alerts:read scope/);
});

/** The exporter against the simulator after its first cycle. */
async function exporterRun(simOpts: SimOptions, env: NodeJS.ProcessEnv = {}) {
  const sim = await startSimulator(simOpts);
  const { exporter } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_METADATA_INTERVAL: '36000',
    SENTRY_API_RATE: '40',
    SENTRY_API_CONCURRENCY: '4',
    ...env,
  });
  const report = await exporter.collection.runCycle();
  return {
    sim,
    exporter,
    report,
    async close() {
      await exporter.stop();
      await sim.close();
    },
  };
}

for (const mode of ['sentry.io', 'self-hosted'] as const) {
  test(`${mode}: 125 monitors in several environments and projects equal the ground truth`, async () => {
    const run = await exporterRun({
      mode,
      seed: 51,
      projects: 9,
      environmentsPerProject: 3,
      issuesPerProject: 5,
      monitors: 125,
    });
    try {
      assert.deepEqual(run.report.failed, []);
      const truth = run.sim.truth();
      const got = exportedNumbers(run.exporter.snapshot.sentryText).monitors;
      assert.deepEqual(got, expectedNumbers(truth).monitors);

      // What the data covers, so that the equality above means something.
      const statuses = new Set(truth.monitors.map((m) => m.status));
      const expectedStatuses = mode === 'sentry.io' ? MONITOR_STATUS_SET.slice(0, 4) : MONITOR_STATUS_SET;
      assert.deepEqual([...statuses].sort(), [...expectedStatuses].sort());
      assert.ok(
        truth.monitors.some((m) => m.muted) && truth.monitors.some((m) => !m.muted),
        'some monitors are muted and some are not',
      );
      assert.ok(
        truth.monitors.some((m) => m.environment === 'None'),
        'a monitor without environments',
      );
      assert.ok(
        truth.monitors.some((m) => m.lastCheckIn === null && m.environment !== 'None'),
        'some monitor environment has never checked in',
      );
      assert.ok(new Set(truth.monitors.map((m) => m.project)).size >= 8, 'monitors in at least 8 projects');
      assert.ok(
        new Set(truth.monitors.map((m) => m.environment)).size >= 3,
        'monitors in at least 3 environments',
      );
      const listed = new Set(truth.monitors.map((m) => `${m.project}/${m.monitor}`));
      assert.ok(listed.size > 100 && listed.size < 125, `${listed.size}: monitors pending deletion left out`);
      if (mode === 'sentry.io') {
        // slugs are unique per project only: the same slug in several projects
        const slugs = truth.monitors.map((m) => m.monitor);
        assert.ok(new Set(slugs).size < listed.size, 'one monitor slug is used in several projects');
      }

      // Past the first page, at Sentry's rate limit, without a 429.
      const c = run.sim.counters();
      assert.equal(c.byEndpoint['/organizations/{org}/monitors/'], 2);
      assert.equal(c.rateLimited, 0);
      const monitorRequests = c.requests.filter((r) => r.endpoint === '/organizations/{org}/monitors/');
      assert.deepEqual(
        monitorRequests.map((r) => r.query.cursor),
        [undefined, '100:1:0'],
      );
    } finally {
      await run.close();
    }
  });
}

test('SENTRY_EXPORTER_PROJECTS keeps the monitors of the chosen projects only', async () => {
  const probe = await startSimulator({ seed: 52, projects: 5, monitors: 20 });
  const chosen = [...new Set(probe.truth().monitors.map((m) => m.project))].slice(0, 2);
  await probe.close();
  const run = await exporterRun(
    { seed: 52, projects: 5, monitors: 20 },
    { SENTRY_EXPORTER_PROJECTS: chosen.join(',') },
  );
  try {
    const got = exportedNumbers(run.exporter.snapshot.sentryText).monitors;
    assert.ok(got.size > 0, "the chosen projects' monitors are exported");
    assert.deepEqual(got, expectedNumbers(run.sim.truth(), chosen).monitors);
  } finally {
    await run.close();
  }
});

test('a token refused on monitors: /healthz stays 200 and names the scope; the other families are exact', async () => {
  const sim = await startSimulator({
    seed: 53,
    projects: 5,
    environmentsPerProject: 2,
    issuesPerProject: 20,
  });
  sim.setFaults({ forbiddenRate: 1, endpoints: ['/organizations/{org}/monitors/'] });
  const { exporter } = await startExporterAgainst(sim, { SENTRY_API_RATE: '40' });
  try {
    const body = await healthWhen(exporter.url, 'outcomes and issues done and the monitors error', (b) =>
      Boolean(
        b.collectors.outcomes?.lastSuccess &&
        b.collectors.issues?.lastSuccess &&
        b.collectors.monitors?.lastError?.message,
      ),
    );
    assert.equal(body.status, 'ok');
    assert.match(
      body.collectors.monitors?.lastError?.message ?? '',
      /monitors\/ answered HTTP 403: .*org:read or alerts:read/,
    );
    const text = await (await fetch(`${exporter.url}/metrics`)).text();
    const got = exportedNumbers(text);
    const want = expectedNumbers(sim.truth());
    assert.equal(got.monitors.size, 0, 'no monitor series without an answer');
    assert.deepEqual(got.buckets, want.buckets);
    assert.deepEqual(got.events, want.events);
    // The self-metrics are rendered at most once a second: poll until they show the failure.
    const monitorErrors = (body: string) =>
      parseExposition(body).find(
        (r) => r.name === 'sentry_exporter_collection_errors_total' && r.labels.collector === 'monitors',
      )?.value ?? 0;
    await waitUntil(
      'sentry_exporter_collection_errors_total{collector="monitors"} to count the failure',
      async () => monitorErrors(await (await fetch(`${exporter.url}/metrics`)).text()) >= 1,
    );
  } finally {
    await exporter.stop();
    await sim.close();
  }
});

test('SENTRY_SCRAPE_MONITOR_METRICS=false: no monitors request and no monitor series', async () => {
  const run = await exporterRun({ seed: 54, projects: 3 }, { SENTRY_SCRAPE_MONITOR_METRICS: 'False' });
  try {
    assert.equal(run.sim.counters().byEndpoint['/organizations/{org}/monitors/'], undefined);
    assert.doesNotMatch(run.exporter.snapshot.sentryText, /sentry_monitor_/);
    assert.deepEqual(run.exporter.collection.collectorNames.includes('monitors'), false);
  } finally {
    await run.close();
  }
});

test('rows come in the order of project, monitor and environment slugs, whatever order Sentry lists them in', async () => {
  // Sentry lists monitors by name (`sort=name`); names, slugs and projects are in different orders here.
  const frontend = project('2', 'frontend');
  const server = await monitorServer(() => [
    [
      { ...monitor('m1', 'zeta', [{ name: 'prod', status: 'ok' }], { project: frontend }), name: 'a first' },
      {
        ...monitor('m2', 'alpha', [
          { name: 'prod', status: 'ok' },
          { name: 'dev', status: 'error' },
        ]),
        name: 'b second',
      },
    ],
    [
      { ...monitor('m3', 'beta', [{ name: 'dev', status: 'ok' }], { project: frontend }), name: 'c third' },
      {
        ...monitor(
          'm4',
          'alpha',
          [
            { name: 'staging', status: 'ok' },
            { name: 'dev', status: 'missed_checkin' },
          ],
          { project: frontend },
        ),
        name: 'd fourth',
      },
    ],
  ]);
  const { rows } = await collectFrom(server);
  assert.deepEqual(
    rows.map((r) => [r.project, r.monitor, r.environment, r.status]),
    [
      ['backend', 'alpha', 'dev', 'error'],
      ['backend', 'alpha', 'prod', 'ok'],
      ['frontend', 'alpha', 'dev', 'missed_checkin'],
      ['frontend', 'alpha', 'staging', 'ok'],
      ['frontend', 'beta', 'dev', 'ok'],
      ['frontend', 'zeta', 'prod', 'ok'],
    ],
  );
});
