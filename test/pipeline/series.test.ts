/**
 * `sentry_exporter_series{family}` says how many series each family of the collectors has in the exposition
 * as it is served: counted here from the exposition itself, in both simulator modes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import type { SimMode } from '../../sim/index.js';
import { parseExposition, startExporterAgainst } from '../helpers/exporter.js';
import { exportedFamilySeries } from '../helpers/series.js';

for (const mode of ['sentry.io', 'self-hosted'] as SimMode[]) {
  test(`${mode}: sentry_exporter_series equals the series of each family in the exposition`, async () => {
    const sim = await startSimulator({
      mode,
      seed: 21,
      projects: 6,
      environmentsPerProject: 2,
      issuesPerProject: 15,
    });
    const { exporter, logs } = await startExporterAgainst(sim, {
      SENTRY_API_RATE: '40',
      SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
      SENTRY_RELEASE_HEALTH_RELEASES: '2',
    });
    try {
      const report = await exporter.collection.runCycle();
      assert.deepEqual(report.failed, [], 'no collector failed');
      const text = await (await fetch(`${exporter.url}/metrics`)).text();
      const counted = exportedFamilySeries(text);
      const said = new Map(
        parseExposition(text)
          .filter((r) => r.name === 'sentry_exporter_series')
          .map((r) => [r.labels.family ?? '', r.value]),
      );
      const collected = [...counted.keys()].filter(
        (f) =>
          (f.startsWith('sentry_') && !f.startsWith('sentry_exporter_')) ||
          f === 'sentry_exporter_open_issue_series_dropped' ||
          f === 'sentry_exporter_release_health_releases_dropped' ||
          f === 'sentry_exporter_release_lookups_failed_total',
      );
      assert.ok(collected.length >= 12, `the collectors' families: ${collected.join(', ')}`);
      for (const family of collected)
        assert.equal(said.get(family), counted.get(family), `sentry_exporter_series{family="${family}"}`);
      assert.deepEqual([...said.keys()].sort(), collected.sort(), 'no other family is listed');
      // The cycle's log line says the total.
      const total = [...said.values()].reduce((a, b) => a + b, 0);
      assert.match(
        logs(),
        new RegExp(`"series":${total},"msg":"collection cycle done"`),
        `the total, ${total}`,
      );
    } finally {
      await exporter.stop();
      await sim.close();
    }
  });
}
