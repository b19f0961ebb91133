/**
 * What Sentry's answers look like when its API changes or a group goes odd, and what the exporter makes of
 * it:
 * - every item malformed (a renamed or retyped field: a changed shape) fails the collector, naming the
 *   endpoint and the first bad field; its last good values stay, `sentry_exporter_up` is 0, /healthz says so;
 * - one malformed group of stats_v2 or sessions is left out and counted, not the whole family;
 * - a group repeated within an answer counts once (Sentry builds its groups as the keys of a dict);
 * - an issue first seen in the future (a clock ahead of ours) counts as first seen now;
 * - a 410 Gone (Sentry's deprecation brownout) names Sentry's message and its deprecation headers, and
 *   sentry_exporter_api_deprecated says which endpoint.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import type { HealthBody } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { selfValue } from './helpers.js';

const ISSUES = '/organizations/{org}/issues/';
const MONITORS = '/organizations/{org}/monitors/';
const STATS = '/organizations/{org}/stats_v2/';
const SESSIONS = '/organizations/{org}/sessions/';

async function setUp(seed: number, env: NodeJS.ProcessEnv = {}) {
  const sim = await startSimulator({ seed, projects: 5, environmentsPerProject: 2, issuesPerProject: 60 });
  const { exporter, logs } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_METADATA_INTERVAL: '3600',
    SENTRY_API_RATE: '40',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
    ...env,
  });
  return { sim, exporter, logs };
}

type Numbers = ReturnType<typeof exportedNumbers>;

/** The keys of the families whose values differ between `a` and `b`. */
function differences(a: Numbers, b: Numbers): string[] {
  const out: string[] = [];
  for (const family of Object.keys(a) as Array<keyof Numbers>) {
    const keys = new Set([...a[family].keys(), ...b[family].keys()]);
    for (const k of keys) if (a[family].get(k) !== b[family].get(k)) out.push(`${family} ${k}`);
  }
  return out;
}

test('every item malformed (a changed shape) fails the collector naming the first bad field; its last values stay, up 0', async (t) => {
  const { sim, exporter } = await setUp(101);
  try {
    assert.deepEqual((await exporter.collection.runCycle()).failed, []);
    const good = exportedNumbers(exporter.snapshot.sentryText);
    assert.ok(good.monitors.size > 0, 'monitor series');
    // The shape the spec documents for monitors (environments as an object), on every monitor; issues whose
    // count is text, on every issue.
    sim.setFaults({ wrongTypeRate: 1, wrongTypeItems: 'all', endpoints: [MONITORS, ISSUES] });
    const report = await exporter.collection.runCycle();
    assert.deepEqual(report.failed.sort(), ['issues', 'monitors']);
    assert.equal(await selfValue(exporter, 'sentry_exporter_up'), 0);
    const now = exportedNumbers(exporter.snapshot.sentryText);
    assert.deepEqual(now.monitors, good.monitors, 'the last good monitor values stay');
    assert.deepEqual(now.buckets, good.buckets, 'and the issue windows');
    assert.deepEqual(now.open, good.open);

    const health = (await (await fetch(`${exporter.url}/healthz`)).json()) as HealthBody;
    const monitors = health.collectors['monitors'];
    assert.equal(monitors?.state, 'failing');
    assert.equal(monitors?.lastError?.endpoint, MONITORS);
    assert.match(
      monitors?.lastError?.message ?? '',
      /^Unexpected response from Sentry http:\/\/127\.0\.0\.1:\d+\/api\/0\/organizations\/acme\/monitors\/: (\d+) of \1 items malformed, more than 50 %: the answer does not have the shape the exporter reads \(has Sentry's API changed\?\); the first: \[0\]\.environments should be an array, got an object$/,
    );
    assert.match(
      health.collectors['issues']?.lastError?.message ?? '',
      /\/issues\/: (\d+) of \1 items malformed, .*the first: \[0\]\.count should be a non-negative integer string, got "abc"$/,
    );
    assert.equal(
      await selfValue(exporter, 'sentry_exporter_items_skipped_total', { endpoint: MONITORS }),
      undefined,
    );

    sim.setFaults({});
    assert.deepEqual((await exporter.collection.runCycle()).failed, []);
    assert.equal(await selfValue(exporter, 'sentry_exporter_up'), 1);
    t.diagnostic(`monitors: "${monitors?.lastError?.message}"`);
  } finally {
    await exporter.stop();
    await sim.close();
  }
});

test('one malformed group of stats_v2 and of sessions is left out and counted; the families are published', async (t) => {
  const { sim, exporter } = await setUp(102);
  try {
    assert.deepEqual((await exporter.collection.runCycle()).failed, []);
    sim.setFaults({ malformedGroups: 1, endpoints: [STATS, SESSIONS] });
    sim.resetCounters();
    const report = await exporter.collection.runCycle();
    assert.deepEqual(report.failed, [], 'neither outcomes nor release health fails');
    const answers = (endpoint: string) =>
      sim.counters().requests.filter((r) => r.endpoint === endpoint && r.status === 200).length;
    const skipped = {
      stats: (await selfValue(exporter, 'sentry_exporter_items_skipped_total', { endpoint: STATS })) ?? 0,
      sessions:
        (await selfValue(exporter, 'sentry_exporter_items_skipped_total', { endpoint: SESSIONS })) ?? 0,
    };
    // One group of each answer that had one.
    assert.ok(skipped.stats >= 1 && skipped.stats <= answers(STATS), `stats_v2: ${skipped.stats}`);
    assert.ok(
      skipped.sessions >= 1 && skipped.sessions <= answers(SESSIONS),
      `sessions: ${skipped.sessions}`,
    );
    // Every other value is Sentry's. The counters built from a group left out keep their values of the first
    // run (the same as Sentry's here: its data did not change), never less: sentry_outcomes_*, sentry_events_total,
    // sentry_quota_usage_total and sentry_sessions_total equal the truth. A gauge built from it is missing or
    // off: a sessions group touches the crash-free ratios of its project and environment.
    const got = exportedNumbers(exporter.snapshot.sentryText);
    const diff = differences(got, expectedNumbers(sim.truth()));
    const gauges: Array<keyof Numbers> = [
      'crashFreeSessions',
      'crashFreeUsers',
      'releaseCrashFreeSessions',
      'releaseCrashFreeUsers',
    ];
    for (const family of Object.keys(got) as Array<keyof Numbers>) {
      const differing = diff.filter((d) => d.startsWith(`${family} `));
      const most = gauges.includes(family) ? skipped.sessions : 0;
      assert.ok(differing.length <= most, `${family}: ${differing.join(', ')}`);
    }
    assert.ok(got.outcomes.size > 0 && got.sessions.size > 0, 'both families published');
    t.diagnostic(
      `${skipped.stats} stats_v2 and ${skipped.sessions} sessions groups left out; series that differ from the truth: ${diff.join(', ')}`,
    );
  } finally {
    await exporter.stop();
    await sim.close();
  }
});

test('a group repeated within a stats_v2 or sessions answer counts once', async () => {
  const { sim, exporter } = await setUp(103);
  try {
    sim.setFaults({ repeatFirstGroup: true, endpoints: [STATS, SESSIONS] });
    assert.deepEqual((await exporter.collection.runCycle()).failed, []);
    assert.deepEqual(
      differences(exportedNumbers(exporter.snapshot.sentryText), expectedNumbers(sim.truth())),
      [],
    );
    for (const endpoint of [STATS, SESSIONS]) {
      const n = await selfValue(exporter, 'sentry_exporter_duplicate_items_total', { endpoint });
      assert.ok((n ?? 0) >= 1, `${endpoint}: ${n} duplicates counted`);
    }
  } finally {
    await exporter.stop();
    await sim.close();
  }
});

/** Two open issues, moved `aheadMs` and twice that into the future. */
function moveTwoIntoTheFuture(sim: SentrySimulator, aheadMs: number): string[] {
  const ids = [...new Set(sim.truth().openIssues.map((i) => i.issueId))].sort().slice(0, 2);
  ids.forEach((id, i) => sim.setIssueFirstSeen(id, Date.now() + (i + 1) * aheadMs));
  return ids;
}

test('an issue first seen in the future counts as first seen now: in every window, and as the newest open issue', async () => {
  const { sim, exporter } = await setUp(104, { SENTRY_OPEN_ISSUES_MAX: '1' });
  try {
    const ids = moveTwoIntoTheFuture(sim, 2 * 24 * 3_600_000);
    assert.deepEqual((await exporter.collection.runCycle()).failed, []);
    const got = exportedNumbers(exporter.snapshot.sentryText);
    const want = expectedNumbers(sim.truth());
    assert.deepEqual(got.buckets, want.buckets, 'counted in 1h, 24h and 14d');
    // Both are as new as an issue can be: the tie goes to the smaller id, not to the one further ahead.
    const kept = [...got.open.keys()].map((k) => k.split('/')[0]);
    assert.deepEqual(kept, [ids[0]]);
    assert.equal(await selfValue(exporter, 'sentry_exporter_open_issue_series_dropped'), want.open.size - 1);
  } finally {
    await exporter.stop();
    await sim.close();
  }
});

test("a 410 Gone names Sentry's message and deprecation headers; sentry_exporter_api_deprecated says which endpoint", async (t) => {
  const { sim, exporter, logs } = await setUp(105);
  try {
    assert.deepEqual((await exporter.collection.runCycle()).failed, []);
    const deprecated = {
      date: '2026-01-15T00:00:00+00:00',
      replacement: '/api/0/organizations/{org}/crons/',
    };
    // Before the date Sentry warns on every answer: nothing fails, the gauge and one log line say so.
    sim.setFaults({ endpoints: [MONITORS], deprecated });
    assert.deepEqual((await exporter.collection.runCycle()).failed, []);
    assert.equal(await selfValue(exporter, 'sentry_exporter_api_deprecated', { endpoint: MONITORS }), 1);
    const warnings = logs()
      .split('\n')
      .filter((l) => l.includes('is deprecated'));
    assert.equal(warnings.length, 1, 'logged once');
    assert.match(
      warnings[0]!,
      /deprecated since 2026-01-15T00:00:00\+00:00, replaced by \/api\/0\/organizations\/\{org\}\/crons\//,
    );

    // During a brownout: 410 with `{"message": ...}`.
    sim.setFaults({ endpoints: [MONITORS], deprecated: { ...deprecated, gone: true } });
    assert.deepEqual((await exporter.collection.runCycle()).failed, ['monitors']);
    const error = exporter.collection.readiness().collectors['monitors']?.lastError;
    assert.equal(error?.status, 410);
    assert.equal(error?.detail, 'This API no longer exists.');
    assert.match(
      error?.message ?? '',
      /^Sentry http:\/\/127\.0\.0\.1:\d+\/api\/0\/organizations\/acme\/monitors\/ answered HTTP 410: This API no longer exists\. \(Sentry has removed this endpoint, or is browning it out before it does; deprecated since 2026-01-15T00:00:00\+00:00, replaced by \/api\/0\/organizations\/\{org\}\/crons\/\)$/,
    );

    // The brownout over and the headers gone: the gauge says so, the collector recovers.
    sim.setFaults({});
    assert.deepEqual((await exporter.collection.runCycle()).failed, []);
    assert.equal(await selfValue(exporter, 'sentry_exporter_api_deprecated', { endpoint: MONITORS }), 0);
    t.diagnostic(`"${error?.message}"`);
  } finally {
    await exporter.stop();
    await sim.close();
  }
});
