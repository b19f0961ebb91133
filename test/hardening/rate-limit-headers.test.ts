/**
 * Rate-limit headers that make no sense can never stop an endpoint for good. One answer carrying
 * `X-Sentry-Rate-Limit-Limit: 0` and `Remaining: 0` (a proxy's or a misconfigured server's headers) used to
 * hold the issues endpoint forever: every later window was predicted empty. Now a Limit below 1 is ignored,
 * and a `Remaining: 0` whose Reset lies an hour ahead holds the endpoint for at most MAX_HOLD_MS (10 s); a
 * run whose deadline passes meanwhile fails saying what it waited for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_HOLD_MS } from '../../src/sentry/rate-limit.js';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { waitUntil } from './helpers.js';

const ISSUES = '/organizations/{org}/issues/';

/** When (wall clock, ms) the sim answered the issues endpoint, in order. */
/** 4 projects × 2 environments × 250 issues (several pages each), cycles only when a test asks. */
async function setUp(seed: number, env: NodeJS.ProcessEnv = {}) {
  const sim = await startSimulator({ seed, projects: 4, environmentsPerProject: 2, issuesPerProject: 250 });
  const { exporter } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_METADATA_INTERVAL: '3600',
    SENTRY_API_RATE: '40',
    ...env,
  });
  return { sim, exporter };
}

function issueAnswers(sim: SentrySimulator): number[] {
  return sim
    .counters()
    .requests.filter((r) => r.endpoint === ISSUES && r.status === 200)
    .map((r) => r.at);
}

test('Limit 0 and Remaining 0 on one answer: ignored, the issues endpoint is asked again at once', async (t) => {
  const { sim, exporter } = await setUp(93);
  try {
    assert.deepEqual((await exporter.collection.runCycle()).failed, []);
    sim.resetCounters();
    const reset = String(Math.floor(Date.now() / 1000) + 3600);
    sim.setFaults({
      endpoints: [ISSUES],
      headers: {
        'X-Sentry-Rate-Limit-Limit': '0',
        'X-Sentry-Rate-Limit-Remaining': '0',
        'X-Sentry-Rate-Limit-Reset': reset,
      },
      headersTimes: 1,
    });
    const report = await exporter.collection.runCycle();
    assert.deepEqual(report.failed, []);
    const again = await exporter.collection.runCycle();
    assert.deepEqual(again.failed, []);
    const answers = issueAnswers(sim);
    assert.ok(answers.length >= 4, `${answers.length} issue answers`);
    // The longest gap between two issue answers: no hold at all.
    const gaps = answers.slice(1).map((at, i) => at - answers[i]!);
    const longest = Math.max(...gaps) / 1000;
    assert.ok(longest < MAX_HOLD_MS / 1000, `longest gap ${longest} s`);
    assert.deepEqual(
      exportedNumbers(exporter.snapshot.sentryText).buckets,
      expectedNumbers(sim.truth()).buckets,
    );
    t.diagnostic(
      `${answers.length} issue answers in two cycles after the poisoned one; longest gap ${longest.toFixed(2)} s`,
    );
  } finally {
    await exporter.stop();
    await sim.close();
  }
});

test('Remaining 0 until a Reset an hour ahead: held at most 10 s; a run whose deadline passes meanwhile says so; then recovery', async (t) => {
  const { sim, exporter } = await setUp(94, { SENTRY_CYCLE_DEADLINE: '6' });
  try {
    assert.deepEqual((await exporter.collection.runCycle()).failed, []);
    sim.resetCounters();
    sim.setFaults({
      endpoints: [ISSUES],
      headers: {
        'X-Sentry-Rate-Limit-Limit': '40',
        'X-Sentry-Rate-Limit-Remaining': '0',
        'X-Sentry-Rate-Limit-Reset': String(Math.floor(Date.now() / 1000) + 3600),
      },
      headersTimes: 1,
    });
    const held = await exporter.collection.runCycle();
    const poisoned = issueAnswers(sim)[0]!;
    assert.deepEqual(held.failed, ['issues'], 'the issues run outlived its deadline while held');
    const error = exporter.collection.readiness().collectors['issues']?.lastError;
    assert.equal(error?.endpoint, ISSUES);
    assert.match(
      error?.message ?? '',
      /^Sentry http:\/\/127\.0\.0\.1:\d+\/api\/0\/organizations\/acme\/issues\/ call abandoned while held by Sentry's rate-limit headers for \d+ s more \(X-Sentry-Rate-Limit-Remaining 0, -Limit 40; one hold lasts at most 10 s\) \(cycle deadline of 6s passed\)$/,
    );

    // Run after run until the issues collector succeeds again: at most one hold after the poisoned answer.
    await waitUntil(
      'the issues collector to succeed again',
      async () => (await exporter.collection.runCycle()).failed.length === 0,
      60_000,
    );
    const after = issueAnswers(sim).filter((at) => at > poisoned);
    const recovery = (after[0]! - poisoned) / 1000;
    assert.ok(recovery >= (MAX_HOLD_MS - 1000) / 1000, `held ${recovery} s`);
    assert.ok(recovery < MAX_HOLD_MS / 1000 + 5, `recovered in ${recovery} s`);
    assert.deepEqual(
      exportedNumbers(exporter.snapshot.sentryText).buckets,
      expectedNumbers(sim.truth()).buckets,
    );
    t.diagnostic(
      `the next issues answer came ${recovery.toFixed(1)} s after the poisoned one; "${error?.message}"`,
    );
  } finally {
    await exporter.stop();
    await sim.close();
  }
});
