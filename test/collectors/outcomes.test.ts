/**
 * The outcomes collector against Sentry's answers: a small answer written out from Sentry's own tests with
 * the expected values worked out by hand, the month boundary with an injected clock, and the simulator's
 * ground truth for every project, category, outcome and reason, past Sentry's 10,000-row cap.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator, SimOptions } from '../../sim/index.js';
import type { ProjectInfo } from '../../src/collectors/collector.js';
import { OutcomesCollector } from '../../src/collectors/outcomes.js';
import { renderFamilies } from '../../src/metrics/exposition.js';
import { createSentryClient } from '../../src/sentry/client.js';
import type { SentryClient } from '../../src/sentry/client.js';
import { parseExposition, startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { makeClient, sendJson, startServer } from '../sentry/helpers.js';
import { runContext } from '../helpers/collect.js';

const silent = pino({ level: 'silent' });
const STATS = '/organizations/{org}/stats_v2/';

function collectorFor(client: SentryClient, extra: { rowTarget?: number } = {}): OutcomesCollector {
  return new OutcomesCollector(
    { api: client, logger: silent },
    { interval: 60, outcomes: true, events: true, ...extra },
  );
}

async function run(collector: OutcomesCollector, projects: ProjectInfo[], now: number): Promise<string> {
  const data = await collector.collect(runContext({ now, projects }));
  return renderFamilies(collector.render(data));
}

function values(text: string): Map<string, number> {
  return new Map(
    parseExposition(text).map((r) => [`${r.name}{${Object.values(r.labels).join(',')}}`, r.value]),
  );
}

/**
 * The data of tests/snuba/api/endpoints/test_organization_stats_v2.py (getsentry/sentry),
 * OrganizationStatsTestV2.setUp, frozen at 2021-03-14T12:27:28.303Z: in project "bar" (here id 101) five
 * accepted errors and one accepted default event, an attachment of 1,024 bytes rate limited by
 * smart_rate_limit, and three profile_duration outcomes of 1,000 ms; in project "foo" (102) one transaction
 * rate limited by smart_rate_limit. test_org_simple shows them grouped by category, outcome and reason
 * (error accepted none 6, attachment rate_limited spike_protection 1024, profile_duration accepted none 3000,
 * transaction rate_limited spike_protection 1); test_org_group_by_project splits them by project (101: 6
 * errors, 102: 1 transaction). docs/sentry-api.md Part 2, "Fixtures from Sentry's tests".
 */
const FROZEN = Date.parse('2021-03-14T12:27:28.303Z');
const FIXTURE_GROUPS = [
  {
    by: { project: 101, category: 'error', outcome: 'accepted', reason: 'none' },
    totals: { 'sum(quantity)': 6 },
  },
  {
    by: { project: 101, category: 'attachment', outcome: 'rate_limited', reason: 'spike_protection' },
    totals: { 'sum(quantity)': 1024 },
  },
  {
    by: { project: 101, category: 'profile_duration', outcome: 'accepted', reason: 'none' },
    totals: { 'sum(quantity)': 3000 },
  },
  {
    by: { project: 102, category: 'transaction', outcome: 'rate_limited', reason: 'spike_protection' },
    totals: { 'sum(quantity)': 1 },
  },
];

for (const shape of [
  'sentry.io (no intervals, no series)',
  'older self-hosted (intervals and series)',
] as const) {
  test(`Sentry's own test data, ${shape}: every value written out by hand`, async () => {
    const withSeries = shape.startsWith('older');
    const server = await startServer((_req, res) => {
      const groups = withSeries
        ? FIXTURE_GROUPS.map((g) => ({
            ...g,
            series: { 'sum(quantity)': [0, 0, g.totals['sum(quantity)']] },
          }))
        : FIXTURE_GROUPS;
      const body = { start: '2021-03-01T00:00:00Z', end: '2021-03-15T00:00:00Z', groups };
      sendJson(res, 200, withSeries ? { ...body, intervals: ['2021-03-01T00:00:00Z'] } : body);
    });
    const { client } = makeClient(server.baseUrl);
    try {
      const projects = [
        { id: '101', slug: 'bar', environments: [] },
        { id: '102', slug: 'foo', environments: [] },
      ];
      const got = values(await run(collectorFor(client), projects, FROZEN));
      assert.deepEqual(
        got,
        new Map([
          // 5 errors + 1 default event, which Sentry reports as error
          ['sentry_events_total{bar,received}', 6],
          ['sentry_events_total{bar,rejected}', 0],
          ['sentry_events_total{bar,blacklisted}', 0],
          // only the error category counts here: the rate-limited transaction is not an error event
          ['sentry_events_total{foo,received}', 0],
          ['sentry_events_total{foo,rejected}', 0],
          ['sentry_events_total{foo,blacklisted}', 0],
          ['sentry_outcomes_total{bar,error,accepted,none}', 6],
          ['sentry_outcomes_total{foo,transaction,rate_limited,spike_protection}', 1],
          ['sentry_outcome_bytes_total{bar,attachment,rate_limited,spike_protection}', 1024],
          // 3 x 1,000 ms
          ['sentry_outcome_seconds_total{bar,profile_duration,accepted,none}', 3],
        ]),
      );
      // One request: the month so far, both projects, every group-by.
      assert.equal(server.hits.length, 1);
      assert.deepEqual(
        [...server.hits[0]!.query],
        [
          ['field', 'sum(quantity)'],
          ['groupBy', 'project'],
          ['groupBy', 'category'],
          ['groupBy', 'outcome'],
          ['groupBy', 'reason'],
          ['project', '101'],
          ['project', '102'],
          ['start', '2021-03-01T00:00:00.000Z'],
          ['end', '2021-03-14T12:27:28.303Z'],
          ['interval', '1d'],
        ],
      );
    } finally {
      await client.close();
      await server.close();
    }
  });
}

test('an answer that may have reached the cap is split until none does; one category of one project at the cap fails', async () => {
  // 3,334 error groups may stand for 10,002 rows before Sentry folded default and security into error.
  const errorGroups = (project: number) =>
    Array.from({ length: 3334 }, (_, i) => ({
      by: { project, category: 'error', outcome: 'filtered', reason: `r${i}` },
      totals: { 'sum(quantity)': 1 },
    }));
  const server = await startServer((_req, res, hit) => {
    const ids = hit.query.getAll('project');
    if (hit.query.getAll('groupBy').join() === 'category') {
      sendJson(res, 200, {
        start: '',
        end: '',
        groups: [{ by: { category: 'error' }, totals: { 'sum(quantity)': 1 } }],
      });
      return;
    }
    // Two projects together are at the cap; 102 alone is under it; 101 alone is at it in its one category.
    const groups =
      ids.length > 1 ? errorGroups(101) : ids[0] === '101' ? errorGroups(101) : errorGroups(102).slice(0, 5);
    sendJson(res, 200, { start: '', end: '', groups });
  });
  const { client } = makeClient(server.baseUrl);
  try {
    const projects = [
      { id: '101', slug: 'bar', environments: [] },
      { id: '102', slug: 'foo', environments: [] },
    ];
    await assert.rejects(
      run(collectorFor(client), projects, FROZEN),
      /project bar and category error .*10000-row cap/,
    );
    const asked = server.hits.map(
      (h) => `${h.query.getAll('project').join('+')}:${h.query.getAll('category').join()}`,
    );
    assert.deepEqual(asked.sort(), ['101+102:', '101:', '101:', '101:error', '102:'].sort());
  } finally {
    await client.close();
    await server.close();
  }
});

/** A simulator, a real client and the collector; `projects` as the metadata collector would list them. */
async function simulated(opts: SimOptions, rowTarget?: number) {
  const sim = await startSimulator({ rateLimit: false, ...opts });
  const client = createSentryClient({
    baseUrl: sim.url,
    token: sim.token,
    org: sim.org,
    rate: 200,
    concurrency: 4,
    timeout: 30,
    retry: { tries: 2, delay: 0.05, maxDelay: 0.1, backoff: 2, jitter: 0 },
    logger: silent,
  });
  const listed = await client.listProjects();
  const projects = listed.map((p) => ({ id: p.id, slug: p.slug, environments: p.environments ?? [] }));
  const collector = collectorFor(client, rowTarget === undefined ? {} : { rowTarget });
  return {
    sim,
    projects,
    collector,
    async close() {
      await client.close();
      await sim.close();
    },
  };
}

function assertExact(sim: SentrySimulator, text: string): void {
  const got = exportedNumbers(text);
  const want = expectedNumbers(sim.truth());
  assert.deepEqual(got.outcomes, want.outcomes);
  assert.deepEqual(got.events, want.events);
}

test('the month boundary: the window starts at the first second of the month (UTC), injected clock', async () => {
  let clock = Date.parse('2026-07-01T00:00:01Z');
  const s = await simulated({ projects: 6, now: () => clock });
  try {
    const first = await run(s.collector, s.projects, clock);
    assertExact(s.sim, first);
    let query = s.sim.counters().requests.at(-1)?.query;
    assert.equal(query?.start, '2026-07-01T00:00:00.000Z');
    assert.equal(query?.end, '2026-07-01T00:00:01.000Z');
    const july = exportedNumbers(first).outcomes;

    // One second before: all of June, nothing of July.
    clock = Date.parse('2026-06-30T23:59:59Z');
    const june = await run(s.collector, s.projects, clock);
    assertExact(s.sim, june);
    query = s.sim.counters().requests.at(-1)?.query;
    assert.equal(query?.start, '2026-06-01T00:00:00.000Z');
    const juneAccepted = exportedNumbers(june).outcomes;
    const key = [...july.keys()].find((k) => k.includes('/error/accepted/none'))!;
    assert.ok(juneAccepted.get(key)! > july.get(key)! * 10, 'June has 30 days of outcomes, July one');

    // The month's very first instant: Sentry refuses start == end, so the first second is asked for.
    clock = Date.parse('2026-07-01T00:00:00Z');
    assertExact(s.sim, await run(s.collector, s.projects, clock));
    query = s.sim.counters().requests.at(-1)?.query;
    assert.equal(query?.end, '2026-07-01T00:00:01.000Z');
    assert.equal(s.sim.counters().byStatus['400'], undefined);
  } finally {
    await s.close();
  }
});

test('1,000 projects with far more than 10,000 outcome rows: exact, in a few uncut answers', async () => {
  const now = Date.parse('2026-06-20T10:30:00Z');
  const s = await simulated({
    projects: 1000,
    environmentsPerProject: 1,
    issuesPerProject: 1,
    now: () => now,
  });
  try {
    const rows = s.sim.truth().outcomes.length;
    assert.ok(rows > 40_000, `${rows} rows this month`);
    s.sim.resetCounters();
    assertExact(s.sim, await run(s.collector, s.projects, now));
    const first = s.sim.counters();
    assert.equal(first.statsCut, 0);
    // The next run sizes its batches from these answers: about 5,000 rows each.
    s.sim.resetCounters();
    assertExact(s.sim, await run(s.collector, s.projects, now));
    const steady = s.sim.counters();
    assert.equal(steady.statsCut, 0);
    const requests = steady.byEndpoint[STATS] ?? 0;
    // 5,000 rows an answer, each row counted three times when it might hide error, default and security
    assert.ok(requests <= Math.ceil((3 * rows) / 5000) + 1, `${requests} requests for ${rows} rows`);
    for (const r of steady.requests) {
      const url = new URL(`${s.sim.url}organizations/acme/stats_v2/`);
      for (const [k, v] of Object.entries(r.query)) for (const x of [v].flat()) url.searchParams.append(k, x);
      assert.ok(url.href.length < 4096, `URL of ${url.href.length} characters`);
    }
  } finally {
    await s.close();
  }
});

test('a cut answer (Sentry kept 10,000 rows) is detected and split; the next run sizes its batches not to reach the cap', async () => {
  const now = Date.parse('2026-06-20T10:30:00Z');
  const s = await simulated({
    projects: 300,
    environmentsPerProject: 1,
    issuesPerProject: 1,
    outcomeVariety: 4,
    now: () => now,
  });
  try {
    assertExact(s.sim, await run(s.collector, s.projects, now));
    const first = s.sim.counters();
    assert.ok(first.statsCut >= 1, 'the first run, sized by a guess, got cut answers');
    s.sim.resetCounters();
    assertExact(s.sim, await run(s.collector, s.projects, now));
    assert.equal(s.sim.counters().statsCut, 0, 'sized from the first run: no answer reaches the cap');
  } finally {
    await s.close();
  }
});

for (const mode of ['sentry.io', 'self-hosted'] as const) {
  test(`${mode}, 20 projects, the default request rate (3 requests/s): every outcome value equals the ground truth, per reason and summed`, async () => {
    // Sentry's limit on the simulator too: 3 requests per second per endpoint (sentry.io mode).
    const sim = await startSimulator({
      mode,
      projects: 20,
      ...(mode === 'sentry.io' ? { rateLimit: { perSecond: 3, concurrent: 25 } } : {}),
    });
    // The other collectors keep their defaults off: the issue collector's release lookups alone would
    // take a minute at 3 requests/s, and this test is about the outcome values.
    const { exporter } = await startExporterAgainst(sim, {
      SENTRY_POLL_INTERVAL: '3600',
      SENTRY_SCRAPE_ISSUE_METRICS: 'false',
      SENTRY_SCRAPE_MONITOR_METRICS: 'false',
      SENTRY_SCRAPE_RELEASE_HEALTH_METRICS: 'false',
    });
    try {
      const report = await exporter.collection.runCycle();
      assert.deepEqual(report.failed, []);
      const text = exporter.snapshot.sentryText;
      const got = exportedNumbers(text);
      const want = expectedNumbers(sim.truth());
      assert.deepEqual(got.outcomes, want.outcomes);
      assert.deepEqual(got.events, want.events);
      // Summed over reason: the simulator's quantity per project, category and outcome.
      const summed = (m: Map<string, number>) => {
        const out = new Map<string, number>();
        for (const [k, v] of m) {
          const key = k.slice(0, k.lastIndexOf('/'));
          out.set(key, (out.get(key) ?? 0) + v);
        }
        return out;
      };
      assert.deepEqual(summed(got.outcomes), summed(want.outcomes));
      assert.ok(
        want.outcomes.size > 100,
        `more than 100 outcome series in the truth (${want.outcomes.size})`,
      );
      assert.equal(sim.counters().rateLimited, 0);
    } finally {
      await exporter.stop();
      await sim.close();
    }
  });
}

/**
 * A project deleted after the project list was read: Sentry refuses a stats_v2 request naming it with 403
 * (src/sentry/api/bases/organization.py, get_projects: a listed project the caller cannot access refuses the
 * request). The collector finds it by halving the batch and leaves it out; the other projects stay exact. A
 * token that cannot read the organization's stats at all is the collector's error, after one extra request,
 * not a storm of halved requests.
 */
test('a project deleted since the project list is left out; a token without access fails after one probe', async () => {
  const sim = await startSimulator({ rateLimit: false, seed: 61, projects: 12, environmentsPerProject: 1 });
  let refuse: (query: URLSearchParams) => boolean = () => false;
  const seen: string[] = [];
  const proxy = await startServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.endsWith('/stats_v2/')) seen.push(url.search);
    if (url.pathname.endsWith('/stats_v2/') && refuse(url.searchParams)) {
      return sendJson(res, 403, { detail: 'You do not have permission to perform this action.' });
    }
    const upstream = await fetch(
      new URL(`${url.pathname.replace(/^\/api\/0\//, '')}${url.search}`, sim.url),
      {
        headers: { authorization: req.headers.authorization ?? '' },
      },
    );
    res.writeHead(upstream.status, { 'content-type': 'application/json' });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  const { client } = makeClient(proxy.baseUrl, { org: sim.org, token: sim.token, rate: 200 });
  try {
    const projects = (await client.listProjects()).map((p) => ({
      id: p.id,
      slug: p.slug,
      environments: p.environments ?? [],
    }));
    const gone = projects[5]!;
    refuse = (q) => q.getAll('project').includes(gone.id);
    const collector = collectorFor(client, { rowTarget: 100_000 }); // one batch for all 12 projects
    const text = await run(collector, projects, Date.now());
    const got = exportedNumbers(text);
    const want = expectedNumbers(sim.truth());
    const without = <T>(m: Map<string, T>) =>
      new Map([...m].filter(([k]) => !k.includes(` ${gone.slug}/`) && !k.startsWith(`${gone.slug}/`)));
    assert.deepEqual(without(got.outcomes), without(want.outcomes));
    assert.ok(got.outcomes.size > 0, 'the outcomes of the projects left are exported');
    assert.ok(
      ![...got.outcomes.keys()].some((k) => k.includes(` ${gone.slug}/`)),
      'the gone project is left out',
    );
    // 1 refused batch + 1 probe + halving down to the one project: a handful of requests, not one per project
    assert.ok(seen.length <= 12, `${seen.length} stats_v2 requests`);

    // A token without access to the organization's stats: the first refusal and one probe, then the error.
    refuse = () => true;
    seen.length = 0;
    await assert.rejects(run(collector, projects, Date.now()), /answered HTTP 403/);
    assert.equal(seen.length, 2, 'the refused batch and the probe');
  } finally {
    await client.close();
    await proxy.close();
    await sim.close();
  }
});

test('rows come in the order of project slug, category, outcome and reason, whatever order Sentry answers in', async () => {
  // Sentry's groups in the reverse of that order; quantities by hand.
  const groups = [
    ['101', 'transaction', 'rate_limited', 'spike_protection', 1],
    ['101', 'error', 'filtered', 'browser-extensions', 2],
    ['101', 'error', 'filtered', 'adblock', 3],
    ['101', 'error', 'accepted', 'none', 6],
    ['102', 'error', 'accepted', 'none', 4],
  ].map(([project, category, outcome, reason, quantity]) => ({
    by: { project: Number(project), category, outcome, reason },
    totals: { 'sum(quantity)': quantity },
  }));
  const server = await startServer((_req, res) =>
    sendJson(res, 200, { start: '2021-03-01T00:00:00Z', end: '2021-03-15T00:00:00Z', groups }),
  );
  const { client } = makeClient(server.baseUrl);
  try {
    const data = await collectorFor(client).collect(
      runContext({
        now: FROZEN,
        // The project list in id order; slugs in the other order.
        projects: [
          { id: '101', slug: 'beta', environments: [] },
          { id: '102', slug: 'alpha', environments: [] },
        ],
      }),
    );
    assert.deepEqual(
      data.outcomes.map((r) => [r.project, r.category, r.outcome, r.reason, r.quantity]),
      [
        ['alpha', 'error', 'accepted', 'none', 4],
        ['beta', 'error', 'accepted', 'none', 6],
        ['beta', 'error', 'filtered', 'adblock', 3],
        ['beta', 'error', 'filtered', 'browser-extensions', 2],
        ['beta', 'transaction', 'rate_limited', 'spike_protection', 1],
      ],
    );
  } finally {
    await client.close();
    await server.close();
  }
});
