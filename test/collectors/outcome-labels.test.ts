/**
 * SENTRY_OUTCOME_LABELS: the labels sentry_outcomes_total, sentry_outcome_bytes_total and
 * sentry_outcome_seconds_total keep (category and outcome always); the exporter sums over the others.
 *
 * Without `project_slug` the families are the organization's totals as Sentry counts them "over every
 * project": one stats_v2 question with no `project` parameter and no project grouping, which Sentry answers
 * for the whole organization, projects the token's user is not a member of and deleted projects included
 * (src/sentry/api/endpoints/organization_stats_v2.py `_is_org_total_query`; src/sentry/snuba/outcomes.py
 * `QueryDefinition.get_conditions` filters on `org_id` alone then). With SENTRY_EXPORTER_PROJECTS they are
 * the sums over the selected projects instead. docs/sentry-api.md, Part 2 §8.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import type { GroundTruth, SentrySimulator } from '../../sim/index.js';
import { loadExporterConfig } from '../../src/collectors/index.js';
import { organizationOutcomes } from '../../src/collectors/organization-outcomes.js';
import { ConfigError } from '../../src/config/errors.js';
import { parseExposition, startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers, outcomeSample } from '../helpers/truth.js';
import { makeClient, sendJson, startServer } from '../sentry/helpers.js';

const STATS = '/organizations/{org}/stats_v2/';
const FAMILIES = new Set([
  'sentry_outcomes_total',
  'sentry_outcome_bytes_total',
  'sentry_outcome_seconds_total',
]);
const NOW = Date.parse('2026-06-20T10:30:00Z');

/** The outcome families of an exposition: `family {label=value,...}` -> value, labels in their order. */
function outcomeSeries(text: string): Map<string, number> {
  return new Map(
    parseExposition(text)
      .filter((r) => FAMILIES.has(r.name))
      .map((r) => [
        `${r.name} ${Object.entries(r.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')}`,
        r.value,
      ]),
  );
}

/** The truth's rows summed over the labels left out, keyed like outcomeSeries. */
function expected(
  rows: ReadonlyArray<{
    project?: string;
    category: string;
    outcome: string;
    reason: string;
    quantity: number;
  }>,
  labels: readonly string[],
): Map<string, number> {
  const sums = new Map<string, { category: string; quantity: number }>();
  for (const r of rows) {
    const value: Record<string, string> = {
      project_slug: r.project ?? '',
      category: r.category,
      outcome: r.outcome,
      reason: r.reason,
    };
    const { family } = outcomeSample(r.category, 0);
    const key = `${family} ${labels.map((l) => `${l}=${value[l]}`).join(',')}`;
    const sum = sums.get(key) ?? { category: r.category, quantity: 0 };
    sum.quantity += r.quantity;
    sums.set(key, sum);
  }
  return new Map([...sums].map(([k, s]) => [k, outcomeSample(s.category, s.quantity).value]));
}

const sorted = (m: Map<string, number>) => new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

async function exporterWith(sim: SentrySimulator, env: NodeJS.ProcessEnv) {
  const { exporter } = await startExporterAgainst(
    sim,
    {
      SENTRY_POLL_INTERVAL: '3600',
      SENTRY_API_RATE: '200',
      SENTRY_API_CONCURRENCY: '4',
      SENTRY_SCRAPE_ISSUE_METRICS: 'False',
      SENTRY_SCRAPE_MONITOR_METRICS: 'False',
      SENTRY_SCRAPE_RELEASE_HEALTH_METRICS: 'False',
      SENTRY_SCRAPE_QUOTA_METRICS: 'False',
      ...env,
    },
    'info',
    NOW,
  );
  sim.resetCounters();
  const report = await exporter.collection.runCycle();
  assert.deepEqual(report.failed, []);
  return { exporter, text: exporter.snapshot.sentryText };
}

function simulator(): Promise<SentrySimulator> {
  const offset = NOW - Date.now();
  return startSimulator({
    seed: 4,
    projects: 14,
    deletedProjects: 1,
    environmentsPerProject: 1,
    issuesPerProject: 5,
    rateLimit: false,
    now: () => Date.now() + offset,
  });
}

test('category,outcome,reason: no project_slug; the totals of the whole organization (non-member and deleted projects included), in one request', async () => {
  const sim = await simulator();
  const run = await exporterWith(sim, { SENTRY_OUTCOME_LABELS: 'category,outcome,reason' });
  try {
    const truth: GroundTruth = sim.truth();
    const got = outcomeSeries(run.text);
    assert.ok(
      [...got.keys()].every((k) => !k.includes('project_slug')),
      'no series of the outcome families has project_slug',
    );
    const labels = ['category', 'outcome', 'reason'];
    assert.deepEqual(sorted(got), sorted(expected(truth.organizationOutcomes, labels)));
    // Sentry's "every project" is the organization: more than the listed projects add up to (the deleted
    // project's data this month counts).
    const listed = expected(truth.outcomes, labels);
    const key = 'sentry_outcomes_total category=error,outcome=accepted,reason=none';
    assert.ok(got.get(key)! > listed.get(key)!, `${key}: ${got.get(key)} over ${listed.get(key)} listed`);
    // sentry_events_total keeps its project_slug and its values.
    assert.deepEqual(exportedNumbers(run.text).events, expectedNumbers(truth).events);
    // The families: one organization-wide question; the events: the per-project one, without reason.
    const requests = sim.counters().requests.filter((r) => r.endpoint === STATS);
    const orgWide = requests.filter((r) => r.query.project === undefined);
    assert.equal(orgWide.length, 1);
    assert.deepEqual(orgWide[0]!.query.groupBy, ['category', 'outcome', 'reason']);
    for (const r of requests.filter((x) => x.query.project !== undefined))
      assert.deepEqual(r.query.groupBy, ['project', 'category', 'outcome']);
    assert.match(run.text, /Summed over every project of the organization \(SENTRY_OUTCOME_LABELS\)/);
  } finally {
    await run.exporter.stop();
    await sim.close();
  }
});

test('category,outcome,reason with SENTRY_EXPORTER_PROJECTS: the sums over the selected projects', async () => {
  const sim = await simulator();
  const selected = ['checkout-api', 'web-frontend', 'notifications'];
  const run = await exporterWith(sim, {
    SENTRY_OUTCOME_LABELS: 'category,outcome,reason',
    SENTRY_EXPORTER_PROJECTS: selected.join(','),
    SENTRY_SCRAPE_EVENT_METRICS: 'False',
  });
  try {
    const truth = sim.truth();
    assert.deepEqual(
      sorted(outcomeSeries(run.text)),
      sorted(
        expected(
          truth.outcomes.filter((o) => selected.includes(o.project)),
          ['category', 'outcome', 'reason'],
        ),
      ),
    );
    const requests = sim.counters().requests.filter((r) => r.endpoint === STATS);
    assert.ok(
      requests.every((r) => r.query.project !== undefined),
      'only questions about the selected projects, by id',
    );
  } finally {
    await run.exporter.stop();
    await sim.close();
  }
});

test('project_slug,category,outcome: per project, summed over reasons, from answers not grouped by reason', async () => {
  const sim = await simulator();
  const run = await exporterWith(sim, { SENTRY_OUTCOME_LABELS: 'project_slug,category,outcome' });
  try {
    const truth = sim.truth();
    assert.deepEqual(
      sorted(outcomeSeries(run.text)),
      sorted(expected(truth.outcomes, ['project_slug', 'category', 'outcome'])),
    );
    assert.deepEqual(exportedNumbers(run.text).events, expectedNumbers(truth).events);
    for (const r of sim
      .counters()
      .requests.filter((x) => x.endpoint === STATS && x.query.project !== undefined))
      assert.deepEqual(r.query.groupBy, ['project', 'category', 'outcome']);
  } finally {
    await run.exporter.stop();
    await sim.close();
  }
});

test('category alone keeps category and outcome: the organization by category and outcome', async () => {
  const sim = await simulator();
  const run = await exporterWith(sim, {
    SENTRY_OUTCOME_LABELS: 'category',
    SENTRY_SCRAPE_EVENT_METRICS: 'False',
  });
  try {
    assert.deepEqual(
      sorted(outcomeSeries(run.text)),
      sorted(expected(sim.truth().organizationOutcomes, ['category', 'outcome'])),
    );
    const requests = sim.counters().requests.filter((r) => r.endpoint === STATS);
    assert.equal(requests.length, 1, 'without sentry_events_total: one request in all');
    assert.deepEqual(requests[0]!.query.groupBy, ['category', 'outcome']);
  } finally {
    await run.exporter.stop();
    await sim.close();
  }
});

test('SENTRY_OUTCOME_LABELS: unknown labels are a configuration error naming them; category and outcome are always kept', () => {
  const load = (labels: string) =>
    loadExporterConfig({
      env: { SENTRY_AUTH_TOKEN: 't', SENTRY_EXPORTER_ORG: 'acme', SENTRY_OUTCOME_LABELS: labels },
    }).collectors.outcomes.labels;
  assert.deepEqual(load('reason, project_slug'), ['project_slug', 'category', 'outcome', 'reason']);
  assert.deepEqual(load(''), ['category', 'outcome']);
  assert.throws(
    () => load('project,category'),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.includes(
        'SENTRY_OUTCOME_LABELS: "project" is not one of the labels project_slug, category, outcome, reason',
      ),
  );
});

test('an organization-wide answer that may have reached the cap is asked again per category; one category at the cap fails', async () => {
  // 3,400 error groups may stand for 10,200 snuba rows (error, default and security folded): at the cap.
  const errors = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      by: { category: 'error', outcome: 'filtered', reason: `filter-${i}` },
      totals: { 'sum(quantity)': 1 },
    }));
  let errorAlone = errors(10);
  const server = await startServer((_req, res, hit) => {
    const groupBy = hit.query.getAll('groupBy');
    const category = hit.query.get('category');
    const groups =
      groupBy.length === 1
        ? [
            { by: { category: 'error' }, totals: { 'sum(quantity)': 10 } },
            { by: { category: 'span' }, totals: { 'sum(quantity)': 5 } },
          ]
        : category === 'error'
          ? errorAlone
          : category === 'span'
            ? [
                {
                  by: { category: 'span', outcome: 'accepted', reason: 'none' },
                  totals: { 'sum(quantity)': 5 },
                },
              ]
            : errors(3400);
    sendJson(res, 200, { start: '2026-06-01T00:00:00Z', end: '2026-06-21T00:00:00Z', groups });
  });
  const { client } = makeClient(server.baseUrl);
  const ask = () =>
    organizationOutcomes(
      client,
      { start: new Date('2026-06-01T00:00:00Z'), end: new Date(NOW), by: ['outcome', 'reason'] },
      { signal: AbortSignal.timeout(10_000) },
    );
  try {
    const groups = await ask();
    assert.equal(
      groups.reduce((n, g) => n + g.quantity, 0),
      15,
      'the per-category answers, whole',
    );
    assert.deepEqual(
      server.hits.map((h) => [
        h.query.getAll('groupBy').join(','),
        h.query.get('category'),
        h.query.get('project'),
      ]),
      [
        ['category,outcome,reason', null, null],
        ['category', null, null],
        ['category,outcome,reason', 'error', null],
        ['category,outcome,reason', 'span', null],
      ],
    );
    errorAlone = errors(3400);
    await assert.rejects(ask(), /organization's error this cycle reached its 10000-row cap/);
  } finally {
    await client.close();
    await server.close();
  }
});
