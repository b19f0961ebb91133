/**
 * The release cache against the simulator: answers kept across runs, stale answers served while a share of
 * them is refreshed, answers of series no longer open forgotten.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_FAILED_LOOKUPS, ReleaseCache } from '../../src/collectors/issue-releases.js';
import type { ReleaseTarget } from '../../src/collectors/issue-releases.js';
import { startSimulator } from '../../sim/index.js';
import { FAST_RETRY, makeClient } from '../sentry/helpers.js';

const LOOKUP = '/organizations/{org}/issues/{issue_id}/current-release/';

test('answers are kept across runs; stale ones are served at once while a share of them is refreshed, oldest first', async () => {
  const sim = await startSimulator({ seed: 7, projects: 4, environmentsPerProject: 2, issuesPerProject: 40 });
  const { client } = makeClient(sim.url, { token: sim.token, org: sim.org });
  try {
    const open = sim.truth().openIssues;
    assert.ok(open.length >= 8, `${open.length} open series`);
    const targets: ReleaseTarget[] = open.map((i) => ({
      issueId: i.issueId,
      project: i.project,
      environment: i.environment === 'None' ? null : i.environment,
    }));
    // Fresh for 1,000 ms, a run every 250 ms: a run refreshes a quarter of the stale answers.
    const cache = new ReleaseCache({ api: client, ttlMs: 1000, intervalMs: 250, concurrency: 3 });
    const signal = new AbortController().signal;
    const run = async (list: ReleaseTarget[], now: number) => {
      const known = new Map<number, string | null>();
      const before = sim.counters().byEndpoint[LOOKUP] ?? 0;
      const resolving = cache.resolve(list, now, signal, (i, release) => known.set(i, release));
      const atOnce = known.size;
      const { lookups } = await resolving;
      const asked = (sim.counters().byEndpoint[LOOKUP] ?? 0) - before;
      assert.equal(asked, lookups);
      return { known, atOnce, asked };
    };

    const first = await run(targets, 0);
    assert.equal(first.atOnce, 0);
    assert.equal(first.asked, targets.length);
    assert.deepEqual(
      [...first.known].sort((a, b) => a[0] - b[0]).map(([, r]) => r),
      open.map((i) => i.release),
      'each series gets its own current release',
    );

    const fresh = await run(targets, 999);
    assert.equal(fresh.asked, 0, 'fresh answers are not asked again');
    assert.equal(fresh.atOnce, targets.length, 'and are known at once');

    const stale = await run(targets, 1000);
    assert.equal(stale.atOnce, targets.length, 'stale answers are still served at once');
    assert.equal(stale.asked, Math.ceil(targets.length / 4), 'a quarter of them is refreshed');

    // The refreshed quarter are the first targets (equally old, in the order given); asking for only two of
    // those forgets every other answer.
    const two = await run(targets.slice(0, 2), 1000);
    assert.equal(two.asked, 0);
    const back = await run(targets, 1000);
    assert.equal(back.asked, targets.length - 2, 'forgotten answers are asked again');
  } finally {
    await client.close();
    await sim.close();
  }
});

test('failed lookups leave their series out and are asked again next run; past MAX_FAILED_LOOKUPS a run asks no more', async () => {
  const sim = await startSimulator({
    seed: 8,
    projects: 6,
    environmentsPerProject: 2,
    issuesPerProject: 120,
  });
  const { client } = makeClient(sim.url, {
    token: sim.token,
    org: sim.org,
    rate: 200,
    retry: { ...FAST_RETRY, tries: 1 },
  });
  try {
    const open = sim.truth().openIssues;
    assert.ok(open.length > MAX_FAILED_LOOKUPS + 10, `${open.length} open series`);
    const targets: ReleaseTarget[] = open.map((i) => ({
      issueId: i.issueId,
      project: i.project,
      environment: i.environment === 'None' ? null : i.environment,
    }));
    const cache = new ReleaseCache({ api: client, ttlMs: 60_000, intervalMs: 1000, concurrency: 3 });
    const signal = new AbortController().signal;
    const run = async () => {
      const known = new Map<number, string | null>();
      sim.resetCounters();
      const result = await cache.resolve(targets, 0, signal, (i, release) => known.set(i, release));
      return { ...result, known, asked: sim.counters().byEndpoint[LOOKUP] ?? 0 };
    };

    // Every lookup fails: a run stops asking after MAX_FAILED_LOOKUPS (and those already under way).
    sim.setFaults({ releaseErrorsFor: [...new Set(open.map((i) => i.issueId))] });
    const down = await run();
    assert.equal(down.known.size, 0, 'no series reported');
    assert.equal(down.failed, targets.length, 'each failed or put off');
    assert.ok(down.asked >= MAX_FAILED_LOOKUPS && down.asked < MAX_FAILED_LOOKUPS + 3, `${down.asked} asked`);
    assert.equal(down.firstFailure?.status, 500);

    // One issue still fails: its series only are missing; the others are kept and not asked again.
    const bad = open[5]!.issueId;
    sim.setFaults({ releaseErrorsFor: [bad] });
    const one = await run();
    const badSeries = open.filter((i) => i.issueId === bad).length;
    assert.equal(one.failed, badSeries);
    assert.equal(one.known.size, targets.length - badSeries);
    const again = await (async () => {
      sim.setFaults({});
      return run();
    })();
    assert.equal(again.asked, badSeries, 'only the failed ones are asked again');
    assert.equal(again.failed, 0);
    assert.equal(again.known.size, targets.length);
  } finally {
    await client.close();
    await sim.close();
  }
});
