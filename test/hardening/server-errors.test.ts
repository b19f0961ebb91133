import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';

/**
 * 30 % of Sentry's answers are 5xx or connection resets. With enough attempts per request every cycle
 * completes, and what the exporter publishes is exactly the simulator's ground truth.
 */
test('30 % 5xx and resets: every cycle completes within its retries and the numbers equal the truth', async (t) => {
  const sim = await startSimulator({
    seed: 21,
    projects: 10,
    environmentsPerProject: 2,
    issuesPerProject: 50,
  });
  const { exporter } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '3600',
    // metadata and client keys are refreshed every cycle, so every endpoint goes through the faults
    SENTRY_METADATA_INTERVAL: '3600',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
    SENTRY_API_RATE: '40',
    SENTRY_API_CONCURRENCY: '4',
    SENTRY_API_TIMEOUT: '2',
    SENTRY_RETRY_TRIES: '8',
  });
  try {
    sim.setFaults({ serverErrorRate: 0.15, resetRate: 0.15 });
    const cycles = [];
    for (let i = 0; i < 4; i++) {
      const report = await exporter.collection.runCycle();
      cycles.push(report);
      assert.deepEqual(report.failed, [], `cycle ${report.cycle} failed: ${report.failed.join(', ')}`);
      assert.deepEqual(report.ran, [
        'metadata',
        'issues',
        'outcomes',
        'quota',
        'rate_limits',
        'monitors',
        'release_health',
      ]);
      assert.deepEqual(
        exportedNumbers(exporter.snapshot.sentryText),
        expectedNumbers(sim.truth()),
        `cycle ${report.cycle} publishes the ground truth`,
      );
    }
    const c = sim.counters();
    const ok = c.byStatus['200'] ?? 0;
    const faulty =
      (c.byStatus['0'] ?? 0) + (c.byStatus['500'] ?? 0) + (c.byStatus['502'] ?? 0) + (c.byStatus['503'] ?? 0);
    const perSuccess = c.total / ok;
    // With 30 % faults, 1 / 0.7 ≈ 1.43 attempts per good answer are expected; the faults really happened.
    assert.ok(faulty / c.total > 0.2 && faulty / c.total < 0.4, `fault share ${faulty}/${c.total}`);
    assert.ok(perSuccess < 1.7, `requests per successful request: ${perSuccess.toFixed(2)}`);
    const sent = cycles.reduce((sum, r) => sum + r.requests, 0);
    assert.equal(sent, c.total, 'every request the exporter counted reached the simulator');
    t.diagnostic(
      `30% faults: ${c.total} requests, ${ok} answered 200, ${faulty} faults (${JSON.stringify(c.byStatus)}); ` +
        `${perSuccess.toFixed(2)} requests per successful one; cycle durations ms: ${cycles.map((r) => r.durationMs).join(', ')}; ` +
        `requests per cycle: ${cycles.map((r) => r.requests).join(', ')}`,
    );
  } finally {
    await exporter.stop();
    await sim.close();
  }
});
