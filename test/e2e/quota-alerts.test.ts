import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Exporter } from '../../src/app.js';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { startPrometheus } from '../helpers/prometheus.js';
import type { RunningPrometheus } from '../helpers/prometheus.js';
import { missingTools, PROMETHEUS, testNeeding } from '../helpers/tools.js';
import { expectedNumbers } from '../helpers/truth.js';

/**
 * The alert rules of prometheus/alerts.yml loaded by a real Prometheus (Debian's package) that scrapes an
 * exporter against the simulator: every rule evaluates without error on the exporter's real series (the
 * joins with sentry_organization_info find one match each), and the budget alert goes pending with the
 * organization and the link where the budgets are set to put the usage at 87.5 % (warning) and 150 %
 * (critical) of them.
 */
const prometheusTest = testNeeding([PROMETHEUS]);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let sim: SentrySimulator;
let exporter: Exporter;
let prom: RunningPrometheus;
let usage: Map<string, number>;

before(async () => {
  if (missingTools([PROMETHEUS]).length > 0) return; // the tests say what is missing
  sim = await startSimulator({ seed: 12, projects: 5, environmentsPerProject: 1, issuesPerProject: 5 });
  usage = expectedNumbers(sim.truth()).quota;
  const budget = (category: string, share: number) =>
    `${category}=${Math.round((usage.get(category) ?? 0) / share)}`;
  ({ exporter } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '2',
    SENTRY_API_RATE: '40',
    SENTRY_QUOTA_BUDGETS: [
      budget('error', 0.875),
      budget('attachment', 1.5),
      budget('transaction', 0.25),
    ].join(','),
  }));
  prom = await startPrometheus(
    `  - job_name: sentry-exporter
    static_configs: [{ targets: ['${new URL(exporter.url).host}'] }]
`,
    { ruleFiles: [path.join(repo, 'prometheus/alerts.yml')] },
  );
});

after(async () => {
  await prom?.stop();
  await exporter?.stop();
  await sim?.close();
});

interface RuleState {
  name: string;
  health: string;
  lastError?: string;
  lastEvaluation: string;
}

async function ruleStates(): Promise<RuleState[]> {
  const body = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as {
    data: { groups: Array<{ rules: RuleState[] }> };
  };
  return body.data.groups.flatMap((g) => g.rules);
}

prometheusTest('every alert rule loads and evaluates without error on the exporter’s series', async () => {
  await prom.waitFor('the quota and organization series scraped', async () => {
    const joined = await prom.query(
      'sentry_quota_usage_total * on (job, instance) group_left () sentry_organization_info',
    );
    return joined.length > 0;
  });
  // Every rule evaluated after the series were there: none has an error (a join matching more than one
  // info series, say, would show here).
  const since = Date.now();
  let rules: RuleState[] = [];
  await prom.waitFor('every rule evaluated since', async () => {
    rules = await ruleStates();
    return rules.length > 0 && rules.every((r) => Date.parse(r.lastEvaluation) > since);
  });
  const names = new Set(rules.map((r) => r.name));
  for (const alert of [
    'SentryQuotaBudgetUsed',
    'SentryQuotaProjectedExhaustion',
    'SentrySpikeProtectionActive',
    'SentryQuotaExhausted',
  ])
    assert.ok(names.has(alert), `${alert} is loaded`);
  assert.deepEqual(
    rules.filter((r) => r.health !== 'ok').map((r) => [r.name, r.lastError]),
    [],
    'every rule evaluates without error',
  );
});

prometheusTest(
  'SentryQuotaBudgetUsed goes pending: warning at 87.5 % of the error budget, critical at 150 % of the attachment one, with the organization and its quota page',
  async () => {
    let alerts: Array<{ labels: Record<string, string>; value: number }> = [];
    await prom.waitFor('the budget alerts pending', async () => {
      alerts = await prom.query('ALERTS{alertname="SentryQuotaBudgetUsed"}');
      return alerts.length >= 2;
    });
    assert.deepEqual(
      alerts
        .map((a) => [a.labels.category, a.labels.severity, a.labels.organization, a.labels.quota_url])
        .sort(),
      [
        [
          'attachment',
          'critical',
          'acme',
          'http://127.0.0.1:' + new URL(sim.url).port + '/settings/acme/rate-limits/',
        ],
        [
          'error',
          'warning',
          'acme',
          'http://127.0.0.1:' + new URL(sim.url).port + '/settings/acme/rate-limits/',
        ],
      ],
    );
    // The expression's value is the share of the budget used, as the exporter counted it.
    const shares = await prom.query(
      'sentry_quota_usage_total / on (job, instance, category) sentry_quota_budget',
    );
    const share = new Map(shares.map((r) => [r.labels.category, r.value]));
    assert.ok(Math.abs(share.get('error')! - 0.875) < 1e-6, `error: ${share.get('error')}`);
    assert.ok(Math.abs(share.get('attachment')! - 1.5) < 1e-6, `attachment: ${share.get('attachment')}`);
    assert.ok(Math.abs(share.get('transaction')! - 0.25) < 1e-6, `transaction: ${share.get('transaction')}`);
  },
);
