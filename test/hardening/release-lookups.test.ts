/**
 * One issue's current-release lookup answers 500: that is one missing label, not a failed collector. The
 * issues collector succeeds (its listing did), the issue's open-issue series are left out until their
 * release is known (never a placeholder release), the failure is counted in
 * sentry_exporter_release_lookups_failed_total and logged once, and the next run asks again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { logRecords, selfValue } from './helpers.js';

const LOOKUP = '/organizations/{org}/issues/{issue_id}/current-release/';

test('a current-release lookup answering 500: the issue series is left out and counted, the collector succeeds, the next run fills it in', async (t) => {
  const sim = await startSimulator({
    seed: 96,
    projects: 4,
    environmentsPerProject: 2,
    issuesPerProject: 60,
  });
  const open = sim.truth().openIssues;
  // An issue open in two environments if there is one: both of its series go.
  const issueId = (open.find((i) => open.filter((o) => o.issueId === i.issueId).length > 1) ?? open[0])
    ?.issueId;
  assert.ok(issueId !== undefined, 'an open issue');
  const series = open.filter((i) => i.issueId === issueId).map((i) => `${i.issueId}/${i.environment}`);
  sim.setFaults({ releaseErrorsFor: [issueId] });
  const { exporter, logs } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_METADATA_INTERVAL: '3600',
    SENTRY_API_RATE: '40',
  });
  const failedLookups = async () =>
    (await selfValue(exporter, 'sentry_exporter_release_lookups_failed_total')) ?? -1;
  try {
    const first = await exporter.collection.runCycle();
    assert.deepEqual(first.failed, [], 'no collector fails');
    assert.equal(await selfValue(exporter, 'sentry_exporter_up'), 1);
    assert.equal(exporter.collection.readiness().collectors['issues']?.state, 'ok');

    const want = expectedNumbers(sim.truth());
    for (const s of series) want.open.delete(s);
    const got = exportedNumbers(exporter.snapshot.sentryText);
    assert.deepEqual(got.open, want.open, 'every open-issue series but those of the issue');
    assert.deepEqual(got.buckets, want.buckets);
    assert.ok(
      !exporter.snapshot.sentryText.includes(`issue_id="${issueId}"`),
      'no series of it, not even with a placeholder release',
    );
    assert.equal(await failedLookups(), series.length);
    const warned = logRecords(logs()).filter((r) => /current-release lookups failed/.test(r.msg));
    assert.equal(warned.length, 1, 'logged once for the run');
    const error = warned[0]!.error as { endpoint: string; status: number; message: string };
    assert.equal(error.endpoint, LOOKUP);
    assert.equal(error.status, 500);

    // Sentry answers again: the next run asks for the missing series only, and publishes them.
    sim.setFaults({});
    sim.resetCounters();
    assert.deepEqual((await exporter.collection.runCycle()).failed, []);
    assert.equal(sim.counters().byEndpoint[LOOKUP], series.length, 'only the missing lookups are asked');
    assert.deepEqual(exportedNumbers(exporter.snapshot.sentryText).open, expectedNumbers(sim.truth()).open);
    assert.equal(await failedLookups(), series.length, 'the counter keeps its count');
    t.diagnostic(
      `issue ${issueId}: ${series.length} series left out for one run, then published; "${error.message}"`,
    );
  } finally {
    await exporter.stop();
    await sim.close();
  }
});
