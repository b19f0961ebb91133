/**
 * A list that shifts while it is paged: every issue page after the first repeats the last 20 issues of the
 * page before (what an offset-paginated list does when 20 issues arrive between two requests). Every value
 * stays exact, no series is written twice, and the repeats are counted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { parseExposition, startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { selfValue } from './helpers.js';

const ISSUES = '/organizations/{org}/issues/';
const OVERLAP = 20;

test(`pages overlapping by ${OVERLAP} issues: every value exact, no duplicate series, repeats counted`, async (t) => {
  const sim = await startSimulator({
    seed: 52,
    projects: 6,
    environmentsPerProject: 2,
    issuesPerProject: 400,
  });
  const { exporter } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_METADATA_INTERVAL: '3600',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
    SENTRY_API_RATE: '100',
  });
  try {
    // Sentry's own keyset cursor on a list that does not change: nothing repeats.
    assert.deepEqual((await exporter.collection.runCycle()).failed, []);
    assert.deepEqual(exportedNumbers(exporter.snapshot.sentryText), expectedNumbers(sim.truth()));
    assert.equal(
      await selfValue(exporter, 'sentry_exporter_duplicate_items_total', { endpoint: ISSUES }),
      undefined,
    );

    sim.setFaults({ overlapItems: OVERLAP });
    sim.resetCounters();
    assert.deepEqual((await exporter.collection.runCycle()).failed, []);
    const text = exporter.snapshot.sentryText;
    assert.deepEqual(exportedNumbers(text), expectedNumbers(sim.truth()), 'every value exact');

    const series = parseExposition(text).filter((r) => r.name.startsWith('sentry_'));
    const keys = series.map((r) => `${r.name}${JSON.stringify(r.labels)}`);
    assert.equal(new Set(keys).size, keys.length, 'no series written twice');
    const open = series.filter((r) => r.name === 'sentry_open_issue_events');
    assert.ok(open.length > 0, 'open issues are exported');

    // Each later page repeated OVERLAP issues: exactly those are counted as duplicates.
    const later = sim
      .counters()
      .requests.filter((r) => r.endpoint === ISSUES && r.status === 200 && r.query.cursor !== undefined);
    assert.ok(later.length >= 3, `${later.length} later pages`);
    assert.equal(
      await selfValue(exporter, 'sentry_exporter_duplicate_items_total', { endpoint: ISSUES }),
      OVERLAP * later.length,
    );
    t.diagnostic(`${later.length} later pages, ${OVERLAP * later.length} repeated issues dropped`);
  } finally {
    await exporter.stop();
    await sim.close();
  }
});
