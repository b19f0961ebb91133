import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import type { TokenStatus } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { logRecords, selfValue } from './helpers.js';

/** The scope each endpoint needs, as Sentry documents it. */
const SCOPES: Record<string, string> = {
  '/organizations/{org}/projects/': 'org:read',
  '/organizations/{org}/stats_v2/': 'org:read',
  '/organizations/{org}/project-keys/': 'org:read',
  '/organizations/{org}/issues/': 'event:read',
  '/organizations/{org}/monitors/': 'org:read or alerts:read',
  '/organizations/{org}/sessions/': 'org:read',
};

for (const [status, code] of [
  ['revoked', 401],
  ['missing-scope', 403],
] as Array<[TokenStatus, number]>) {
  test(`token ${status} (${code}): the log names the scope each endpoint needs, up is 0, no retry storm`, async (t) => {
    const sim = await startSimulator({
      seed: 26,
      projects: 4,
      environmentsPerProject: 2,
      issuesPerProject: 30,
    });
    const { exporter, logs } = await startExporterAgainst(sim, {
      SENTRY_POLL_INTERVAL: '3600',
      SENTRY_METADATA_INTERVAL: '3600',
      SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
      SENTRY_API_RATE: '40',
      SENTRY_RETRY_TRIES: '5',
    });
    try {
      assert.deepEqual((await exporter.collection.runCycle()).failed, []);
      const healthy = await exporter.collection.runCycle();
      assert.deepEqual(healthy.failed, []);
      assert.equal(await selfValue(exporter, 'sentry_exporter_up'), 1);
      sim.setTokenStatus(status);
      sim.resetCounters();
      const cut = logs().length;
      const cycles = 3;
      for (let i = 0; i < cycles; i++) {
        const report = await exporter.collection.runCycle();
        assert.deepEqual([...report.failed].sort(), [
          'issues',
          'metadata',
          'monitors',
          'outcomes',
          'quota',
          'rate_limits',
          'release_health',
        ]);
        assert.ok(
          report.requests <= healthy.requests,
          `a refused cycle sends no more requests than a healthy one (${report.requests} > ${healthy.requests})`,
        );
      }
      assert.equal(await selfValue(exporter, 'sentry_exporter_up'), 0);

      const c = sim.counters();
      assert.equal(c.byStatus[String(code)], c.total, `every answer was ${code}`);
      // 401/403 are not retried: one request per collector call (projects, issues, stats, keys, sessions) per cycle,
      // although SENTRY_RETRY_TRIES is 5.
      const perCycle = c.total / cycles;
      const perUrl = new Map<string, number>();
      for (const r of c.requests) {
        const key = `${r.endpoint}?${JSON.stringify(r.query)}`;
        perUrl.set(key, (perUrl.get(key) ?? 0) + 1);
      }
      const calls = perUrl.size;
      const most = Math.max(...perUrl.values());
      assert.ok(most <= cycles, `a URL was asked ${most} times in ${cycles} cycles: refusals were retried`);

      const failures = logRecords(logs().slice(cut)).filter(
        (r) => r.msg === 'collector failed; keeping its last good values',
      );
      assert.equal(failures.length, cycles * 7);
      for (const f of failures) {
        const err = f.error as { endpoint: string; status: number; message: string; attempts: number };
        const scope = SCOPES[err.endpoint];
        assert.ok(scope, `unexpected endpoint ${err.endpoint}`);
        assert.equal(err.status, code);
        assert.equal(err.attempts, 1, 'not retried');
        assert.ok(err.message.includes(scope), `${err.endpoint} names ${scope}: ${err.message}`);
      }
      const named = new Set(failures.map((f) => SCOPES[(f.error as { endpoint: string }).endpoint]));
      assert.deepEqual([...named].sort(), ['event:read', 'org:read', 'org:read or alerts:read']);
      t.diagnostic(
        `${status}: ${c.total} requests in ${cycles} cycles (${perCycle.toFixed(1)} per cycle, ${calls} distinct calls; a healthy cycle: ${healthy.requests}); e.g. "${(failures[0]!.error as { message: string }).message}"`,
      );

      sim.setTokenStatus('valid');
      assert.deepEqual((await exporter.collection.runCycle()).failed, []);
      assert.equal(await selfValue(exporter, 'sentry_exporter_up'), 1);
    } finally {
      await exporter.stop();
      await sim.close();
    }
  });
}
