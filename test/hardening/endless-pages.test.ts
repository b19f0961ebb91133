/**
 * Issue pages that never end: `Link` keeps announcing a next page (`results="true"`, a new cursor each
 * time). The issues collector fails with a message naming the endpoint and the reason within a bounded
 * number of requests, the other collectors publish, and memory stays bounded whatever Sentry answers.
 *
 * Where it stops: at X-Hits plus a margin when Sentry counted (X-Hits below its cap of 1000); after three
 * pages in a row without a new issue (an empty or repeated page announcing more happens once in Sentry,
 * which guesses `results="true"` for a full page and drops deleted and auto-resolved issues after paging);
 * at SENTRY_API_MAX_ITEMS issues in one run otherwise.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import type { Faults, SentrySimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { logRecords, peakRss, scrapeRows, spawnBuilt, valueOf, waitUntil } from './helpers.js';

const ISSUES = '/organizations/{org}/issues/';
const FAILED = 'collector failed; keeping its last good values';

function issueRequests(sim: SentrySimulator): number {
  return sim.counters().byEndpoint[ISSUES] ?? 0;
}

const CASES: Array<{ what: string; faults: Faults; env?: NodeJS.ProcessEnv; reason: RegExp; most: number }> =
  [
    {
      what: 'new issues on every page, X-Hits sent',
      faults: { endlessPages: 'fresh' },
      reason: /pagination does not end: \d+ items listed and more announced, but X-Hits said \d+/,
      // X-Hits (a few hundred here) + 10 % or one page, per query.
      most: 40,
    },
    {
      what: 'the first page again and again',
      faults: { endlessPages: 'repeat' },
      reason: /3 pages in a row brought no new item, yet announce more/,
      most: 4 * 4,
    },
    {
      what: 'empty pages',
      faults: { endlessPages: 'empty' },
      reason: /3 pages in a row brought no new item, yet announce more/,
      most: 4 * 4,
    },
    {
      what: 'new issues on every page, no X-Hits',
      faults: { endlessPages: 'fresh', omitHits: true },
      env: { SENTRY_API_MAX_ITEMS: '3000' },
      reason:
        /this collector run listed \d+ items and more are announced, the most one run may list \(SENTRY_API_MAX_ITEMS\)/,
      most: 3000 / 100 + 4,
    },
  ];

for (const c of CASES) {
  test(`endless issue pages (${c.what}): the issues collector fails, bounded, naming the endpoint`, async (t) => {
    const sim = await startSimulator({
      seed: 71,
      projects: 5,
      environmentsPerProject: 2,
      issuesPerProject: 120,
    });
    const { exporter, logs } = await startExporterAgainst(sim, {
      SENTRY_POLL_INTERVAL: '3600',
      SENTRY_METADATA_INTERVAL: '3600',
      SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
      SENTRY_API_RATE: '200',
      ...c.env,
    });
    try {
      assert.deepEqual((await exporter.collection.runCycle()).failed, []);
      const good = exportedNumbers(exporter.snapshot.sentryText);
      sim.setFaults(c.faults);
      sim.resetCounters();
      const cut = logs().length;
      const report = await exporter.collection.runCycle();
      assert.deepEqual(report.failed, ['issues']);
      const requests = issueRequests(sim);
      assert.ok(requests <= c.most, `${requests} issue requests (at most ${c.most})`);

      const lines = logRecords(logs().slice(cut)).filter((r) => r.msg === FAILED);
      assert.equal(lines.length, 1, 'one error line');
      const err = lines[0]!.error as { endpoint: string; kind: string; message: string };
      assert.equal(err.endpoint, ISSUES);
      assert.equal(err.kind, 'parse');
      assert.ok(err.message.includes(`/api/0/organizations/${sim.org}/issues/`), err.message);
      assert.match(err.message, c.reason);

      // The issues keep their last good values; the other collectors published fresh ones.
      const now = exportedNumbers(exporter.snapshot.sentryText);
      const truth = expectedNumbers(sim.truth());
      assert.deepEqual(now.buckets, good.buckets);
      assert.deepEqual(now.open, good.open);
      assert.deepEqual(now.events, truth.events);
      assert.deepEqual(now.rateLimits, truth.rateLimits);

      sim.setFaults({});
      assert.deepEqual((await exporter.collection.runCycle()).failed, []);
      t.diagnostic(`${requests} issue requests; "${err.message}"`);
    } finally {
      await exporter.stop();
      await sim.close();
    }
  });
}

test('endless pages of new issues without X-Hits, default settings: bounded requests, peak RSS under 150 MB', async (t) => {
  const sim = await startSimulator({
    mode: 'self-hosted',
    seed: 72,
    projects: 6,
    environmentsPerProject: 2,
    issuesPerProject: 150,
  });
  /** Runs the exporter as its own process until `done`; its peak RSS, its log, and the issue requests. */
  const run = async (faults: Faults, what: string, done: (rows: Rows) => boolean) => {
    sim.setFaults(faults);
    sim.resetCounters();
    const child = await spawnBuilt({
      SENTRY_BASE_URL: sim.url,
      SENTRY_AUTH_TOKEN: sim.token,
      SENTRY_EXPORTER_ORG: sim.org,
      SENTRY_POLL_INTERVAL: '3600',
      SENTRY_METADATA_INTERVAL: '3600',
      SENTRY_API_RATE: '1000',
    });
    try {
      await waitUntil(what, async () => done(await scrapeRows(child.url)), 120_000);
      return { peak: peakRss(child.pid), log: child.output(), requests: issueRequests(sim) };
    } finally {
      await child.stop();
    }
  };
  try {
    const healthy = await run({}, 'a first good cycle', (rows) => valueOf(rows, 'sentry_exporter_up') === 1);
    const endless = await run(
      { endlessPages: 'fresh', omitHits: true },
      'the issues collector to fail',
      (rows) => (valueOf(rows, 'sentry_exporter_collection_errors_total', { collector: 'issues' }) ?? 0) > 0,
    );
    const failure = logRecords(endless.log)
      .filter((r) => r.msg.startsWith('collector failed'))
      .map((r) => r.error as { endpoint: string; message: string });
    assert.equal(failure.length, 1);
    assert.equal(failure[0]!.endpoint, ISSUES);
    assert.match(failure[0]!.message, /\/api\/0\/organizations\/acme\/issues\/.*SENTRY_API_MAX_ITEMS/);
    // 50 000 issues (the default SENTRY_API_MAX_ITEMS) at 100 a page, plus the pages of the queries that
    // were running at the same time.
    assert.ok(endless.requests <= 50_000 / 100 + 10, `${endless.requests} issue requests`);
    const mb = (bytes: number | undefined) =>
      bytes === undefined ? 'n/a' : `${(bytes / 1048576).toFixed(0)} MB`;
    const figures = `${endless.requests} issue requests; peak RSS ${mb(endless.peak)} (the same exporter through a healthy cycle: ${mb(healthy.peak)}, ${healthy.requests} issue requests)`;
    t.diagnostic(figures);
    if (endless.peak !== undefined) assert.ok(endless.peak < 150 * 1024 * 1024, figures);
    t.diagnostic(
      `${endless.requests} issue requests; peak RSS ${mb(endless.peak)} (the same exporter through a healthy cycle: ${mb(healthy.peak)}, ${healthy.requests} issue requests); "${failure[0]!.message}"`,
    );
  } finally {
    await sim.close();
  }
});

type Rows = Awaited<ReturnType<typeof scrapeRows>>;
