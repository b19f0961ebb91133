/**
 * A collector run publishes its progress: the issue windows and event totals as soon as they are known,
 * each open issue once its current release is (newest issues first), never a placeholder release; and a run
 * abandoned at its deadline keeps what it looked up. The release lookups go through a gate in front of the
 * simulator, so the test decides when each answer arrives.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import type { OpenIssueTruth, SentrySimulator } from '../../sim/index.js';
import { parseExposition, startExporterAgainst } from '../helpers/exporter.js';
import { startGate } from '../helpers/gate.js';
import type { Gate } from '../helpers/gate.js';
import { exportedNumbers, expectedNumbers } from '../helpers/truth.js';

const RELEASE_LOOKUP = /\/issues\/[^/]+\/current-release\//;

/** Polls until `check` holds (or fails after `ms`). */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `issueId/environment` of a release lookup's path. */
function seriesOf(path: string): string {
  const url = new URL(path, 'http://x');
  const id = /\/issues\/([^/]+)\/current-release\//.exec(url.pathname)?.[1] ?? '';
  return `${id}/${url.searchParams.get('environment') ?? 'None'}`;
}

/** Open issue series newest first, as the collector orders them (first seen, issue id, environment). */
function newestFirst(truth: OpenIssueTruth[]): string[] {
  return [...truth]
    .sort(
      (a, b) =>
        b.firstSeen.localeCompare(a.firstSeen) ||
        a.issueId.localeCompare(b.issueId) ||
        a.environment.localeCompare(b.environment),
    )
    .map((i) => `${i.issueId}/${i.environment}`);
}

/** The numbers of the families the default settings export. */
function defaultFamilies(numbers: ReturnType<typeof exportedNumbers>) {
  return { buckets: numbers.buckets, open: numbers.open, events: numbers.events };
}

/** Every open-issue series of the exposition with its release label. */
function releasesShown(text: string): Map<string, string> {
  return new Map(
    parseExposition(text)
      .filter((r) => r.name === 'sentry_open_issue_events')
      .map((r) => [`${r.labels.issue_id}/${r.labels.environment}`, r.labels.release ?? '']),
  );
}

async function setUp(env: NodeJS.ProcessEnv = {}): Promise<{
  sim: SentrySimulator;
  gate: Gate;
  exporter: Awaited<ReturnType<typeof startExporterAgainst>>['exporter'];
  close(): Promise<void>;
}> {
  const sim = await startSimulator({
    seed: 21,
    projects: 6,
    environmentsPerProject: 2,
    issuesPerProject: 40,
  });
  const gate = await startGate(sim, (path) => RELEASE_LOOKUP.test(path));
  const { exporter } = await startExporterAgainst(sim, {
    SENTRY_BASE_URL: gate.baseUrl,
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_METADATA_INTERVAL: '36000',
    SENTRY_API_RATE: '100',
    // One collector holds at most half of the request slots: two lookups under way at a time.
    SENTRY_API_CONCURRENCY: '4',
    ...env,
  });
  return {
    sim,
    gate,
    exporter,
    async close() {
      await gate.close();
      await exporter.stop();
      await sim.close();
    },
  };
}

test('windows and events are published before any release is known; each open issue appears with its true release, newest first', async () => {
  const t = await setUp();
  try {
    const truth = t.sim.truth();
    const trueRelease = new Map(
      truth.openIssues.map((i) => [`${i.issueId}/${i.environment}`, i.release ?? 'None']),
    );
    const order = newestFirst(truth.openIssues);
    assert.ok(order.length > 8, `${order.length} open issue series`);
    const wrong: string[] = [];
    const watch = () => {
      for (const [series, release] of releasesShown(t.exporter.snapshot.sentryText))
        if (trueRelease.get(series) !== release) wrong.push(`${series}: ${release}`);
    };

    const cycle = t.exporter.collection.runCycle();
    // Two lookups under way (half of SENTRY_API_CONCURRENCY, the most one collector holds): the two newest
    // series, held by the gate.
    await t.gate.whenWaiting(2);
    assert.deepEqual(new Set(t.gate.waiting().map(seriesOf)), new Set(order.slice(0, 2)));
    await until('the windows and event totals on /metrics', () => {
      const got = exportedNumbers(t.exporter.snapshot.sentryText);
      const want = expectedNumbers(truth);
      return got.buckets.size > 0 && got.events.size > 0 && got.buckets.size === want.buckets.size;
    });
    const early = exportedNumbers(t.exporter.snapshot.sentryText);
    const want = expectedNumbers(truth);
    assert.deepEqual(early.buckets, want.buckets);
    assert.deepEqual(early.events, want.events);
    assert.equal(early.open.size, 0, 'no open issue before its release is known');
    assert.equal(t.exporter.collection.readiness().ready, true, 'ready with the windows published');
    assert.equal((await fetch(`${t.exporter.url}/healthz`)).status, 200);

    // One answer: its series appears, with its release; the next newest series is asked for.
    const first = t.gate.waiting()[0]!;
    t.gate.release(1);
    await until('the first answered series on /metrics', () =>
      releasesShown(t.exporter.snapshot.sentryText).has(seriesOf(first)),
    );
    watch();
    await t.gate.whenWaiting(2);
    assert.ok(t.gate.waiting().map(seriesOf).includes(order[2]!), 'the third newest is asked for next');

    for (let released = 1; released < order.length; released++) {
      await t.gate.whenWaiting(Math.min(2, order.length - released));
      t.gate.release(1);
      watch();
    }
    const report = await cycle;
    watch();
    assert.deepEqual(report.failed, []);
    // Issue queries leave out the per-issue stats series, which the exporter does not read: with
    // `groupStatsPeriod=` Sentry sends no `stats` (docs/sentry-api.md §3.1, `stats`).
    const listings = t.sim.counters().requests.filter((r) => r.endpoint === '/organizations/{org}/issues/');
    assert.ok(listings.length > 0, 'the issues endpoint was queried');
    for (const r of listings) assert.equal(r.query.groupStatsPeriod, '');
    const arrived = t.gate.arrived().map(seriesOf);
    // The first two were asked for at once (either may arrive first); every later one alone, in order.
    assert.deepEqual(new Set(arrived.slice(0, 2)), new Set(order.slice(0, 2)));
    assert.deepEqual(arrived.slice(2), order.slice(2), 'every series asked for once, newest first');
    assert.deepEqual(wrong, [], 'no series ever shown with a release other than its own');
    const text = t.exporter.snapshot.sentryText;
    assert.deepEqual(defaultFamilies(exportedNumbers(text)), defaultFamilies(expectedNumbers(t.sim.truth())));
    assert.deepEqual(releasesShown(text), trueRelease);
  } finally {
    await t.close();
  }
});

test('a run abandoned at its deadline keeps the releases it looked up and what it published; the next run asks only for the rest', async () => {
  const t = await setUp({ SENTRY_CYCLE_DEADLINE: '5' });
  try {
    const truth = t.sim.truth();
    const order = newestFirst(truth.openIssues);
    const cycle = t.exporter.collection.runCycle();
    await t.gate.whenWaiting(2);
    t.gate.release(2);
    await t.gate.whenWaiting(2);
    t.gate.release(1);
    const answered = order.slice(0, 3);
    const first = await cycle;
    assert.deepEqual(first.failed, ['issues'], 'the issues run passed its 5 s deadline');
    const shown = releasesShown(t.exporter.snapshot.sentryText);
    assert.deepEqual(new Set(shown.keys()), new Set(answered), 'what the abandoned run learnt is published');
    assert.deepEqual(
      exportedNumbers(t.exporter.snapshot.sentryText).buckets,
      expectedNumbers(truth).buckets,
      'and so are its windows',
    );

    // The lookups under way at the deadline were abandoned by the exporter: they leave the gate unanswered.
    await until('the abandoned lookups to go', () => t.gate.waiting().length === 0);
    t.gate.open();
    t.sim.resetCounters();
    const second = await t.exporter.collection.runCycle();
    assert.deepEqual(second.failed, []);
    const lookups = t.sim.counters().byEndpoint['/organizations/{org}/issues/{issue_id}/current-release/'];
    assert.equal(
      lookups,
      order.length - answered.length,
      'the answers of the abandoned run are not asked again',
    );
    assert.deepEqual(
      defaultFamilies(exportedNumbers(t.exporter.snapshot.sentryText)),
      defaultFamilies(expectedNumbers(t.sim.truth())),
    );
  } finally {
    await t.close();
  }
});
