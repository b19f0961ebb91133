/**
 * Release health (src/collectors/sessions.ts): sessions this month by status, crash-free rates over the
 * last 24 hours per project and environment, and per release for the top N releases, all equal to the
 * simulator's ground truth in both of its modes; Sentry's own test fixtures with hand-written expected
 * values; answers Sentry cut without a word split until none is; the month boundary with an injected clock.
 * Sentry's behaviour is in docs/sentry-api.md Part 3 §1.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import pino from 'pino';
import type { ProjectInfo } from '../../src/collectors/collector.js';
import { MetadataCollector } from '../../src/collectors/metadata.js';
import { ReleaseHealthCollector } from '../../src/collectors/sessions.js';
import { renderFamilies } from '../../src/metrics/exposition.js';
import type { SentryApi } from '../../src/sentry/api.js';
import { createSentryClient } from '../../src/sentry/client.js';
import { startSimulator } from '../../sim/index.js';
import type { SimMode } from '../../sim/index.js';
import { healthWhen, memoryLogger, parseExposition, startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, expectedReleasesDropped, exportedNumbers } from '../helpers/truth.js';
import { makeClient, sendJson, startServer } from '../sentry/helpers.js';
import type { Hit } from '../sentry/helpers.js';
import { runContext } from '../helpers/collect.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SESSIONS = '/organizations/{org}/sessions/';

/** A clock that starts at `start` and runs at the wall clock's pace. */
function clockFrom(start: number): () => number {
  const t0 = Date.now();
  return () => start + (Date.now() - t0);
}

/** The families of one run of the collector, as exposition text. */
function exposition(
  collector: ReleaseHealthCollector,
  rows: Parameters<ReleaseHealthCollector['render']>[0],
) {
  return renderFamilies(collector.render(rows));
}

function familyValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return parseExposition(text).find(
    (r) => r.name === name && Object.entries(labels).every(([k, v]) => r.labels[k] === v),
  )?.value;
}

const silent = pino({ level: 'silent' });

function collectorFor(api: SentryApi, releasesPerProject = 0, restrictedSelection = false) {
  return new ReleaseHealthCollector(
    { api, logger: silent },
    { interval: 300, releasesPerProject, restrictedSelection },
  );
}

async function collectAt(collector: ReleaseHealthCollector, now: number, projects: ProjectInfo[]) {
  return collector.collect(runContext({ now, projects }));
}

for (const mode of ['sentry.io', 'self-hosted'] as SimMode[]) {
  test(`${mode}: 20 projects × 3 environments at ${mode === 'sentry.io' ? "3 requests/s (Sentry's limit)" : '40 requests/s (no limiter)'}: every session count and both ratios equal the ground truth, no 429`, async () => {
    // The middle of a month, so that both today's and the past days' queries run.
    const clock = clockFrom(Date.UTC(2026, 4, 17, 13, 27, 28));
    const sim = await startSimulator({
      mode,
      seed: 21,
      projects: 20,
      environmentsPerProject: 3,
      issuesPerProject: 5,
      now: clock,
      // Sentry's limiter in sentry.io mode, at the exporter's default pace; self-hosted has none.
      ...(mode === 'sentry.io' ? { rateLimit: { perSecond: 3, concurrent: 25 } } : {}),
    });
    const { exporter } = await startExporterAgainst(
      sim,
      {
        // Self-hosted Sentry has no limiter, so its pace proves nothing; there 20 environment lookups per
        // cycle (no environments in project summaries) would take 7 s at 3 requests/s.
        SENTRY_API_RATE: mode === 'sentry.io' ? '3' : '40',
        SENTRY_POLL_INTERVAL: '3600',
        SENTRY_SCRAPE_ISSUE_METRICS: 'false',
        SENTRY_SCRAPE_EVENT_METRICS: 'false',
        SENTRY_SCRAPE_OUTCOME_METRICS: 'false',
        SENTRY_RELEASE_HEALTH_RELEASES: '1',
      },
      'info',
      clock(),
    );
    try {
      const first = await exporter.collection.runCycle();
      assert.deepEqual(first.failed, []);
      const truth = sim.truth();
      const got = exportedNumbers(exporter.snapshot.sentryText);
      const want = expectedNumbers(truth, undefined, { releasesPerProject: 1 });
      assert.ok(
        want.sessions.size > 100 && want.crashFreeSessions.size > 20,
        `more than 100 session series and 20 crash-free series in the truth (${want.sessions.size}, ${want.crashFreeSessions.size})`,
      );
      assert.ok(want.crashFreeUsers.size < want.crashFreeSessions.size, 'some sessions come without users');
      assert.ok(
        [...want.sessions.keys()].some((k) => k.endsWith('/unhandled')) === (mode === 'sentry.io'),
        'unhandled only on current releases',
      );
      assert.deepEqual(got.sessions, want.sessions);
      assert.deepEqual(got.crashFreeSessions, want.crashFreeSessions);
      assert.deepEqual(got.crashFreeUsers, want.crashFreeUsers);
      assert.deepEqual(got.releaseCrashFreeSessions, want.releaseCrashFreeSessions);
      assert.deepEqual(got.releaseCrashFreeUsers, want.releaseCrashFreeUsers);
      const dropped = expectedReleasesDropped(truth, 1);
      assert.ok(dropped > 0, 'some releases are dropped beyond the one per project');
      const text = (await exporter.snapshot.scrape(false)).body.toString();
      assert.equal(familyValue(text, 'sentry_exporter_release_health_releases_dropped'), dropped);
      const c = sim.counters();
      assert.equal(c.rateLimited, 0);
      assert.equal(c.sessionsCut, 0, 'no answer was cut: the batches fit');
      // today, the past days of the month, the 24-hour rates, the per-release rates: one request each
      assert.equal(c.byEndpoint[SESSIONS], 4);

      // The next run asks today and the last 24 hours again; the past days are reused for an hour.
      sim.resetCounters();
      const second = await exporter.collection.runCycle();
      assert.deepEqual(second.failed, []);
      assert.equal(sim.counters().byEndpoint[SESSIONS], 3);
      assert.equal(sim.counters().rateLimited, 0);
      const again = exportedNumbers(exporter.snapshot.sentryText);
      assert.deepEqual(again.sessions, expectedNumbers(sim.truth()).sessions);
    } finally {
      await exporter.stop();
      await sim.close();
    }
  });
}

/** 1,000 projects × 5 environments (issues are not what these tests look at). */
const LARGE = { seed: 1, projects: 1000, environmentsPerProject: 5, issuesPerProject: 1 };
/** Late in a month: the past days' query covers 29 days. */
const LATE_IN_MAY = Date.UTC(2026, 4, 30, 18, 5, 0);

test('LONG (about a minute): 1,000 projects × 5 environments: still exact for every project and environment, and what one run costs', async (t) => {
  const clock = clockFrom(LATE_IN_MAY);
  const sim = await startSimulator({ ...LARGE, now: clock, rateLimit: { perSecond: 200, concurrent: 25 } });
  const { exporter } = await startExporterAgainst(
    sim,
    {
      SENTRY_API_RATE: '100',
      SENTRY_API_CONCURRENCY: '4',
      SENTRY_POLL_INTERVAL: '3600',
      SENTRY_SCRAPE_ISSUE_METRICS: 'false',
      SENTRY_SCRAPE_EVENT_METRICS: 'false',
      SENTRY_SCRAPE_OUTCOME_METRICS: 'false',
      SENTRY_RELEASE_HEALTH_RELEASES: '2',
    },
    'info',
    clock(),
  );
  try {
    const first = await exporter.collection.runCycle();
    assert.deepEqual(first.failed, []);
    const firstRequests = sim.counters().byEndpoint[SESSIONS] ?? 0;
    const firstCut = sim.counters().sessionsCut;
    const truth = sim.truth();
    const got = exportedNumbers(exporter.snapshot.sentryText);
    const want = expectedNumbers(truth, undefined, { releasesPerProject: 2 });
    assert.ok(want.sessions.size > 15_000, `${want.sessions.size} session series`);
    assert.deepEqual(got.sessions, want.sessions);
    assert.deepEqual(got.crashFreeSessions, want.crashFreeSessions);
    assert.deepEqual(got.crashFreeUsers, want.crashFreeUsers);
    assert.deepEqual(got.releaseCrashFreeSessions, want.releaseCrashFreeSessions);
    assert.deepEqual(got.releaseCrashFreeUsers, want.releaseCrashFreeUsers);
    assert.equal(sim.counters().rateLimited, 0);

    sim.resetCounters();
    const steady = await exporter.collection.runCycle();
    assert.deepEqual(steady.failed, []);
    const steadyRequests = sim.counters().byEndpoint[SESSIONS] ?? 0;
    assert.equal(sim.counters().sessionsCut, 0, 'planned from the first run: no answer is cut');
    assert.deepEqual(
      exportedNumbers(exporter.snapshot.sentryText).sessions,
      expectedNumbers(sim.truth()).sessions,
    );
    // One request for today (project=-1: ⌊10,000 ÷ 1⌋ groups fit), and for each 24-hour query about
    // ⌈groups ÷ 359⌉ (90 % of ⌊10,000 ÷ 25⌋), planned from the groups of the run before.
    const kinds = new Map<string, number>();
    for (const r of sim.counters().requests) {
      const kind = String(r.query.groupBy);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    const rateGroups = want.crashFreeSessions.size;
    const releaseGroups = truth.releaseHealth.releases.length;
    const bound = 1 + Math.ceil(rateGroups / 359) + Math.ceil(releaseGroups / 359) + 2;
    assert.ok(
      steadyRequests <= bound,
      `steady run: ${steadyRequests} requests > ${bound}: ${JSON.stringify([...kinds])}`,
    );
    // The first run adds the past days of the month (⌊10,000 ÷ 29⌋ groups an answer) and plans from the
    // project list alone.
    assert.ok(
      firstRequests <= 2 * bound + Math.ceil(want.sessions.size / 5 / 300),
      `first run: ${firstRequests}`,
    );
    t.diagnostic(
      `1,000 × 5: first run ${firstRequests} requests (${firstCut} answers cut by Sentry and split again), steady run ${steadyRequests} (with per-release rates, N=2): ${JSON.stringify([...kinds])}; ${rateGroups} project/environment groups, ${releaseGroups} release groups in the last 24 hours`,
    );
  } finally {
    await exporter.stop();
    await sim.close();
  }
});

test('the default configuration at 1,000 × 5: what a release health run costs (today in one request, the last 24 hours in ⌈groups ÷ 359⌉)', async (t) => {
  const clock = clockFrom(LATE_IN_MAY);
  const sim = await startSimulator({ ...LARGE, now: clock, rateLimit: false });
  try {
    const api = makeClient(sim.url, { token: sim.token, org: sim.org, rate: 200, concurrency: 4 }).client;
    const meta = new MetadataCollector(
      { api, logger: silent },
      { projects: [], interval: 600, org: sim.org, baseUrl: sim.url },
    );
    const projects = await meta.collect(runContext({ now: clock() }));
    const collector = collectorFor(api);
    sim.resetCounters();
    await collectAt(collector, clock(), projects);
    const first = sim.counters().byEndpoint[SESSIONS] ?? 0;
    sim.resetCounters();
    const rows = await collectAt(collector, clock(), projects);
    const steady = sim.counters().byEndpoint[SESSIONS] ?? 0;
    const want = expectedNumbers(sim.truth());
    assert.deepEqual(exportedNumbers(exposition(collector, rows)).sessions, want.sessions);
    assert.ok(steady <= 1 + Math.ceil(want.crashFreeSessions.size / 359) + 1, `steady: ${steady}`);
    t.diagnostic(`default configuration, 1,000 × 5: first run ${first} requests, then ${steady} per run`);
    await api.close();
  } finally {
    await sim.close();
  }
});

// ---------------------------------------------------------------------------------------------------------
// Sentry's own fixtures, answered by a loopback server with the JSON Sentry's code gives for them.

interface FakeGroup {
  by: Record<string, string | number>;
  totals: Record<string, number | null>;
}

/** `intervals` for a query, as Sentry computes them (start floored, end ceiled to the interval). */
function intervalsFor(q: URLSearchParams): string[] {
  const interval = q.get('interval') === '1d' ? DAY : HOUR;
  const start = Math.floor(Date.parse(q.get('start') ?? '') / interval) * interval;
  const end = Math.ceil(Date.parse(q.get('end') ?? '') / interval) * interval;
  const out: string[] = [];
  for (let t = start; t < end; t += interval) out.push(new Date(t).toISOString().replace('.000', ''));
  return out;
}

function answer(res: ServerResponse, q: URLSearchParams, groups: FakeGroup[], next = false): void {
  const intervals = intervalsFor(q);
  const body = {
    start: intervals[0],
    end: intervals.at(-1),
    intervals,
    query: q.get('query') ?? '',
    groups: groups.map((g) => ({
      ...g,
      series: Object.fromEntries(Object.entries(g.totals).map(([f, v]) => [f, intervals.map(() => v)])),
    })),
  };
  const link = `<x>; rel="previous"; results="false"; cursor="0:0:1", <x>; rel="next"; results="${next}"; cursor="0:5000:0"`;
  sendJson(res, 200, body, { link });
}

/** Which of the collector's queries a request is. */
function kindOf(hit: Hit): 'today' | 'past' | 'rates' | 'releases' | 'release-list' {
  const groupBy = hit.query.getAll('groupBy').join(',');
  if (groupBy === 'release') return 'release-list';
  if (groupBy.includes('session.status')) {
    return hit.query.get('start')?.slice(8, 10) === '01' && hit.query.get('end')?.includes('23:59:59')
      ? 'past'
      : 'today';
  }
  return groupBy.includes('release') ? 'releases' : 'rates';
}

const STATUSES = ['abnormal', 'crashed', 'errored', 'healthy', 'unhandled'];

/** Sentry's groups for one project and environment: every status, zero-filled. */
function statusGroups(project: number, environment: string, counts: Record<string, number>): FakeGroup[] {
  return STATUSES.map((status) => ({
    by: { project, environment, 'session.status': status },
    totals: { 'sum(session)': counts[status] ?? 0 },
  }));
}

/** MOCK_DATETIME of tests/snuba/api/endpoints/test_organization_sessions.py, with D = 2021-01-14. */
const MOCK_DATETIME = Date.UTC(2021, 0, 14, 12, 27, 28, 303);

test("Sentry's fixtures (tests/snuba/api/endpoints/test_organization_sessions.py): session counts and crash-free ratios, by hand", async () => {
  // OrganizationSessionsEndpointTest.setup_fixture: nine sessions of projects p1..p3 on day D, all
  // status=exited unless noted, release foo@1.0.0 and environment production unless noted, and the nil
  // distinct_id (no user) unless noted:
  //   p1: #1 12:12, #2 release foo@1.1.0 12:24, #3 11:00, #4 00:00
  //   p2: #5 crashed 12:00, #6 environment development 12:00
  //   p3: #7 errors=1 release foo@1.2.0 12:00, #8 user 39887d89 11:00, #9 same user errors=1 12:00
  // What Sentry answers for them grouped by project, environment (and release, session.status):
  const server = await startServer((_req, res, hit) => {
    const q = hit.query;
    switch (kindOf(hit)) {
      case 'today':
        return answer(res, q, [
          ...statusGroups(1, 'production', { healthy: 4 }),
          ...statusGroups(2, 'production', { crashed: 1 }),
          ...statusGroups(2, 'development', { healthy: 1 }),
          ...statusGroups(3, 'production', { errored: 2, healthy: 1 }),
        ]);
      case 'past':
        return answer(res, q, []); // nothing before D this month (test_groupby_no_data: no groups)
      case 'rates':
        return answer(res, q, [
          {
            by: { project: 1, environment: 'production' },
            totals: { 'crash_free_rate(session)': 1, 'crash_free_rate(user)': null },
          },
          {
            by: { project: 2, environment: 'production' },
            totals: { 'crash_free_rate(session)': 0, 'crash_free_rate(user)': null },
          },
          {
            by: { project: 2, environment: 'development' },
            totals: { 'crash_free_rate(session)': 1, 'crash_free_rate(user)': null },
          },
          {
            by: { project: 3, environment: 'production' },
            totals: { 'crash_free_rate(session)': 1, 'crash_free_rate(user)': 1 },
          },
        ]);
      case 'releases': {
        const r = (
          project: number,
          environment: string,
          release: string,
          sessions: number,
          users: number | null,
        ) => ({
          by: { project, environment, release },
          totals: {
            'sum(session)': sessions,
            'crash_free_rate(session)': project === 2 && environment === 'production' ? 0 : 1,
            'crash_free_rate(user)': users,
          },
        });
        return answer(res, q, [
          r(1, 'production', 'foo@1.0.0', 3, null),
          r(1, 'production', 'foo@1.1.0', 1, null),
          r(2, 'production', 'foo@1.0.0', 1, null),
          r(2, 'development', 'foo@1.0.0', 1, null),
          r(3, 'production', 'foo@1.2.0', 1, null),
          r(3, 'production', 'foo@1.0.0', 2, 1),
        ]);
      }
      default:
        return sendJson(res, 400, { detail: 'unexpected query' });
    }
  });
  const { client } = makeClient(server.baseUrl);
  try {
    const projects: ProjectInfo[] = [
      { id: '1', slug: 'p1', environments: ['production'] },
      { id: '2', slug: 'p2', environments: ['development', 'production'] },
      { id: '3', slug: 'p3', environments: ['production'] },
    ];
    const collector = collectorFor(client, 1);
    const text = exposition(collector, await collectAt(collector, MOCK_DATETIME, projects));
    const sessions = (p: string, e: string, s: string) =>
      familyValue(text, 'sentry_sessions_total', { project_slug: p, environment: e, status: s });
    const expected: Array<[string, string, Record<string, number>]> = [
      ['p1', 'production', { abnormal: 0, crashed: 0, errored: 0, healthy: 4, unhandled: 0 }],
      ['p2', 'production', { abnormal: 0, crashed: 1, errored: 0, healthy: 0, unhandled: 0 }],
      ['p2', 'development', { abnormal: 0, crashed: 0, errored: 0, healthy: 1, unhandled: 0 }],
      ['p3', 'production', { abnormal: 0, crashed: 0, errored: 2, healthy: 1, unhandled: 0 }],
    ];
    for (const [p, e, counts] of expected) {
      for (const [s, n] of Object.entries(counts)) assert.equal(sessions(p, e, s), n, `${p} ${e} ${s}`);
    }
    assert.equal(parseExposition(text).filter((r) => r.name === 'sentry_sessions_total').length, 20);
    // The same numbers as Sentry's test_groupby_status (healthy 6, errored 2, crashed 1, abnormal 0) and
    // test_groupby_project (p1 4, p2 2, p3 3).
    const sum = (pick: (p: string, s: string) => boolean) =>
      parseExposition(text)
        .filter((r) => r.name === 'sentry_sessions_total' && pick(r.labels.project_slug!, r.labels.status!))
        .reduce((a, r) => a + r.value, 0);
    assert.deepEqual(
      ['healthy', 'errored', 'crashed', 'abnormal'].map((s) => sum((_, st) => st === s)),
      [6, 2, 1, 0],
    );
    assert.deepEqual(
      ['p1', 'p2', 'p3'].map((p) => sum((pr) => pr === p)),
      [4, 2, 3],
    );
    assert.match(text, /^sentry_crash_free_sessions_ratio\{project_slug="p2",environment="production"\} 0$/m);
    assert.match(text, /^sentry_crash_free_sessions_ratio\{project_slug="p1",environment="production"\} 1$/m);
    // crash_free_rate(user) is null where the sessions carried no user: no series, not 1, not NaN.
    assert.deepEqual(
      parseExposition(text)
        .filter((r) => r.name === 'sentry_crash_free_users_ratio')
        .map((r) => [r.labels.project_slug, r.labels.environment, r.value]),
      [['p3', 'production', 1]],
    );
    // SENTRY_RELEASE_HEALTH_RELEASES=1: each project's release with the most sessions over its environments.
    assert.deepEqual(
      parseExposition(text)
        .filter((r) => r.name === 'sentry_release_crash_free_sessions_ratio')
        .map((r) => `${r.labels.project_slug} ${r.labels.environment} ${r.labels.release} ${r.value}`),
      [
        'p1 production foo@1.0.0 1',
        'p2 development foo@1.0.0 1',
        'p2 production foo@1.0.0 0',
        'p3 production foo@1.0.0 1',
      ],
    );
    assert.equal(familyValue(text, 'sentry_exporter_release_health_releases_dropped'), 2);
    // The requests: today (project=-1, one interval), the days before D (1 to 13 January), the last 24 hours.
    const sent = server
      .hitsOn('/organizations/acme/sessions/')
      .map(
        (h) =>
          `${kindOf(h)} ${h.query.get('start')} ${h.query.get('end')} ${h.query.get('interval')} ${h.query.getAll('project')}`,
      );
    assert.deepEqual(sent.sort(), [
      'past 2021-01-01T00:00:00.000Z 2021-01-13T23:59:59.000Z 1d -1',
      'rates 2021-01-13T12:00:00.000Z 2021-01-14T12:27:28.303Z 1h -1',
      'releases 2021-01-13T12:00:00.000Z 2021-01-14T12:27:28.303Z 1h -1',
      'today 2021-01-14T00:00:00.000Z 2021-01-14T12:27:28.303Z 1d -1',
    ]);
  } finally {
    await client.close();
    await server.close();
  }
});

test("Sentry's crash-free examples (test_crash_rate, SessionsMetricsSortReleaseTimestampTest.test_order_by), by hand", async () => {
  // test_crash_rate "fetch all": release foo@1.0.0 has 6 sessions in production, 1 crashed, and one user
  // who did not crash; 1 session in development without a user. Sentry answers crash_free_rate(session)
  // 0.8333333333333334 and crash_free_rate(user) 1.0 for production, 1.0 and null for development. Here
  // they are the sessions of one project, `app`.
  // test_order_by: releases 1D (4 ok + 1 crashed: 0.8), 1C (2 ok + 1 crashed: 0.6666666666666667) and 1B
  // (1 ok + 2 crashed: 0.33333333333333337), here of project `mobile` in production.
  const server = await startServer((_req, res, hit) => {
    const q = hit.query;
    const kind = kindOf(hit);
    if (kind === 'today' || kind === 'past') return answer(res, q, []);
    if (kind === 'rates') {
      return answer(res, q, [
        {
          by: { project: 7, environment: 'production' },
          totals: { 'crash_free_rate(session)': 0.8333333333333334, 'crash_free_rate(user)': 1.0 },
        },
        {
          by: { project: 7, environment: 'development' },
          totals: { 'crash_free_rate(session)': 1.0, 'crash_free_rate(user)': null },
        },
        {
          by: { project: 8, environment: 'production' },
          totals: { 'crash_free_rate(session)': 0.6363636363636364, 'crash_free_rate(user)': null },
        },
      ]);
    }
    const rel = (release: string, sessions: number, rate: number) => ({
      by: { project: 8, environment: 'production', release },
      totals: { 'sum(session)': sessions, 'crash_free_rate(session)': rate, 'crash_free_rate(user)': null },
    });
    return answer(res, q, [
      {
        by: { project: 7, environment: 'production', release: 'foo@1.0.0' },
        totals: {
          'sum(session)': 6,
          'crash_free_rate(session)': 0.8333333333333334,
          'crash_free_rate(user)': 1.0,
        },
      },
      {
        by: { project: 7, environment: 'development', release: 'foo@1.0.0' },
        totals: { 'sum(session)': 1, 'crash_free_rate(session)': 1.0, 'crash_free_rate(user)': null },
      },
      rel('1D', 5, 0.8),
      rel('1C', 3, 0.6666666666666667),
      rel('1B', 3, 0.33333333333333337),
    ]);
  });
  const { client } = makeClient(server.baseUrl);
  try {
    const projects: ProjectInfo[] = [
      { id: '7', slug: 'app', environments: ['development', 'production'] },
      { id: '8', slug: 'mobile', environments: ['production'] },
    ];
    const collector = collectorFor(client, 2);
    const text = exposition(collector, await collectAt(collector, MOCK_DATETIME, projects));
    assert.match(
      text,
      /^sentry_crash_free_sessions_ratio\{project_slug="app",environment="production"\} 0\.8333333333333334$/m,
    );
    assert.match(text, /^sentry_crash_free_users_ratio\{project_slug="app",environment="production"\} 1$/m);
    assert.match(
      text,
      /^sentry_crash_free_sessions_ratio\{project_slug="app",environment="development"\} 1$/m,
    );
    assert.doesNotMatch(
      text,
      /^sentry_crash_free_users_ratio\{project_slug="app",environment="development"\}/m,
    );
    // The two releases of `mobile` with the most sessions: 1D (5), then 1B and 1C tie at 3 and the smaller
    // version string, 1B, is kept.
    assert.deepEqual(
      parseExposition(text)
        .filter((r) => r.name === 'sentry_release_crash_free_sessions_ratio')
        .map((r) => `${r.labels.project_slug} ${r.labels.environment} ${r.labels.release} ${r.value}`),
      [
        'app development foo@1.0.0 1',
        'app production foo@1.0.0 0.8333333333333334',
        'mobile production 1B 0.33333333333333337',
        'mobile production 1D 0.8',
      ],
    );
    assert.deepEqual(
      parseExposition(text)
        .filter((r) => r.name === 'sentry_release_crash_free_users_ratio')
        .map((r) => `${r.labels.project_slug} ${r.labels.environment} ${r.labels.release} ${r.value}`),
      ['app production foo@1.0.0 1'],
    );
    assert.equal(familyValue(text, 'sentry_exporter_release_health_releases_dropped'), 1);
    // No sessions this month: no sentry_sessions_total series at all.
    assert.equal(familyValue(text, 'sentry_sessions_total'), undefined);
  } finally {
    await client.close();
    await server.close();
  }
});

// ---------------------------------------------------------------------------------------------------------
// Cut answers.

test('an answer at the cap (⌊10,000 ÷ 25⌋ = 400 groups for the last 24 hours) is split by projects; nothing of it is published', async () => {
  // Project 10 has 250 environments, project 11 200; the project list names one environment each, so the
  // first plan asks for both at once (project=-1) and Sentry cuts the answer at 400 groups.
  const envs = (n: number) => Array.from({ length: n }, (_, i) => `env-${String(i).padStart(3, '0')}`);
  const groupsOf = (project: number, n: number, rate: number): FakeGroup[] =>
    envs(n).map((environment) => ({
      by: { project, environment },
      totals: { 'crash_free_rate(session)': rate, 'crash_free_rate(user)': rate },
    }));
  const server = await startServer((_req, res, hit) => {
    const q = hit.query;
    const kind = kindOf(hit);
    if (kind !== 'rates') return answer(res, q, []);
    const ids = q.getAll('project');
    if (ids.includes('-1')) {
      // Cut without a word: the first 400 groups, with numbers that must never be published.
      return answer(res, q, [...groupsOf(10, 250, 0.1), ...groupsOf(11, 150, 0.1)]);
    }
    return answer(
      res,
      q,
      ids.flatMap((id) => (id === '10' ? groupsOf(10, 250, 0.5) : groupsOf(11, 200, 0.25))),
    );
  });
  const { client } = makeClient(server.baseUrl);
  try {
    const projects: ProjectInfo[] = [
      { id: '10', slug: 'big', environments: ['env-000'] },
      { id: '11', slug: 'bigger', environments: ['env-000'] },
    ];
    const collector = collectorFor(client);
    const rows = await collectAt(collector, MOCK_DATETIME, projects);
    const values = rows.crashFree.map((r) => `${r.project} ${r.sessions}`);
    assert.equal(values.length, 450);
    assert.equal(values.filter((v) => v === 'big 0.5').length, 250);
    assert.equal(values.filter((v) => v === 'bigger 0.25').length, 200);
    const rates = server.hitsOn('/organizations/acme/sessions/').filter((h) => kindOf(h) === 'rates');
    assert.deepEqual(
      rates.map((h) => h.query.getAll('project').join(',')),
      ['-1', '10', '11'],
    );
    // The next run plans from what it saw: two batches at once, no cut answer.
    server.hits.length = 0;
    await collectAt(collector, MOCK_DATETIME + 300_000, projects);
    assert.deepEqual(
      server
        .hitsOn('/organizations/acme/sessions/')
        .filter((h) => kindOf(h) === 'rates')
        .map((h) => h.query.getAll('project').join(','))
        .sort(),
      ['10', '11'],
    );
  } finally {
    await client.close();
    await server.close();
  }
});

test("one project's month cut even alone: its days are asked in shorter ranges and added up", async () => {
  // 1,000 environments; on 1 to 13 January (13 intervals) Sentry keeps ⌊10,000 ÷ 13⌋ = 769 of them.
  const n = 1000;
  const server = await startServer((_req, res, hit) => {
    const q = hit.query;
    const kind = kindOf(hit);
    const days = intervalsFor(q).length;
    if (kind === 'rates') return answer(res, q, []);
    const limit = Math.floor(10_000 / days);
    // one healthy session per environment and day; a cut answer carries numbers that must not be used
    const groups = Array.from({ length: Math.min(n, limit) }, (_, e) =>
      statusGroups(5, `env-${e}`, { healthy: n > limit ? 99 : days }),
    ).flat();
    return answer(res, q, groups);
  });
  const { client } = makeClient(server.baseUrl);
  try {
    const projects: ProjectInfo[] = [
      { id: '5', slug: 'many-envs', environments: Array.from({ length: n }, (_, e) => `env-${e}`) },
    ];
    const collector = collectorFor(client, 0, true);
    const rows = await collectAt(collector, MOCK_DATETIME, projects);
    const healthy = rows.sessions.filter((r) => r.status === 'healthy');
    assert.equal(healthy.length, n);
    // 13 past days and today
    assert.ok(
      healthy.every((r) => r.sessions === 14),
      JSON.stringify(healthy.find((r) => r.sessions !== 14)),
    );
    const past = server
      .hitsOn('/organizations/acme/sessions/')
      .filter(
        (h) =>
          h.query.getAll('groupBy').includes('session.status') &&
          h.query.get('start') !== '2021-01-14T00:00:00.000Z',
      )
      .map((h) => `${h.query.get('start')?.slice(0, 10)} ${h.query.get('end')?.slice(0, 19)}`);
    assert.deepEqual(past.sort(), [
      '2021-01-01 2021-01-06T23:59:59',
      '2021-01-01 2021-01-13T23:59:59',
      '2021-01-07 2021-01-13T23:59:59',
    ]);
  } finally {
    await client.close();
    await server.close();
  }
});

test('per release: a project with more environment × release groups than one answer holds is ranked from its release list, then its top releases are asked by name', async () => {
  const envs = Array.from({ length: 300 }, (_, e) => `env-${e}`);
  const server = await startServer((_req, res, hit) => {
    const q = hit.query;
    const kind = kindOf(hit);
    if (kind === 'today' || kind === 'past') return answer(res, q, []);
    if (kind === 'rates') {
      return answer(
        res,
        q,
        envs.map((environment) => ({
          by: { project: 9, environment },
          totals: { 'crash_free_rate(session)': 0.75, 'crash_free_rate(user)': null },
        })),
      );
    }
    if (kind === 'release-list') {
      assert.equal(q.get('orderBy'), '-sum(session)');
      return answer(res, q, [
        { by: { release: 'r@2' }, totals: { 'sum(session)': 900 } },
        { by: { release: 'r@1' }, totals: { 'sum(session)': 600 } },
      ]);
    }
    if (q.get('query') === 'release:["r@2"]') {
      return answer(
        res,
        q,
        envs.map((environment) => ({
          by: { environment, release: 'r@2' },
          totals: { 'sum(session)': 3, 'crash_free_rate(session)': 0.9, 'crash_free_rate(user)': null },
        })),
      );
    }
    // Both releases in every environment: 600 groups, cut at 400.
    return answer(
      res,
      q,
      envs
        .flatMap((environment) =>
          ['r@1', 'r@2'].map((release) => ({
            by: { project: 9, environment, release },
            totals: { 'sum(session)': 2, 'crash_free_rate(session)': 0.1, 'crash_free_rate(user)': null },
          })),
        )
        .slice(0, 400),
    );
  });
  const { client } = makeClient(server.baseUrl);
  try {
    const projects: ProjectInfo[] = [{ id: '9', slug: 'ci-builds', environments: ['env-0'] }];
    const collector = collectorFor(client, 1);
    const rows = await collectAt(collector, MOCK_DATETIME, projects);
    assert.equal(rows.releases.length, 300);
    assert.ok(
      rows.releases.every((r) => r.release === 'r@2' && r.sessions === 0.9 && r.project === 'ci-builds'),
      'every one of the 300 per-release rows is r@2 of ci-builds with 0.9 sessions',
    );
    assert.equal(rows.releasesDropped, 1);
    assert.equal(rows.crashFree.length, 300);
  } finally {
    await client.close();
    await server.close();
  }
});

test('a project whose last-24-hours answer is cut even alone fails the run with a clear error: no cut numbers are published', async () => {
  const server = await startServer((_req, res, hit) => {
    const q = hit.query;
    if (kindOf(hit) !== 'rates') return answer(res, q, []);
    return answer(
      res,
      q,
      Array.from({ length: 400 }, (_, e) => ({
        by: { project: 4, environment: `env-${e}` },
        totals: { 'crash_free_rate(session)': 1, 'crash_free_rate(user)': 1 },
      })),
    );
  });
  const { client } = makeClient(server.baseUrl);
  try {
    const collector = collectorFor(client);
    await assert.rejects(
      collectAt(collector, MOCK_DATETIME, [{ id: '4', slug: 'huge', environments: ['production'] }]),
      /project huge reaches its limit of 400 groups even for this project alone/,
    );
  } finally {
    await client.close();
    await server.close();
  }
});

// ---------------------------------------------------------------------------------------------------------
// Calendar and permissions.

test('a project deleted since the project list was read (403 for every batch naming it) is left out; the others are published', async () => {
  // Sentry refuses a request naming a project the token can no longer see, without saying which
  // (src/sentry/api/bases/organization.py get_projects): the batch is halved until the project is found,
  // once a request for the whole organization shows that the token can read sessions at all.
  const rates = (ids: string[]): FakeGroup[] =>
    ids.map((id) => ({
      by: { project: Number(id), environment: 'production' },
      totals: { 'crash_free_rate(session)': 0.5, 'crash_free_rate(user)': null },
    }));
  let refuseAll = false;
  const server = await startServer((_req, res, hit) => {
    const q = hit.query;
    const ids = q.getAll('project');
    if (refuseAll || ids.includes('22')) {
      return sendJson(res, 403, { detail: 'You do not have permission to perform this action.' });
    }
    if (ids.includes('-1')) return answer(res, q, []); // the probe: the organization is readable
    return answer(res, q, kindOf(hit) === 'rates' ? rates(ids) : []);
  });
  const { client } = makeClient(server.baseUrl);
  const { logger, lines } = memoryLogger();
  try {
    const projects: ProjectInfo[] = ['21', '22', '23', '24'].map((id) => ({
      id,
      slug: `p${id}`,
      environments: ['production'],
    }));
    const collector = new ReleaseHealthCollector(
      { api: client, logger },
      { interval: 300, releasesPerProject: 0, restrictedSelection: true },
    );
    const rows = await collectAt(collector, MOCK_DATETIME, projects);
    assert.deepEqual(
      rows.crashFree.map((r) => `${r.project} ${r.sessions}`),
      ['p21 0.5', 'p23 0.5', 'p24 0.5'],
    );
    const logged = lines()
      .split('\n')
      .filter((l) => l.includes('projects refused (403)'));
    assert.equal(logged.length, 1, 'said once per run');
    assert.match(logged[0]!, /"projectIds":\["22"\],"count":1/);
    // A token that cannot read sessions at all: the 403 is the run's error, after a single probe.
    refuseAll = true;
    server.hits.length = 0;
    await assert.rejects(collectAt(collector, MOCK_DATETIME, projects), /answered HTTP 403: .*org:read/);
    assert.equal(server.hits.filter((h) => h.query.getAll('project').includes('-1')).length, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

test('month boundary (injected clock): the counter restarts with the new month; the past days of March are not reused in April', async () => {
  let now = Date.UTC(2026, 3, 1, 0, 30); // the data: generated at 1 April 00:30
  const sim = await startSimulator({
    seed: 33,
    projects: 6,
    environmentsPerProject: 2,
    now: () => now,
    rateLimit: false,
  });
  const api = makeClient(sim.url, { token: sim.token, org: sim.org }).client;
  try {
    const meta = new MetadataCollector(
      { api, logger: silent },
      { projects: [], interval: 600, org: sim.org, baseUrl: sim.url },
    );
    const projects = await meta.collect(runContext({ now }));
    const collector = collectorFor(api);
    const check = async (at: number) => {
      now = at;
      sim.resetCounters();
      const text = exposition(collector, await collectAt(collector, at, projects));
      const want = expectedNumbers(sim.truth());
      const got = exportedNumbers(text);
      assert.deepEqual(got.sessions, want.sessions, new Date(at).toISOString());
      assert.deepEqual(got.crashFreeSessions, want.crashFreeSessions);
      assert.deepEqual(got.crashFreeUsers, want.crashFreeUsers);
      return { got, requests: sim.counters().byEndpoint[SESSIONS] ?? 0 };
    };
    const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

    const march = await check(Date.UTC(2026, 2, 31, 23, 50));
    assert.equal(march.requests, 3, 'today (31 March), 1 to 30 March, the last 24 hours');
    const april = await check(Date.UTC(2026, 3, 1, 0, 5));
    assert.equal(april.requests, 2, 'on the first of the month there are no past days to ask');
    assert.ok(
      total(april.got.sessions) > 0 && total(april.got.sessions) < total(march.got.sessions) / 10,
      `on 1 April only the hours of today are counted: ${total(april.got.sessions)} sessions, under a tenth of March's ${total(march.got.sessions)}`,
    );
    const second = await check(Date.UTC(2026, 3, 2, 0, 10));
    assert.equal(second.requests, 3, 'a new day: 1 April is asked as a past day');
    assert.equal(total(second.got.sessions), total(april.got.sessions), 'no session after generation');
  } finally {
    await api.close();
    await sim.close();
  }
});

test('a token without org:read (403 on sessions) disables only release health; /healthz names it and the scope', async () => {
  const sim = await startSimulator({
    seed: 42,
    projects: 5,
    environmentsPerProject: 2,
    issuesPerProject: 20,
  });
  sim.setFaults({ forbiddenRate: 1, endpoints: [SESSIONS] });
  const { exporter } = await startExporterAgainst(sim, { SENTRY_API_RATE: '40' });
  try {
    const body = await healthWhen(exporter.url, 'issues done and the release health error', (b) =>
      Boolean(
        b.collectors.issues?.lastSuccess !== undefined && b.collectors.release_health?.lastError?.message,
      ),
    );
    assert.equal(body.status, 'ok');
    assert.match(
      body.collectors.release_health?.lastError?.message ?? '',
      /sessions\/ answered HTTP 403: .*org:read/,
    );
    const text = await (await fetch(`${exporter.url}/metrics`)).text();
    const got = exportedNumbers(text);
    const want = expectedNumbers(sim.truth());
    assert.deepEqual(got.buckets, want.buckets);
    assert.equal(got.sessions.size, 0);
    assert.equal(got.crashFreeSessions.size, 0);
  } finally {
    await exporter.stop();
    await sim.close();
  }
});

test('the per-release families exist only with SENTRY_RELEASE_HEALTH_RELEASES above 0', async () => {
  const sim = await startSimulator({ seed: 3, projects: 3, environmentsPerProject: 1, rateLimit: false });
  const api = createSentryClient({
    baseUrl: sim.url,
    token: sim.token,
    org: sim.org,
    rate: 50,
    concurrency: 2,
    timeout: 5,
    retry: { tries: 1, delay: 0, maxDelay: 0, backoff: 1, jitter: 0 },
    logger: silent,
  });
  try {
    const meta = new MetadataCollector(
      { api, logger: silent },
      { projects: [], interval: 600, org: sim.org, baseUrl: sim.url },
    );
    const projects = await meta.collect(runContext({ now: Date.now() }));
    sim.resetCounters();
    const off = collectorFor(api, 0);
    const text = exposition(off, await collectAt(off, Date.now(), projects));
    assert.doesNotMatch(text, /sentry_release_crash_free|releases_dropped/);
    assert.match(text, /^# TYPE sentry_sessions_total counter$/m);
    assert.ok(
      sim.counters().requests.every((r) => !String(r.query.groupBy).includes('release')),
      'no per-release query when off',
    );
  } finally {
    await api.close();
    await sim.close();
  }
});

test('session counts and crash-free rows come in the order of project slug, environment and status, whatever order Sentry answers in', async () => {
  // Today's groups and the rates of the last 24 hours in the reverse of that order; counts by hand.
  const server = await startServer((_req, res, hit) => {
    const q = hit.query;
    switch (kindOf(hit)) {
      case 'today':
        return answer(res, q, [
          {
            by: { project: 1, environment: 'production', 'session.status': 'healthy' },
            totals: { 'sum(session)': 5 },
          },
          {
            by: { project: 1, environment: 'production', 'session.status': 'crashed' },
            totals: { 'sum(session)': 1 },
          },
          {
            by: { project: 1, environment: 'development', 'session.status': 'healthy' },
            totals: { 'sum(session)': 2 },
          },
          {
            by: { project: 2, environment: 'production', 'session.status': 'healthy' },
            totals: { 'sum(session)': 7 },
          },
        ]);
      case 'past':
        return answer(res, q, []);
      case 'rates':
        return answer(res, q, [
          {
            by: { project: 1, environment: 'production' },
            totals: { 'crash_free_rate(session)': 0.5, 'crash_free_rate(user)': null },
          },
          {
            by: { project: 1, environment: 'development' },
            totals: { 'crash_free_rate(session)': 1, 'crash_free_rate(user)': 1 },
          },
          {
            by: { project: 2, environment: 'production' },
            totals: { 'crash_free_rate(session)': 1, 'crash_free_rate(user)': null },
          },
        ]);
      default:
        return sendJson(res, 400, { detail: 'unexpected query' });
    }
  });
  const { client } = makeClient(server.baseUrl);
  try {
    const projects: ProjectInfo[] = [
      { id: '1', slug: 'web', environments: ['development', 'production'] },
      { id: '2', slug: 'api', environments: ['production'] },
    ];
    const data = await collectAt(collectorFor(client), MOCK_DATETIME, projects);
    assert.deepEqual(
      data.sessions.map((r) => [r.project, r.environment, r.status, r.sessions]),
      [
        ['api', 'production', 'healthy', 7],
        ['web', 'development', 'healthy', 2],
        ['web', 'production', 'crashed', 1],
        ['web', 'production', 'healthy', 5],
      ],
    );
    assert.deepEqual(
      data.crashFree.map((r) => [r.project, r.environment, r.sessions, r.users]),
      [
        ['api', 'production', 1, null],
        ['web', 'development', 1, 1],
        ['web', 'production', 0.5, null],
      ],
    );
  } finally {
    await client.close();
    await server.close();
  }
});
