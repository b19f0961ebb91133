import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { Exporter } from '../../src/app.js';
import { startSimulator } from '../../sim/index.js';
import type { GroundTruth, SentrySimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { startPrometheus } from '../helpers/prometheus.js';
import { expectedNumbers } from '../helpers/truth.js';
import type { RunningPrometheus } from '../helpers/prometheus.js';
import { missingTools, PROMETHEUS, testNeeding } from '../helpers/tools.js';

/**
 * A real Prometheus (Debian's package) scrapes the exporter with basic auth, and dashboard-style queries
 * return the simulator's ground truth for every project and environment.
 */
const prometheusTest = testNeeding([PROMETHEUS]);
let sim: SentrySimulator;
let exporter: Exporter;
let prom: RunningPrometheus;
let truth: GroundTruth;

before(async () => {
  if (missingTools([PROMETHEUS]).length > 0) return; // the tests say what is missing
  sim = await startSimulator({ seed: 7, projects: 8, environmentsPerProject: 2, issuesPerProject: 40 });
  ({ exporter } = await startExporterAgainst(sim, {
    SENTRY_EXPORTER_BASIC_AUTH: 'True',
    SENTRY_EXPORTER_BASIC_AUTH_USER: 'scraper',
    SENTRY_EXPORTER_BASIC_AUTH_PASS: 's3cret-pass',
    SENTRY_POLL_INTERVAL: '2',
    SENTRY_API_RATE: '20',
  }));
  truth = sim.truth();
  const target = new URL(exporter.url).host;
  prom = await startPrometheus(`
  - job_name: sentry
    metrics_path: /metrics/
    basic_auth: { username: scraper, password: s3cret-pass }
    static_configs: [{ targets: ['${target}'] }]
  - job_name: wrong-password
    basic_auth: { username: scraper, password: nope }
    static_configs: [{ targets: ['${target}'] }]
`);
});

after(async () => {
  await prom?.stop();
  await exporter?.stop();
  await sim?.close();
});

prometheusTest(
  'Prometheus scrapes the exporter: up is 1 with the right password, 0 with a wrong one',
  async () => {
    await prom.waitFor('a successful scrape with Sentry data', async () => {
      const rows = await prom.query('count(sentry_issues_bucket{job="sentry"})');
      return rows.length === 1 && (rows[0]?.value ?? 0) > 0;
    });
    await prom.waitFor('a scrape of the wrong-password job', async () => {
      const rows = await prom.query('up{job="wrong-password"}');
      return rows.length === 1;
    });
    const up = await prom.query('up');
    const byJob = Object.fromEntries(up.map((r) => [r.labels.job, r.value]));
    assert.equal(byJob.sentry, 1);
    assert.equal(byJob['wrong-password'], 0);
    const exporterUp = await prom.query('sentry_exporter_up{job="sentry"}');
    assert.equal(exporterUp[0]?.value, 1);
  },
);

prometheusTest('sum(sentry_issues_bucket{le="24h"}) by (project_slug) equals the ground truth', async () => {
  const expected = new Map<string, number>();
  for (const w of truth.issueWindows) expected.set(w.project, (expected.get(w.project) ?? 0) + w.h24);
  const rows = await prom.query('sum(sentry_issues_bucket{job="sentry",le="24h"}) by (project_slug)');
  const actual = new Map(rows.map((r) => [r.labels.project_slug ?? '', r.value]));
  assert.deepEqual(actual, expected);
});

prometheusTest(
  'every bucket of every project and environment equals the ground truth, the big project too',
  async () => {
    const rows = await prom.query('sentry_issues_bucket{job="sentry"}');
    const actual = new Map(
      rows.map((r) => [`${r.labels.project_slug}/${r.labels.environment}/${r.labels.le}`, r.value]),
    );
    const expected = expectedNumbers(truth).buckets;
    assert.deepEqual(actual, expected);
    assert.ok(
      truth.issueWindows.some((w) => w.environment === 'None'),
      'a project without environments is covered',
    );
  },
);

prometheusTest(
  'sum(sentry_open_issue_events) by (project_slug, environment) equals the ground truth',
  async () => {
    const expected = new Map<string, number>();
    for (const i of truth.openIssues) {
      const key = `${i.project}/${i.environment}`;
      expected.set(key, (expected.get(key) ?? 0) + i.count);
    }
    const rows = await prom.query(
      'sum(sentry_open_issue_events{job="sentry"}) by (project_slug, environment)',
    );
    const actual = new Map(rows.map((r) => [`${r.labels.project_slug}/${r.labels.environment}`, r.value]));
    assert.ok(expected.size > 0, 'the simulator has issues first seen within the hour');
    assert.deepEqual(actual, expected);
  },
);

prometheusTest('sentry_events_total{stat="received"} equals the ground truth per project', async () => {
  const rows = await prom.query('sentry_events_total{job="sentry",stat="received"}');
  const actual = new Map(rows.map((r) => [r.labels.project_slug ?? '', r.value]));
  const expected = new Map(truth.events.map((e) => [e.project, e.received]));
  assert.deepEqual(actual, expected);
});
