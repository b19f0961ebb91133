/**
 * SIGTERM while the collection thread is busy reading and parsing large answers (every issue page about
 * ten megabytes, a cycle every second): the process exits 0 within 5 s. The collection thread gets the
 * scheduler's grace and is ended when it has not stopped by then (test/pipeline/thread.test.ts shows that
 * with a thread in an endless loop); HTTP drains within the rest.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { logRecords, spawnExporterChild, waitUntil } from './helpers.js';

const ISSUES = '/organizations/{org}/issues/';

test('SIGTERM while the collection thread parses ten-megabyte answers: exit 0 within 5 s', async (t) => {
  const sim = await startSimulator({
    seed: 97,
    projects: 4,
    environmentsPerProject: 2,
    issuesPerProject: 250,
  });
  sim.setFaults({ endpoints: [ISSUES], padItems: 100_000 });
  const child = await spawnExporterChild({
    SENTRY_BASE_URL: sim.url,
    SENTRY_AUTH_TOKEN: sim.token,
    SENTRY_EXPORTER_ORG: sim.org,
    SENTRY_POLL_INTERVAL: '1',
    SENTRY_API_RATE: '100',
    SENTRY_API_CONCURRENCY: '4',
  });
  try {
    // Well into the collection: a few large pages read already, more under way.
    await waitUntil(
      'large issue pages being read',
      () => (sim.counters().byEndpoint[ISSUES] ?? 0) >= 6,
      60_000,
    );
    const before = sim.counters().byEndpoint[ISSUES] ?? 0;
    const signalled = performance.now();
    child.child.kill('SIGTERM');
    const { code, signal } = await child.exited;
    const took = performance.now() - signalled;
    const ended = logRecords(child.output()).some((r) => /did not stop in time/.test(r.msg));
    t.diagnostic(
      `exit ${code} ${took.toFixed(0)} ms after SIGTERM, ${before} ten-megabyte issue pages asked by then; collection thread ${ended ? 'ended at its limit' : 'stopped on its own'}`,
    );
    assert.equal(signal, null);
    assert.equal(code, 0, child.output().slice(-2000));
    assert.ok(took < 5000, `exited ${took.toFixed(0)} ms after SIGTERM`);
  } finally {
    if (child.child.exitCode === null) child.child.kill('SIGKILL');
    await sim.close();
  }
});
