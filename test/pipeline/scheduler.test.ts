import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { logRecords, waitUntil } from '../hardening/helpers.js';

/**
 * The first hour: while nothing has been published, a failing collector is retried after 2 s, 4 s, 8 s ...
 * (not only at the next poll tick, a minute away), its log line does not claim last good values it does not
 * have, and the error is logged as fields (kind, endpoint, status, message), not as an opaque object.
 */
test('a collector with no data yet is retried sooner, says so, and logs its error as fields', async () => {
  const sim = await startSimulator({
    seed: 51,
    projects: 3,
    environmentsPerProject: 1,
    issuesPerProject: 10,
  });
  sim.setFaults({ forbiddenRate: 1, endpoints: ['/organizations/{org}/projects/'] });
  const { exporter, logs } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '60',
    SENTRY_API_RATE: '40',
  });
  try {
    const failures = () =>
      logRecords(logs()).filter((r) => typeof r.msg === 'string' && r.msg.startsWith('collector failed'));
    await waitUntil('two failed attempts of the project list', async () => failures().length >= 2, 20_000);
    const [first, second] = failures();
    assert.equal(first!.msg, 'collector failed; it has no data yet and is retried in 2s');
    assert.equal(second!.msg, 'collector failed; it has no data yet and is retried in 4s');
    assert.equal(first!.collector, 'metadata');
    assert.deepEqual(Object.keys(first!.error as object).sort(), [
      'attempts',
      'detail',
      'endpoint',
      'kind',
      'message',
      'status',
    ]);
    const error = first!.error as Record<string, unknown>;
    assert.equal(error.kind, 'http');
    assert.equal(error.status, 403);
    assert.equal(error.endpoint, '/organizations/{org}/projects/');
    assert.match(
      String(error.message),
      /\/api\/0\/organizations\/acme\/projects\/ answered HTTP 403: .*org:read/,
    );
    assert.doesNotMatch(logs(), /"type":"Object"|"stack":""/);
    assert.doesNotMatch(logs(), /keeping its last good values/, 'there are none to keep');
    const health = (await (await fetch(`${exporter.url}/healthz`)).json()) as { reason: string };
    assert.match(health.reason, /^the project list has not been read yet: .*HTTP 403/);

    // The refusal ends: data comes with the next retry, long before the 60 s poll interval.
    sim.setFaults({});
    await waitUntil(
      'ready after the refusal ended',
      async () => (await fetch(`${exporter.url}/healthz`)).status === 200,
      30_000,
    );
  } finally {
    await exporter.stop();
    await sim.close();
  }
});
