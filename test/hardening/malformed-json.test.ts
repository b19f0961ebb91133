import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import type { Faults } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { logRecords, selfValue } from './helpers.js';

const STATS = '/organizations/{org}/stats_v2/';
const ISSUES = '/organizations/{org}/issues/';
const PROJECTS = '/organizations/{org}/projects/';
const KEYS = '/organizations/{org}/project-keys/';

/** One broken answer shape on one endpoint at a time, and the collectors that endpoint feeds. */
const CASES: Array<{ what: string; faults: Faults; collectors: string[]; endpoint: string }> = [
  {
    what: 'truncated JSON',
    faults: { malformedRate: 1, endpoints: [STATS] },
    collectors: ['outcomes', 'quota'],
    endpoint: STATS,
  },
  {
    what: 'HTML page with 200',
    faults: { htmlRate: 1, endpoints: [ISSUES] },
    collectors: ['issues'],
    endpoint: ISSUES,
  },
  {
    what: 'groups not an array',
    faults: { wrongTypeRate: 1, endpoints: [STATS] },
    collectors: ['outcomes', 'quota'],
    endpoint: STATS,
  },
  {
    what: 'projects not an array',
    faults: { wrongTypeRate: 1, endpoints: [PROJECTS] },
    collectors: ['metadata'],
    endpoint: PROJECTS,
  },
  {
    what: 'truncated client keys',
    faults: { malformedRate: 1, endpoints: [KEYS] },
    collectors: ['rate_limits'],
    endpoint: KEYS,
  },
];

/**
 * A truncated body, an HTML login page answered with 200, an answer of the wrong shape: the collector fed
 * by that endpoint fails with an error naming it, its last good values stay, nothing crashes, and the other
 * collectors publish their fresh values in the same cycle. (One malformed item in a list is not a failure:
 * it is left out and counted, see odd-values.test.ts.)
 */
test('malformed or unexpected JSON fails only the collector it feeds, naming the endpoint', async (t) => {
  const sim = await startSimulator({
    seed: 25,
    projects: 4,
    environmentsPerProject: 2,
    issuesPerProject: 30,
  });
  const { exporter, logs } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_METADATA_INTERVAL: '3600',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
    SENTRY_API_RATE: '40',
    SENTRY_RETRY_TRIES: '2',
  });
  try {
    const first = await exporter.collection.runCycle();
    assert.deepEqual(first.failed, []);
    const figures: string[] = [];
    for (const c of CASES) {
      const before = exportedNumbers(exporter.snapshot.sentryText);
      const errors = (collector: string) =>
        selfValue(exporter, 'sentry_exporter_collection_errors_total', { collector });
      const errorsBefore = await Promise.all(c.collectors.map(errors));
      const cut = logs().length;
      sim.setFaults(c.faults);
      const report = await exporter.collection.runCycle();
      sim.setFaults({});
      assert.deepEqual(report.failed, c.collectors, `${c.what}: only ${c.collectors.join(' and ')} fail`);
      assert.deepEqual(
        await Promise.all(c.collectors.map(errors)),
        errorsBefore.map((n) => n! + 1),
        `${c.what}: the errors are counted`,
      );
      const lines = logRecords(logs().slice(cut)).filter(
        (r) => r.msg === 'collector failed; keeping its last good values',
      );
      assert.equal(lines.length, c.collectors.length, `${c.what}: one error line per failed collector`);
      for (const line of lines) {
        const err = line.error as { endpoint?: string; kind?: string; message?: string };
        assert.equal(err.endpoint, c.endpoint, `${c.what}: the error names the endpoint`);
        const path = `/api/0${c.endpoint.replace('{org}', sim.org)}`;
        assert.ok(
          err.message?.includes(path),
          `${c.what}: the message names the URL ${path}: ${err.message}`,
        );
      }
      figures.push(`${c.what}: ${(lines[0]!.error as { message?: string }).message}`);

      // The failed collector keeps its last good values; the others published this cycle's (= the truth).
      const now = exportedNumbers(exporter.snapshot.sentryText);
      const truth = expectedNumbers(sim.truth());
      const families: Record<string, string[]> = {
        issues: ['buckets', 'open'],
        outcomes: ['events', 'outcomes'],
        quota: ['quota', 'billingCycle'],
        rate_limits: ['rateLimits'],
        metadata: ['projects'],
      };
      for (const key of [
        'buckets',
        'open',
        'events',
        'outcomes',
        'quota',
        'billingCycle',
        'rateLimits',
        'projects',
      ] as const) {
        const kept = c.collectors.some((n) => families[n]?.includes(key));
        assert.deepEqual(now[key], kept ? before[key] : truth[key], `${c.what}: ${key}`);
      }
      for (const other of report.ran.filter((n) => !c.collectors.includes(n))) {
        assert.ok(
          ((await selfValue(exporter, 'sentry_exporter_last_success_timestamp_seconds', {
            collector: other,
          })) ?? 0) >= Math.floor((Date.now() - report.durationMs - 1000) / 1000),
          `${c.what}: ${other} succeeded this cycle`,
        );
      }
      assert.equal(await selfValue(exporter, 'sentry_exporter_up'), 0);
    }
    const recovered = await exporter.collection.runCycle();
    assert.deepEqual(recovered.failed, []);
    assert.deepEqual(exportedNumbers(exporter.snapshot.sentryText), expectedNumbers(sim.truth()));
    assert.equal((await fetch(`${exporter.url}/livez`)).status, 200, 'the process still serves');
    for (const f of figures) t.diagnostic(f);
  } finally {
    await exporter.stop();
    await sim.close();
  }
});
