/**
 * One odd value must not fail an organization. A `count` past 2^53 is a double to Prometheus anyway: it is
 * published. One malformed issue in a page is left out, counted in sentry_exporter_items_skipped_total and
 * logged once per collector run; every other value stays exact.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { logRecords, selfValue } from './helpers.js';

const ISSUES = '/organizations/{org}/issues/';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const HUGE = '9007199254740993'; // 2^53 + 1: no double holds it

test(`an issue count of "${HUGE}" is published as a float, not a failure`, async () => {
  const sim = await startSimulator({ seed: 81, projects: 4, environmentsPerProject: 2 });
  const { exporter } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_METADATA_INTERVAL: '3600',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
    SENTRY_API_RATE: '40',
  });
  try {
    // An open issue (first seen within the hour) with events in one environment only.
    const open = sim.truth().openIssues;
    const issue = open.find((i) => open.filter((o) => o.issueId === i.issueId).length === 1);
    assert.ok(issue, 'an open issue in one environment');
    sim.setIssueCount(issue.issueId, HUGE);

    const report = await exporter.collection.runCycle();
    assert.deepEqual(report.failed, []);
    const got = exportedNumbers(exporter.snapshot.sentryText);
    const want = expectedNumbers(sim.truth());
    const key = `${issue.issueId}/${issue.environment}`;
    assert.equal(got.open.get(key), 9007199254740992, 'the nearest double');
    assert.match(
      exporter.snapshot.sentryText,
      new RegExp(`issue_id="${issue.issueId}".* 9007199254740992\\n`),
    );

    // The sums holding it are doubles too: equal to the truth up to the last bit, whatever the order of
    // the additions. Every other value is exact.
    for (const family of ['buckets', 'open', 'events', 'rateLimits'] as const) {
      assert.equal(got[family].size, want[family].size, family);
      for (const [k, expected] of want[family]) {
        const actual = got[family].get(k);
        assert.ok(actual !== undefined, `${family} ${k}`);
        if (expected < 2 ** 53) assert.equal(actual, expected, `${family} ${k}`);
        else
          assert.ok(
            Math.abs(actual - expected) <= expected * 2 ** -50,
            `${family} ${k}: ${actual} vs ${expected}`,
          );
      }
    }
    assert.ok(
      [...got.buckets].some(
        ([k, v]) => k.startsWith(`${issue.project}/${issue.environment}/`) && v > 2 ** 53,
      ),
      `a bucket of ${issue.project}/${issue.environment} holds a sum above 2^53`,
    );
  } finally {
    await exporter.stop();
    await sim.close();
  }
});

test('a malformed issue (count "abc") is left out, counted and logged once; the rest is exact', async (t) => {
  const sim = await startSimulator({
    seed: 82,
    projects: 4,
    environmentsPerProject: 2,
    issuesPerProject: 60,
  });
  const { exporter, logs } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_METADATA_INTERVAL: '3600',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
    SENTRY_API_RATE: '40',
  });
  try {
    assert.deepEqual((await exporter.collection.runCycle()).failed, []);
    // The fault gives the first issue of every page a `count` of "abc".
    sim.setFaults({ wrongTypeRate: 1, endpoints: [ISSUES] });
    sim.resetCounters();
    const cut = logs().length;
    const report = await exporter.collection.runCycle();
    const now = Date.now();
    sim.setFaults({});
    assert.deepEqual(report.failed, [], 'no collector fails');

    // Which issues were left out: the first of each page served, read again without the fault.
    const pages = sim.counters().requests.filter((r) => r.endpoint === ISSUES && r.status === 200);
    const skipped: Array<{
      id: string;
      project: string;
      environment: string;
      count: number;
      firstSeen: string;
    }> = [];
    for (const page of pages) {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(page.query)) for (const x of [v].flat()) query.append(k, x);
      const res = await fetch(`${sim.url}organizations/${sim.org}/issues/?${query.toString()}`, {
        headers: { authorization: `Bearer ${sim.token}` },
      });
      const [first] = (await res.json()) as Array<{
        id: string;
        count: string;
        firstSeen: string;
        project: { slug: string };
      }>;
      if (first === undefined) continue;
      skipped.push({
        id: first.id,
        project: first.project.slug,
        environment: typeof page.query.environment === 'string' ? page.query.environment : 'None',
        count: Number(first.count),
        firstSeen: first.firstSeen,
      });
    }
    assert.ok(skipped.length >= 2, `${skipped.length} issues left out`);
    assert.equal(
      await selfValue(exporter, 'sentry_exporter_items_skipped_total', { endpoint: ISSUES }),
      skipped.length,
    );

    // The truth without the issues left out.
    const want = expectedNumbers(sim.truth());
    for (const s of skipped) {
      const age = now - Date.parse(s.firstSeen);
      const less = (le: string, within: number) => {
        const k = `${s.project}/${s.environment}/${le}`;
        if (age <= within) want.buckets.set(k, (want.buckets.get(k) ?? 0) - s.count);
      };
      less('1h', HOUR);
      less('24h', DAY);
      less('+Inf', 14 * DAY);
      want.open.delete(`${s.id}/${s.environment}`);
    }
    assert.deepEqual(exportedNumbers(exporter.snapshot.sentryText), want);

    const lines = logRecords(logs().slice(cut)).filter((r) => r.msg.startsWith('malformed items left out'));
    assert.equal(lines.length, 1, 'one line for the run');
    const [entry] = lines[0]!.skipped as Array<{ endpoint: string; count: number; example: string }>;
    assert.equal(entry?.endpoint, ISSUES);
    assert.equal(entry?.count, skipped.length);
    assert.match(
      entry?.example ?? '',
      /\/api\/0\/organizations\/acme\/issues\/: \[0\]\.count should be a non-negative integer string, got "abc"/,
    );
    t.diagnostic(`${skipped.length} issues left out of ${pages.length} pages: "${entry?.example}"`);
  } finally {
    await exporter.stop();
    await sim.close();
  }
});
