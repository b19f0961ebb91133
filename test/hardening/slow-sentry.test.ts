import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { healthWhen, startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { logRecords, selfValue, waitUntil } from './helpers.js';
import type { LogRecord } from './helpers.js';

/**
 * Sentry answers slower than SENTRY_API_TIMEOUT: each attempt is abandoned at the timeout and retried, the
 * cycle deadline ends a cycle that would otherwise run on, and the ticks that come meanwhile are skipped
 * and counted: cycles never overlap.
 */
test('slow Sentry: attempts abandoned at the timeout, runs end at their deadline, overlapping ticks skipped', async (t) => {
  const sim = await startSimulator({
    seed: 23,
    projects: 4,
    environmentsPerProject: 2,
    issuesPerProject: 30,
  });
  const { exporter, logs } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '1',
    SENTRY_CYCLE_DEADLINE: '3',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
    SENTRY_API_RATE: '40',
    SENTRY_API_CONCURRENCY: '2',
    SENTRY_API_TIMEOUT: '0.5',
    // Six attempts of 0.5 s plus backoff outlast the 3 s deadline, so every slow cycle ends by its deadline.
    SENTRY_RETRY_TRIES: '6',
  });
  try {
    // up is 1 from the start (nothing has failed yet): a first good cycle is every collector's state ok.
    await healthWhen(exporter.url, 'a first good cycle', (body) =>
      Object.values(body.collectors).every((c) => c.state === 'ok'),
    );
    const good = exportedNumbers(exporter.snapshot.sentryText);
    const cut = logs().length;
    const skippedBefore = (await selfValue(exporter, 'sentry_exporter_cycles_skipped_total')) ?? 0;
    sim.resetCounters();
    const hungAt = Date.now();
    sim.setFaults({ hangRate: 1, hangMs: 5000 });
    const isCycleEnd = (r: LogRecord) => r.msg.startsWith('collection cycle done');
    const startedSlow = (r: LogRecord) => r.time - (r.durationMs as number) >= hungAt;
    const isDeadlineFailure = (r: LogRecord) =>
      r.msg === 'collector failed; keeping its last good values' &&
      JSON.stringify(r.error).includes('deadline');
    const skippedSince = async () =>
      ((await selfValue(exporter, 'sentry_exporter_cycles_skipped_total')) ?? 0) - skippedBefore;
    // Slow until what the test is about has happened: two cycles started and ended (by their deadline)
    // while Sentry hung, a collector failure that names the deadline, and two ticks skipped meanwhile.
    await waitUntil(
      'two cycles cut by their deadline and two skipped ticks',
      async () => {
        const records = logRecords(logs().slice(cut));
        return (
          records.filter(isCycleEnd).filter(startedSlow).length >= 2 &&
          records.some(isDeadlineFailure) &&
          (await skippedSince()) >= 2
        );
      },
      60_000,
      200,
    );
    const outage = logRecords(logs().slice(cut));
    sim.setFaults({});
    const slowMs = Date.now() - hungAt;

    const c = sim.counters();
    // Each logical call tries up to 6 times, each attempt abandoned after 0.5 s (+ 50 ms, 100 ms, ... backoff),
    // so the same URL comes back at least ~0.5 s later; it is never a fresh request while the old one hangs.
    const byUrl = new Map<string, number[]>();
    for (const r of c.requests.filter((r) => r.at >= hungAt)) {
      const key = `${r.endpoint}?${JSON.stringify(r.query)}`;
      byUrl.set(key, [...(byUrl.get(key) ?? []), r.at]);
    }
    const gaps: number[] = [];
    for (const times of byUrl.values())
      for (let i = 1; i < times.length; i++) gaps.push(times[i]! - times[i - 1]!);
    assert.ok(gaps.length > 0, 'abandoned requests were retried');
    // A lower bound: a busy machine only makes the gaps longer.
    assert.ok(
      Math.min(...gaps) >= 450,
      `retries come after the 0.5 s timeout, smallest gap ${Math.min(...gaps)} ms`,
    );
    assert.ok(c.maxConcurrent <= 2, `at most SENTRY_API_CONCURRENCY requests in flight: ${c.maxConcurrent}`);

    const cycles = outage.filter(isCycleEnd);
    for (const r of cycles.filter(startedSlow)) {
      // The deadline is 3 s; the extra second is for a busy machine, far below the 4 × 0.5 s attempts of
      // every one of the cycle's calls that a cycle without a deadline would take.
      assert.ok(
        (r.durationMs as number) < 3000 + 1000,
        `cycle ${String(r.cycle)} ran ${String(r.durationMs)} ms; deadline 3 s`,
      );
      assert.ok(
        (r.failed as string[]).length > 0,
        'a cycle cut by its deadline reports its collectors failed',
      );
    }
    assert.deepEqual(
      exportedNumbers(exporter.snapshot.sentryText),
      good,
      'the last good values stay published',
    );

    await waitUntil('recovery', async () => (await selfValue(exporter, 'sentry_exporter_up')) === 1);
    assert.deepEqual(exportedNumbers(exporter.snapshot.sentryText), expectedNumbers(sim.truth()));
    // A collector is never started while its previous run goes on: the ticks in between are skipped,
    // counted, and logged once per run that overran (when the run ends, so only now are all in the log).
    const skipped = await skippedSince();
    assert.ok(skipped >= 2, `ticks during a running collector are skipped and counted: ${skipped}`);
    const skipLines = logRecords(logs().slice(cut)).filter((r) =>
      r.msg.startsWith('a collector run took longer than its interval'),
    );
    assert.equal(
      skipLines.reduce((n, r) => n + (r.skipped as number), 0),
      skipped,
      'every skipped tick is in the log',
    );
    t.diagnostic(
      `slow Sentry for ${slowMs} ms: ${c.total} requests (${byUrl.size} distinct URLs), retry gaps ${Math.min(...gaps)}–${Math.max(...gaps)} ms; ` +
        `cycles ${cycles.map((r) => `${String(r.durationMs)} ms`).join(', ')}; ${skipped} ticks skipped; max in flight ${c.maxConcurrent}`,
    );
  } finally {
    await exporter.stop();
    await sim.close();
  }
});
