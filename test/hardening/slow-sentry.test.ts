import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { delay, logRecords, selfValue, waitUntil } from './helpers.js';

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
    SENTRY_RETRY_TRIES: '4',
  });
  try {
    await waitUntil(
      'a first good cycle',
      async () => (await selfValue(exporter, 'sentry_exporter_up')) === 1,
    );
    const good = exportedNumbers(exporter.snapshot.sentryText);
    const cut = logs().length;
    const skippedBefore = (await selfValue(exporter, 'sentry_exporter_cycles_skipped_total')) ?? 0;
    sim.resetCounters();
    sim.setFaults({ hangRate: 1, hangMs: 5000 });
    const hungAt = Date.now();
    await delay(8000);
    sim.setFaults({});

    const c = sim.counters();
    // Each logical call tries 4 times, each attempt abandoned after 0.5 s (+ 50 ms, 100 ms, 200 ms backoff),
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
    assert.ok(
      Math.min(...gaps) >= 450,
      `retries come after the 0.5 s timeout, smallest gap ${Math.min(...gaps)} ms`,
    );
    assert.ok(c.maxConcurrent <= 2, `at most SENTRY_API_CONCURRENCY requests in flight: ${c.maxConcurrent}`);

    const outage = logRecords(logs().slice(cut));
    const cycles = outage.filter((r) => r.msg.startsWith('collection cycle done'));
    assert.ok(cycles.length >= 2, `${cycles.length} cycles ended during the slow period`);
    for (const r of cycles.filter(
      (r) => r.time < hungAt + 7000 && r.time - (r.durationMs as number) >= hungAt,
    )) {
      assert.ok(
        (r.durationMs as number) < 3000 + 1000,
        `cycle ${String(r.cycle)} ran ${String(r.durationMs)} ms; deadline 3 s`,
      );
      assert.ok(
        (r.failed as string[]).length > 0,
        'a cycle cut by its deadline reports its collectors failed',
      );
    }
    const deadlineFailures = outage.filter(
      (r) =>
        r.msg === 'collector failed; keeping its last good values' &&
        JSON.stringify(r.error).includes('deadline'),
    );
    assert.ok(deadlineFailures.length > 0, 'a collector failure names the cycle deadline');
    // A collector is never started while its previous run goes on: the ticks in between are skipped,
    // counted, and logged once per run that overran.
    const skipped =
      ((await selfValue(exporter, 'sentry_exporter_cycles_skipped_total')) ?? 0) - skippedBefore;
    assert.ok(skipped >= 2, `ticks during a running collector are skipped and counted: ${skipped}`);
    const skipLines = outage.filter((r) => r.msg.startsWith('a collector run took longer than its interval'));
    assert.equal(
      skipLines.reduce((n, r) => n + (r.skipped as number), 0),
      skipped,
      'every skipped tick is in the log',
    );
    assert.deepEqual(
      exportedNumbers(exporter.snapshot.sentryText),
      good,
      'the last good values stay published',
    );

    await waitUntil('recovery', async () => (await selfValue(exporter, 'sentry_exporter_up')) === 1);
    assert.deepEqual(exportedNumbers(exporter.snapshot.sentryText), expectedNumbers(sim.truth()));
    t.diagnostic(
      `slow Sentry for 8 s: ${c.total} requests (${byUrl.size} distinct URLs), retry gaps ${Math.min(...gaps)}–${Math.max(...gaps)} ms; ` +
        `cycles ${cycles.map((r) => `${String(r.durationMs)} ms`).join(', ')}; ${skipped} ticks skipped; max in flight ${c.maxConcurrent}`,
    );
  } finally {
    await exporter.stop();
    await sim.close();
  }
});
