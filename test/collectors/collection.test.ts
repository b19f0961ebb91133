import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import type { SimOptions } from '../../sim/index.js';
import { healthWhen, parseExposition, startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { PROMTOOL, testNeeding } from '../helpers/tools.js';

const promtoolTest = testNeeding([PROMTOOL]);

/** Runs the exporter against a simulator until its first cycle is done; returns what it published. */
async function firstCycle(simOpts: SimOptions, env: NodeJS.ProcessEnv = {}) {
  const sim = await startSimulator(simOpts);
  const { exporter, logs } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '3600',
    // Slower than the poll interval, as by default (600 s against 60 s): a cycle after the first
    // refreshes only the per-cycle collectors.
    SENTRY_METADATA_INTERVAL: '36000',
    // Release health too (300 s against 60 s by default).
    SENTRY_RELEASE_HEALTH_INTERVAL: '36000',
    SENTRY_API_RATE: '40',
    SENTRY_API_CONCURRENCY: '4',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
    ...env,
  });
  const report = await exporter.collection.runCycle();
  return {
    sim,
    exporter,
    logs,
    report,
    text: exporter.snapshot.sentryText,
    async close() {
      await exporter.stop();
      await sim.close();
    },
  };
}

test('every number equals the ground truth, for every project and environment, past the first page', async () => {
  const run = await firstCycle({ seed: 3, projects: 10, environmentsPerProject: 3, issuesPerProject: 50 });
  try {
    const truth = run.sim.truth();
    const big = truth.issueWindows.reduce((a, b) => (b.d14 > a.d14 ? b : a));
    assert.ok(
      run.sim.counters().byEndpoint['/organizations/{org}/issues/']! > 3,
      'issues span several pages',
    );
    assert.deepEqual(run.report.failed, []);
    assert.deepEqual(exportedNumbers(run.text), expectedNumbers(truth));
    assert.ok(
      big.d14 > 0 &&
        exportedNumbers(run.text).buckets.get(`${big.project}/${big.environment}/+Inf`) === big.d14,
      `the busiest issue window (${big.project}/${big.environment}, ${big.d14} events in 14 days) is exported whole in its +Inf bucket`,
    );
  } finally {
    await run.close();
  }
});

test('open issue series carry the Python label spellings and the current release', async () => {
  const run = await firstCycle({ seed: 4, projects: 4 });
  try {
    const truth = run.sim.truth();
    const rows = parseExposition(run.text).filter((r) => r.name === 'sentry_open_issue_events');
    assert.equal(rows.length, truth.openIssues.length);
    for (const t of truth.openIssues) {
      const row = rows.find((r) => r.labels.issue_id === t.issueId && r.labels.environment === t.environment);
      assert.ok(row, `issue ${t.issueId} in ${t.environment}`);
      assert.deepEqual(row.labels, {
        issue_id: t.issueId,
        logger: t.logger ?? 'None',
        level: t.level,
        status: t.status,
        platform: t.platform ?? 'None',
        project_slug: t.project,
        environment: t.environment,
        release: t.release ?? 'None',
        isUnhandled: t.isUnhandled ? 'True' : 'False',
        firstSeen: t.firstSeen.slice(0, 10),
        lastSeen: t.lastSeen.slice(0, 10),
      });
      assert.equal(row.value, t.count);
    }
  } finally {
    await run.close();
  }
});

test('without the global-views feature it falls back to per-project queries, says so once, and stays exact', async () => {
  const run = await firstCycle({ seed: 5, projects: 5, multiProjectStream: false });
  try {
    assert.deepEqual(run.report.failed, []);
    assert.deepEqual(exportedNumbers(run.text), expectedNumbers(run.sim.truth()));
    const refusedFirst = run.sim.counters().byStatus['400'] ?? 0;
    // queries already in flight when the first refusal came back are refused too: at most the concurrency
    assert.ok(refusedFirst >= 1 && refusedFirst <= 4, `${refusedFirst} refused queries`);
    const second = await run.exporter.collection.runCycle();
    assert.deepEqual(second.failed, []);
    const mentions = run
      .logs()
      .split('\n')
      .filter((l) => l.includes('multi-project issue query'));
    assert.equal(mentions.length, 1, 'logged once, not every cycle');
    assert.equal(
      run.sim.counters().byStatus['400'],
      refusedFirst,
      'the second cycle asks per project right away',
    );
  } finally {
    await run.close();
  }
});

test('older self-hosted Sentry: no environments in project summaries, no rate-limit headers', async () => {
  const run = await firstCycle({
    seed: 6,
    projects: 5,
    projectSummaryEnvironments: false,
    rateLimitHeaders: false,
  });
  try {
    assert.deepEqual(run.report.failed, []);
    assert.equal(run.sim.counters().byEndpoint['/projects/{org}/{project}/environments/'], 5);
    assert.deepEqual(exportedNumbers(run.text), expectedNumbers(run.sim.truth()));
  } finally {
    await run.close();
  }
});

test('SENTRY_EXPORTER_PROJECTS restricts every family; an unknown slug is logged once as an error', async () => {
  const sim = await startSimulator({ seed: 8, projects: 6 });
  const slugs = sim.truth().events.map((e) => e.project);
  await sim.close();
  const chosen = [slugs[0]!, slugs[3]!];
  const run = await firstCycle(
    { seed: 8, projects: 6 },
    { SENTRY_EXPORTER_PROJECTS: `${chosen.join(',')},no-such-project` },
  );
  try {
    assert.deepEqual(exportedNumbers(run.text), expectedNumbers(run.sim.truth(), chosen));
    await run.exporter.collection.runCycle();
    const errors = run
      .logs()
      .split('\n')
      .filter((l) => l.includes('no-such-project') && l.includes('does not exist'));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /"level":50/);
  } finally {
    await run.close();
  }
});

test('a steady-state cycle costs few requests: 20 projects x 2 environments x 60 issues', async () => {
  // 20/s against the simulator's 40/s per endpoint: no 429 may inflate the count
  const run = await firstCycle(
    { seed: 1, projects: 20, environmentsPerProject: 2, issuesPerProject: 60 },
    { SENTRY_API_RATE: '20' },
  );
  try {
    run.sim.resetCounters();
    const steady = await run.exporter.collection.runCycle();
    assert.deepEqual(steady.failed, []);
    const c = run.sim.counters();
    assert.equal(steady.requests, c.total);
    // The budget of 15 holds for the issue and outcome families (14 + 1 here); cron monitors, a default
    // family since, add one request per 100 monitors each cycle on top (10 monitors here: one), and the
    // quota usage exactly one stats_v2 request (the whole organization in one answer).
    const monitors = c.byEndpoint['/organizations/{org}/monitors/'] ?? 0;
    assert.equal(monitors, 1);
    const statsV2 = c.requests.filter((r) => r.endpoint === '/organizations/{org}/stats_v2/');
    const quota = statsV2.filter((r) => r.query.project === undefined);
    assert.equal(quota.length, 1, 'one organization-wide stats_v2 request: the quota usage');
    assert.ok(
      c.total - monitors - quota.length <= 15,
      `steady-state cycle made ${c.total} requests: ${JSON.stringify(c.byEndpoint)}`,
    );
    assert.equal(c.rateLimited, 0);
    assert.deepEqual(exportedNumbers(run.exporter.snapshot.sentryText), expectedNumbers(run.sim.truth()));
  } finally {
    await run.close();
  }
});

test('SENTRY_OPEN_ISSUES_MAX caps the open-issue series, newest first, and counts what it dropped', async () => {
  const run = await firstCycle({ seed: 9, projects: 4 }, { SENTRY_OPEN_ISSUES_MAX: '3' });
  try {
    const truth = run.sim.truth();
    assert.ok(
      truth.openIssues.length > 3,
      `the organization has more open issues than SENTRY_OPEN_ISSUES_MAX=3 (${truth.openIssues.length})`,
    );
    const rows = parseExposition(run.text).filter((r) => r.name === 'sentry_open_issue_events');
    assert.equal(rows.length, 3);
    const newest = [...truth.openIssues].sort((a, b) => b.firstSeen.localeCompare(a.firstSeen))[2]!;
    for (const r of rows)
      assert.ok(
        r.labels.firstSeen! >= newest.firstSeen.slice(0, 10),
        `the 3 newest open issues are kept: first seen ${r.labels.firstSeen} is not before ${newest.firstSeen.slice(0, 10)}`,
      );
    const scrape = await run.exporter.snapshot.scrape(false);
    const dropped = parseExposition(scrape.body.toString()).find(
      (r) => r.name === 'sentry_exporter_open_issue_series_dropped',
    );
    assert.equal(dropped?.value, truth.openIssues.length - 3);
  } finally {
    await run.close();
  }
});

test('a failing collector keeps its last good values and counts the error; the others still publish', async () => {
  const run = await firstCycle({ seed: 10, projects: 4 }, { SENTRY_RETRY_TRIES: '2' });
  try {
    const before = exportedNumbers(run.text);
    run.sim.setFaults({ serverErrorRate: 1, endpoints: ['/organizations/{org}/stats_v2/'] });
    const report = await run.exporter.collection.runCycle();
    assert.deepEqual(report.failed, ['outcomes', 'quota']);
    const after = exportedNumbers(run.exporter.snapshot.sentryText);
    assert.deepEqual(after.events, before.events, 'events keep their last good values');
    assert.deepEqual(after.outcomes, before.outcomes, 'outcomes keep their last good values');
    assert.deepEqual(after.quota, before.quota, 'the quota usage keeps its last good values');
    assert.deepEqual(after.buckets, expectedNumbers(run.sim.truth()).buckets);
    const self = parseExposition((await run.exporter.snapshot.scrape(false)).body.toString());
    const value = (name: string, labels: Record<string, string> = {}) =>
      self.find((r) => r.name === name && Object.entries(labels).every(([k, v]) => r.labels[k] === v))?.value;
    assert.equal(value('sentry_exporter_up'), 0);
    assert.equal(value('sentry_exporter_collection_errors_total', { collector: 'outcomes' }), 1);
    assert.equal(value('sentry_exporter_collection_errors_total', { collector: 'issues' }), 0);
    const failedStats = self
      .filter(
        (r) =>
          r.name === 'sentry_exporter_api_requests_total' &&
          r.labels.endpoint === '/organizations/{org}/stats_v2/',
      )
      .filter((r) => r.labels.code?.startsWith('5'))
      .reduce((sum, r) => sum + r.value, 0);
    assert.equal(
      failedStats,
      4,
      'two attempts (SENTRY_RETRY_TRIES=2) of each collector that asks stats_v2, all counted by status',
    );
    const failures = run
      .logs()
      .split('\n')
      .filter((l) => l.includes('collector failed'));
    assert.equal(failures.length, 2, 'one log line per failed collector, not one per request');
    for (const line of failures) assert.match(line, /"endpoint":"\/organizations\/\{org\}\/stats_v2\/"/);

    run.sim.setFaults({});
    const recovered = await run.exporter.collection.runCycle();
    assert.deepEqual(recovered.failed, []);
    assert.deepEqual(exportedNumbers(run.exporter.snapshot.sentryText), expectedNumbers(run.sim.truth()));
  } finally {
    await run.close();
  }
});

promtoolTest(
  'with SENTRY_EXPORTER_LEGACY_METRICS=false the whole /metrics exposition passes promtool check metrics',
  async () => {
    const run = await firstCycle({ seed: 11, projects: 4 }, { SENTRY_EXPORTER_LEGACY_METRICS: 'false' });
    try {
      const text = (await run.exporter.snapshot.scrape(false)).body.toString();
      assert.match(text, /^sentry_unresolved_issue_events\{/m);
      assert.match(text, /^sentry_rate_limit_events_per_second\{/m);
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      if (check.error) throw check.error;
      assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
    } finally {
      await run.close();
    }
  },
);

test('/healthz turns ready only once a collector has published: never ahead of /metrics', async () => {
  const sim = await startSimulator({
    seed: 31,
    projects: 120,
    environmentsPerProject: 3,
    issuesPerProject: 12,
  });
  const { exporter } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_API_RATE: '200',
  });
  try {
    // The exposition is rendered in slices that yield to the event loop: check readiness between them.
    let checks = 0;
    let done = false;
    const cycle = exporter.collection.runCycle().finally(() => (done = true));
    while (!done) {
      await new Promise((resolve) => setImmediate(resolve));
      checks++;
      const readiness = exporter.collection.readiness();
      if (!readiness.ready) continue;
      const names = new Set(
        parseExposition((await exporter.snapshot.scrape(false)).body.toString()).map((r) => r.name),
      );
      const family: Record<string, string> = {
        metadata: 'sentry_project_info',
        issues: 'sentry_issues_bucket',
        outcomes: 'sentry_events_total',
        quota: 'sentry_quota_usage_total',
        monitors: 'sentry_monitor_status',
      };
      const fresh = Object.entries(readiness.collectors).filter(
        ([name, c]) => c.lastPublished !== undefined && family[name] !== undefined,
      );
      assert.ok(fresh.length > 0, 'ready with a collector that has published');
      for (const [name] of fresh) {
        assert.ok(names.has(family[name]!), `ready after ${checks} checks while ${name} had not published`);
      }
      break;
    }
    await cycle;
    assert.ok(checks > 10, `only ${checks} readiness checks during the cycle`);
    assert.equal(exporter.collection.readiness().ready, true);
  } finally {
    await exporter.stop();
    await sim.close();
  }
});

test('an issue gone between listing and release lookup (404) gets release None, not a failed collector', async () => {
  const sim = await startSimulator({ seed: 9, projects: 6, environmentsPerProject: 2, issuesPerProject: 30 });
  const truth = sim.truth();
  const gone = truth.openIssues.find((i) => i.release !== null);
  assert.ok(gone, 'the simulator has an open issue with a release');
  // A real server in front of the simulator that answers like Sentry for an issue deleted meanwhile.
  let deleted = true;
  const proxy = createServer((req, res) => {
    if (
      deleted &&
      req.url?.startsWith(`/api/0/organizations/${sim.org}/issues/${gone.issueId}/current-release/`)
    ) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: 'The requested resource does not exist' }));
      return;
    }
    void fetch(new URL(req.url ?? '/', sim.url), {
      headers: { authorization: req.headers.authorization ?? '' },
    })
      .then(async (upstream) => {
        res.writeHead(upstream.status, Object.fromEntries(upstream.headers));
        res.end(Buffer.from(await upstream.arrayBuffer()));
      })
      .catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  const { exporter, logs } = await startExporterAgainst(sim, {
    SENTRY_BASE_URL: `http://127.0.0.1:${port}/api/0/`,
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_API_RATE: '50',
  });
  const releaseOf = (text: string) =>
    parseExposition(text).find(
      (r) =>
        r.name === 'sentry_open_issue_events' &&
        r.labels.issue_id === gone.issueId &&
        r.labels.environment === gone.environment,
    )?.labels.release;
  try {
    const first = await exporter.collection.runCycle();
    assert.deepEqual(first.failed, []);
    const text = exporter.snapshot.sentryText;
    assert.equal(releaseOf(text), 'None');
    const expected = expectedNumbers(truth);
    assert.deepEqual(exportedNumbers(text).buckets, expected.buckets);
    assert.deepEqual(exportedNumbers(text).open, expected.open);
    assert.match(logs(), /issues gone between listing and release lookup.*"count":1|"count":1.*issues gone/);
    // The 404 is not cached: once Sentry answers again, the release is back.
    deleted = false;
    const second = await exporter.collection.runCycle();
    assert.deepEqual(second.failed, []);
    assert.equal(releaseOf(exporter.snapshot.sentryText), gone.release);
  } finally {
    await exporter.stop();
    await new Promise((resolve) => proxy.close(resolve));
    await sim.close();
  }
});

for (const mode of ['sentry.io', 'self-hosted'] as const) {
  test(`${mode}: /healthz turns 200 and every value of every family equals the ground truth`, async () => {
    const run = await firstCycle({
      mode,
      seed: 41,
      projects: 8,
      environmentsPerProject: 3,
      issuesPerProject: 40,
    });
    try {
      assert.deepEqual(run.report.failed, []);
      assert.deepEqual(exportedNumbers(run.text), expectedNumbers(run.sim.truth()));
      assert.equal((await fetch(`${run.exporter.url}/healthz`)).status, 200);
      if (mode === 'self-hosted') {
        // no organization keys list: the keys were asked per project; no rate-limit headers: no gauge
        assert.equal(run.sim.counters().byEndpoint['/projects/{org}/{project}/keys/'], 8);
        assert.doesNotMatch(
          (await run.exporter.snapshot.scrape(false)).body.toString(),
          /^sentry_exporter_api_rate_limit_remaining /m,
        );
      }
    } finally {
      await run.close();
    }
  });
}

test('one collector refused (403 on stats_v2): /healthz is still 200, names it and why; the others are exact', async () => {
  const sim = await startSimulator({
    seed: 42,
    projects: 6,
    environmentsPerProject: 2,
    issuesPerProject: 30,
  });
  sim.setFaults({ forbiddenRate: 1, endpoints: ['/organizations/{org}/stats_v2/'] });
  const { exporter } = await startExporterAgainst(sim, {
    SENTRY_API_RATE: '40',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
  });
  try {
    const url = exporter.url;
    const body = await healthWhen(url, 'issues done and the outcomes error', (b) =>
      Boolean(b.collectors.issues?.lastSuccess !== undefined && b.collectors.outcomes?.lastError?.message),
    );
    assert.equal(body.status, 'ok');
    assert.match(
      body.collectors.outcomes?.lastError?.message ?? '',
      /stats_v2\/ answered HTTP 403: .*org:read/,
    );
    assert.equal(body.collectors.outcomes?.lastSuccess, undefined);
    const text = await (await fetch(`${url}/metrics`)).text();
    const rows = parseExposition(text);
    assert.equal(rows.find((r) => r.name === 'sentry_exporter_up')?.value, 0);
    assert.ok(
      (rows.find(
        (r) => r.name === 'sentry_exporter_collection_errors_total' && r.labels.collector === 'outcomes',
      )?.value ?? 0) >= 1,
      'sentry_exporter_collection_errors_total{collector="outcomes"} is at least 1 after the refused stats_v2 call',
    );
    const got = exportedNumbers(text);
    const want = expectedNumbers(sim.truth());
    assert.deepEqual(got.buckets, want.buckets);
    assert.deepEqual(got.open, want.open);
    assert.deepEqual(got.rateLimits, want.rateLimits);
    assert.equal(got.events.size, 0, 'no sentry_events_total without an answer');
    assert.equal(got.outcomes.size, 0, 'no outcomes without an answer');
  } finally {
    await exporter.stop();
    await sim.close();
  }
});
