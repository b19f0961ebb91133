import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { healthWhen, startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { delay, logRecords, scrapeRows, valueOf, waitUntil } from './helpers.js';

/**
 * Sentry goes away for several cycles: /metrics keeps answering fast with the last good values, the
 * self-metrics and /healthz say the data is stale, /livez stays up, and each failing collector is logged
 * once per cycle. When Sentry comes back the next cycle recovers, without a restart.
 */
test('Sentry unreachable for several cycles: last good values served fast, stale signals, then recovery', async (t) => {
  const sim = await startSimulator({
    seed: 22,
    projects: 6,
    environmentsPerProject: 2,
    issuesPerProject: 40,
  });
  const { exporter, logs } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '1',
    SENTRY_READY_MAX_AGE: '3',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
    SENTRY_API_RATE: '40',
    SENTRY_API_TIMEOUT: '1',
    SENTRY_RETRY_TRIES: '3',
  });
  const url = exporter.url;
  try {
    // up is 1 from the start (nothing has failed yet): a first good run is every collector's state ok.
    await healthWhen(url, 'a first good run of every collector', (body) =>
      Object.values(body.collectors).every((c) => c.state === 'ok'),
    );
    const good = await (await fetch(`${url}/metrics`)).text();
    const goodNumbers = exportedNumbers(good);
    assert.deepEqual(goodNumbers, expectedNumbers(sim.truth()));

    await sim.stop();
    const stoppedAt = Date.now();
    const cutLog = logs().length;
    const stamps = new Set<number>();
    const scrapeMs: number[] = [];
    let sawUp0 = false;
    let healthz503At: number | undefined;
    // Without Sentry, scraping all the while, until the outage has shown everything the test checks: up 0,
    // /healthz 503 and three failed cycles (a few poll intervals).
    const failedCyclesSoFar = () =>
      logRecords(logs().slice(cutLog)).filter((r) => r.msg === 'collection cycle done with errors').length;
    const outageDeadline = Date.now() + 60_000;
    while (!(sawUp0 && healthz503At !== undefined && failedCyclesSoFar() >= 3)) {
      assert.ok(
        Date.now() < outageDeadline,
        'the outage showed up 0, /healthz 503 and 3 failed cycles within 60 s',
      );
      const t0 = performance.now();
      const res = await fetch(`${url}/metrics`);
      const text = await res.text();
      scrapeMs.push(performance.now() - t0);
      assert.equal(res.status, 200);
      assert.deepEqual(exportedNumbers(text), goodNumbers, 'the last good values stay published');
      const rows = (await scrapeRows(url)).filter((r) => r.name.startsWith('sentry_exporter_'));
      if (valueOf(rows, 'sentry_exporter_up') === 0) {
        sawUp0 = true;
        stamps.add(valueOf(rows, 'sentry_exporter_last_success_timestamp_seconds', { collector: 'issues' })!);
      }
      const live = await fetch(`${url}/livez`);
      assert.equal(live.status, 200, '/livez stays 200');
      const health = await fetch(`${url}/healthz`);
      if (health.status === 503 && healthz503At === undefined) {
        healthz503At = Date.now();
        const body = (await health.json()) as { reason: string };
        assert.match(body.reason, /no fresh data: .*issues data is \d+s old \(max 3s\)/);
      } else await health.arrayBuffer();
      await delay(100);
    }
    assert.ok(sawUp0, 'sentry_exporter_up turned 0');
    assert.equal(stamps.size, 1, `last_success_timestamp_seconds stopped moving: ${[...stamps].join(', ')}`);
    assert.ok(healthz503At !== undefined, '/healthz turned 503');
    // The data was at most one interval old when Sentry stopped; 503 comes once it is older than 3 s.
    assert.ok(
      healthz503At - stoppedAt >= 1500,
      `503 after ${healthz503At - stoppedAt} ms, not before the max age`,
    );
    const sorted = [...scrapeMs].sort((a, b) => a - b);
    const p99 = sorted[Math.floor(sorted.length * 0.99)]!;
    // A scrape that waited on Sentry would take at least SENTRY_API_TIMEOUT (1 s); typical scrapes take a
    // few ms. The bound is that timeout, so a busy machine does not fail the test, a blocking scrape does.
    assert.ok(p99 < 1000, `scrapes stay fast while Sentry is down: p99 ${p99.toFixed(1)} ms`);

    // One error line per failing collector per cycle, never one per request or per retry.
    const outage = logRecords(logs().slice(cutLog));
    const failedCycles = outage.filter((r) => r.msg === 'collection cycle done with errors');
    const failures = outage.filter((r) => r.msg === 'collector failed; keeping its last good values');
    assert.ok(failedCycles.length >= 3, `${failedCycles.length} failed cycles during the outage`);
    const expectedLines = failedCycles.reduce((n, r) => n + (r.failed as string[]).length, 0);
    assert.equal(failures.length, expectedLines, 'one line per failed collector and cycle');
    const pairs = new Set(failures.map((r) => `${String(r.cycle)}/${String(r.collector)}`));
    assert.equal(pairs.size, failures.length, 'no collector is logged twice in a cycle');
    for (const f of failures) {
      const err = f.error as { endpoint?: string; message?: string };
      assert.ok(
        err.endpoint?.startsWith('/organizations/'),
        `the line names the endpoint: ${JSON.stringify(f)}`,
      );
      assert.match(err.message ?? '', /unreachable/);
    }
    assert.equal(
      outage.filter(
        (r) => r.level >= 40 && !failures.includes(r) && r.msg !== 'collection cycle done with errors',
      ).length,
      0,
      'nothing else is logged at warn or above',
    );

    await sim.start();
    const restartedAt = Date.now();
    await waitUntil('recovery without a restart', async () => {
      const rows = await scrapeRows(url);
      return valueOf(rows, 'sentry_exporter_up') === 1 && (await fetch(`${url}/healthz`)).status === 200;
    });
    const recoveredMs = Date.now() - restartedAt;
    assert.deepEqual(
      exportedNumbers(await (await fetch(`${url}/metrics`)).text()),
      expectedNumbers(sim.truth()),
    );
    t.diagnostic(
      `outage: ${scrapeMs.length} scrapes, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; ` +
        `${failedCycles.length} failed cycles, ${failures.length} failure lines; /healthz 503 after ${healthz503At - stoppedAt} ms; ` +
        `recovered ${recoveredMs} ms after Sentry came back`,
    );
  } finally {
    await exporter.stop();
    await sim.close();
  }
});
