import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';

/**
 * Sentry allows 1 request per second per endpoint while the exporter is configured for 3/s. The exporter
 * must learn the real limit from the X-Sentry-Rate-Limit-* headers instead of bouncing off it, and a 429
 * is never retried before the window its Reset header names has ended.
 */
test('429 storm: the exporter adapts to 1/s from the headers and never retries before Reset', async (t) => {
  const sim = await startSimulator({
    seed: 24,
    projects: 3,
    environmentsPerProject: 2,
    issuesPerProject: 20,
  });
  sim.setRateLimit({ perSecond: 1, concurrent: 25 });
  const { exporter } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
    SENTRY_API_RATE: '3',
    SENTRY_API_CONCURRENCY: '2',
    SENTRY_API_TIMEOUT: '5',
    SENTRY_RETRY_TRIES: '8',
  });
  try {
    const reports = [];
    for (let i = 0; i < 3; i++) {
      const report = await exporter.collection.runCycle();
      reports.push(report);
      assert.deepEqual(report.failed, [], `cycle ${report.cycle}`);
    }
    assert.deepEqual(exportedNumbers(exporter.snapshot.sentryText), expectedNumbers(sim.truth()));

    const c = sim.counters();
    const ok = c.byStatus['200'] ?? 0;
    const perSuccess = c.total / ok;
    assert.ok(c.total < 10_000, 'the timeline below is complete');
    assert.ok(
      perSuccess <= 1.2,
      `requests per successful one: ${perSuccess.toFixed(3)} (${c.rateLimited} 429s of ${c.total})`,
    );

    // The simulator's windows are whole epoch seconds: a 429 received at `at` carried
    // X-Sentry-Rate-Limit-Reset = floor(at / 1000) + 1. The same request must not come back before then.
    let retriesAfter429 = 0;
    for (const [i, r] of c.requests.entries()) {
      if (r.status !== 429) continue;
      const resetMs = (Math.floor(r.at / 1000) + 1) * 1000;
      const same = JSON.stringify(r.query);
      const retry = c.requests
        .slice(i + 1)
        .find((n) => n.endpoint === r.endpoint && JSON.stringify(n.query) === same);
      if (retry === undefined) continue;
      retriesAfter429++;
      assert.ok(retry.at >= resetMs, `${r.endpoint} retried at ${retry.at}, before its Reset ${resetMs}`);
    }
    t.diagnostic(
      `429 storm: ${c.total} requests, ${ok} answered 200, ${c.rateLimited} answered 429 -> ${perSuccess.toFixed(3)} per success; ` +
        `${retriesAfter429} retries after a 429, all after Reset; cycle durations ms: ${reports.map((r) => r.durationMs).join(', ')}; ` +
        `requests per cycle: ${reports.map((r) => r.requests).join(', ')}`,
    );
  } finally {
    await exporter.stop();
    await sim.close();
  }
});
