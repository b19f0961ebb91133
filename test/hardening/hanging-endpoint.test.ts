/**
 * One endpoint hangs (the issues list answers only after a minute): only its own collector waits. The
 * request slots (SENTRY_API_CONCURRENCY, 2 by default) are shared between the collectors, and one collector
 * never holds more than half of them, so the monitors and outcomes collectors keep their data as fresh as
 * their interval allows. With one shared first-come queue, the issues queries took both slots and every
 * other collector waited for SENTRY_API_TIMEOUT.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { delay, waitUntil } from './helpers.js';

const ISSUES = '/organizations/{org}/issues/';
const POLL = 2;
const TIMEOUT = 20;
const WATCH_MS = 25_000;

test('the issues endpoint hangs: monitors and outcomes stay fresh, only the issues collector waits', async (t) => {
  const sim = await startSimulator({
    seed: 95,
    projects: 6,
    environmentsPerProject: 3,
    issuesPerProject: 60,
  });
  const { exporter } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: String(POLL),
    SENTRY_API_TIMEOUT: String(TIMEOUT),
    SENTRY_API_RATE: '40',
  });
  const lastSuccess = (name: string) => exporter.collection.readiness().collectors[name]?.lastSuccess;
  try {
    await waitUntil(
      'a first good cycle',
      () => ['issues', 'monitors', 'outcomes'].every((c) => lastSuccess(c) !== undefined),
      60_000,
    );
    sim.setFaults({ endpoints: [ISSUES], hangRate: 1, hangMs: 120_000 });
    const start = Date.now();
    const oldest: Record<string, number> = { monitors: 0, outcomes: 0, issues: 0 };
    while (Date.now() - start < WATCH_MS) {
      const now = Date.now() / 1000;
      for (const name of Object.keys(oldest)) {
        oldest[name] = Math.max(oldest[name]!, now - (lastSuccess(name) ?? 0));
      }
      await delay(250);
    }
    const figures = `over ${WATCH_MS / 1000} s with the issues endpoint hanging (poll ${POLL} s, SENTRY_API_TIMEOUT ${TIMEOUT} s, 2 request slots): oldest data of monitors ${oldest['monitors']!.toFixed(1)} s, outcomes ${oldest['outcomes']!.toFixed(1)} s, issues ${oldest['issues']!.toFixed(1)} s`;
    t.diagnostic(figures);
    // Waiting for a hung request would make them at least SENTRY_API_TIMEOUT old.
    for (const name of ['monitors', 'outcomes'])
      assert.ok(oldest[name]! < TIMEOUT / 2, `${name}: ${figures}`);
    assert.ok(oldest['issues']! > TIMEOUT, `issues: ${figures}`);
  } finally {
    sim.setFaults({});
    await exporter.stop();
    await sim.close();
  }
});
