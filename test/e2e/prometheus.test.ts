import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { Exporter } from '../../src/app.js';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator, SimMode } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { startPrometheus } from '../helpers/prometheus.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import type { RunningPrometheus } from '../helpers/prometheus.js';
import { missingTools, PROMETHEUS, testNeeding } from '../helpers/tools.js';

/**
 * A real Prometheus (Debian's package) scrapes two exporters with basic auth, one against a simulator that
 * answers like sentry.io and one like an older self-hosted Sentry, and what it stored equals the simulators'
 * ground truth for every family, project and environment.
 */
const prometheusTest = testNeeding([PROMETHEUS]);
const MODES: SimMode[] = ['sentry.io', 'self-hosted'];
const job = (mode: SimMode) => (mode === 'sentry.io' ? 'sentry' : 'sentry-self-hosted');
const runs = new Map<SimMode, { sim: SentrySimulator; exporter: Exporter }>();
let prom: RunningPrometheus;

before(async () => {
  if (missingTools([PROMETHEUS]).length > 0) return; // the tests say what is missing
  for (const mode of MODES) {
    const sim = await startSimulator({
      mode,
      seed: 7,
      projects: 8,
      environmentsPerProject: 2,
      issuesPerProject: 40,
      monitors: 6,
    });
    const { exporter } = await startExporterAgainst(sim, {
      SENTRY_EXPORTER_BASIC_AUTH: 'True',
      SENTRY_EXPORTER_BASIC_AUTH_USER: 'scraper',
      SENTRY_EXPORTER_BASIC_AUTH_PASS: 's3cret-pass',
      SENTRY_POLL_INTERVAL: '2',
      SENTRY_API_RATE: '20',
      SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
    });
    runs.set(mode, { sim, exporter });
  }
  const target = (mode: SimMode) => new URL(runs.get(mode)!.exporter.url).host;
  prom = await startPrometheus(`
  - job_name: ${job('sentry.io')}
    metrics_path: /metrics/
    basic_auth: { username: scraper, password: s3cret-pass }
    static_configs: [{ targets: ['${target('sentry.io')}'] }]
  - job_name: ${job('self-hosted')}
    basic_auth: { username: scraper, password: s3cret-pass }
    static_configs: [{ targets: ['${target('self-hosted')}'] }]
  - job_name: wrong-password
    basic_auth: { username: scraper, password: nope }
    static_configs: [{ targets: ['${target('sentry.io')}'] }]
`);
});

after(async () => {
  await prom?.stop();
  for (const { exporter, sim } of runs.values()) {
    await exporter.stop();
    await sim.close();
  }
});

/** What Prometheus stored for a job, as exposition text (the label `job` and `instance` left out). */
async function stored(jobName: string): Promise<string> {
  const rows = await prom.query(`{job="${jobName}", __name__=~"sentry_.+"}`);
  return rows
    .map((r) => {
      const { __name__: name, job: _job, instance: _instance, ...labels } = r.labels;
      const text = Object.entries(labels)
        .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
        .join(',');
      return `${name}{${text}} ${r.value}`;
    })
    .join('\n');
}

prometheusTest(
  'Prometheus scrapes both exporters: up is 1 with the right password, 0 with a wrong one',
  async () => {
    for (const mode of MODES) {
      await prom.waitFor(`${mode}: every collector published and was scraped`, async () => {
        const rows = await prom.query(`sentry_exporter_up{job="${job(mode)}"}`);
        const months = await prom.query(`count(sentry_sessions_total{job="${job(mode)}"})`);
        return rows[0]?.value === 1 && (months[0]?.value ?? 0) > 0;
      });
    }
    await prom.waitFor('a scrape of the wrong-password job', async () => {
      const rows = await prom.query('up{job="wrong-password"}');
      return rows.length === 1;
    });
    const up = await prom.query('up');
    const byJob = Object.fromEntries(up.map((r) => [r.labels.job, r.value]));
    assert.deepEqual(byJob, { sentry: 1, 'sentry-self-hosted': 1, 'wrong-password': 0 });
  },
);

for (const mode of MODES) {
  prometheusTest(
    `${mode}: every family stored by Prometheus equals the ground truth, for every project and environment`,
    async () => {
      const { sim } = runs.get(mode)!;
      const got = exportedNumbers(await stored(job(mode)));
      const want = expectedNumbers(sim.truth());
      for (const family of Object.keys(want) as Array<keyof typeof want>) {
        assert.deepEqual(got[family], want[family], `${mode}: ${family}`);
      }
      assert.ok(
        want.buckets.size > 0 && want.outcomes.size > 0 && want.monitors.size > 0,
        'the truth has issue buckets, outcomes and monitors',
      );
      assert.ok(
        want.sessions.size > 0 && want.crashFreeSessions.size > 0,
        'the truth has sessions and crash-free sessions',
      );
      assert.ok(
        [...want.buckets.keys()].some((k) => k.includes('/None/')),
        'a project without environments is covered',
      );
    },
  );
}

prometheusTest(
  'dashboard-style sums: sentry_issues_bucket{le="24h"} by project equals the ground truth',
  async () => {
    const { sim } = runs.get('sentry.io')!;
    const expected = new Map<string, number>();
    for (const w of sim.truth().issueWindows) expected.set(w.project, (expected.get(w.project) ?? 0) + w.h24);
    const rows = await prom.query('sum(sentry_issues_bucket{job="sentry",le="24h"}) by (project_slug)');
    assert.deepEqual(new Map(rows.map((r) => [r.labels.project_slug ?? '', r.value])), expected);
  },
);
