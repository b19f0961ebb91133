/**
 * Counters never go down but at their reset. A project whose stats and sessions Sentry refuses (403) for a
 * few cycles keeps its last values: a real Prometheus (Debian's package) scraping every second sees no
 * reset, and `increase()` over the fault is what Sentry really counted in that time (nothing), not the
 * whole value again.
 */
import assert from 'node:assert/strict';
import { startSimulator } from '../../sim/index.js';
import { parseExposition, startExporterAgainst } from '../helpers/exporter.js';
import { startPrometheus } from '../helpers/prometheus.js';
import { PROMETHEUS, testNeeding } from '../helpers/tools.js';
import { waitUntil } from '../helpers/wait.js';

testNeeding([PROMETHEUS])(
  'a project refused for a while: its counters hold their values, no reset, increase() is 0 through the fault',
  async () => {
    const sim = await startSimulator({
      seed: 44,
      projects: 4,
      environmentsPerProject: 2,
      issuesPerProject: 5,
    });
    const { exporter, logs } = await startExporterAgainst(sim, {
      SENTRY_POLL_INTERVAL: '1',
      SENTRY_RELEASE_HEALTH_INTERVAL: '1',
      SENTRY_API_RATE: '40',
      SENTRY_SCRAPE_ISSUE_METRICS: 'False',
      SENTRY_SCRAPE_MONITOR_METRICS: 'False',
    });
    const prom = await startPrometheus(`
  - job_name: sentry
    static_configs: [{ targets: ['${new URL(exporter.url).host}'] }]
`);
    try {
      await exporter.collection.runCycle();
      const rows = parseExposition(exporter.snapshot.sentryText);
      const project = rows
        .filter((r) => r.name === 'sentry_events_total' && r.labels.stat === 'received' && r.value > 0)
        .map((r) => r.labels.project_slug)[0];
      assert.ok(project !== undefined, 'a project with events');
      const id = rows.find((r) => r.name === 'sentry_project_info' && r.labels.project_slug === project)
        ?.labels.project_id;
      assert.ok(id !== undefined, `the id of ${project}`);
      const series = `sentry_events_total{project_slug="${project}",stat="received"}`;
      const sessions = `sum(sentry_sessions_total{project_slug="${project}"})`;
      const value = async (q: string) => (await prom.query(q))[0]?.value;
      await prom.waitFor(
        'Prometheus has the counters',
        async () => (await value(series)) !== undefined && (await value(sessions)) !== undefined,
      );
      const before = { events: await value(series), sessions: await value(sessions) };
      assert.ok((before.events ?? 0) > 0, `${series} = ${before.events}`);

      // Sentry refuses the project (403) for a while: several cycles, several scrapes.
      sim.setFaults({ refusedProjects: [id] });
      const refusedAt = Date.now();
      await waitUntil('the refusal seen by a cycle', async () => logs().includes('projects refused (403)'));
      await waitUntil('six seconds of scrapes through the fault', async () => Date.now() - refusedAt > 6000);
      const during = { events: await value(series), sessions: await value(sessions) };
      sim.setFaults({});

      assert.deepEqual(during, before, 'the counters held their values through the fault, not 0');
      assert.equal(await value(`resets(${series}[1m])`), 0, 'Prometheus saw no counter reset');
      assert.equal(
        await value(`increase(${series}[1m])`),
        0,
        'increase() over the fault is what Sentry counted: 0',
      );
      assert.equal(
        await value(`sum(resets(sentry_sessions_total{project_slug="${project}"}[1m]))`),
        0,
        'no session counter reset either',
      );
      assert.match(logs(), /their counters kept as they were/, 'said once, when found');
    } finally {
      await prom.stop();
      await exporter.stop();
      await sim.close();
    }
  },
);
