/**
 * The Grafana dashboard: valid JSON, queries on the exporter's metrics only, a data source variable, and
 * PromQL that Prometheus parses (checked with promtool on a rules file made of the queries).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify, parse } from 'yaml';
import { KNOWN_METRICS, metricNames } from './promql-names.js';
import { PROMTOOL, testNeeding } from '../helpers/tools.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const promtoolTest = testNeeding([PROMTOOL]);

interface Target {
  expr: string;
  refId: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  datasource?: { type: string; uid: string };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(
  readFileSync(path.join(repo, 'dashboards/sentry-overview.json'), 'utf8'),
) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = panels.filter((p) => p.type !== 'row');
const targets = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));

test('the dashboard parses and has the rows of the issue', () => {
  assert.equal(dashboard.uid, 'sentry-exporter-overview');
  assert.deepEqual(
    panels.filter((p) => p.type === 'row').map((p) => p.title),
    [
      'Issues',
      'New issues in the last hour',
      'Events',
      'Quota and ingestion',
      'Rate limits',
      'Exporter health',
      'Cron monitors',
      'Release health',
      'Performance',
      'Quota',
    ],
  );
  assert.ok(queryPanels.length >= 20, `at least 20 panels with queries (${queryPanels.length})`);
  assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, 'panel ids are unique');
  for (const p of panels) assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the 24-column grid`);
  for (const p of queryPanels) assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`);
});

test('every query reads only the exporter metrics', () => {
  const variableQueries = dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const query = typeof v.query === 'string' ? v.query : v.query.query;
      // label_values(<selector>, <label>): the selector is the PromQL part.
      const m = /^label_values\((.*),\s*\w+\)$/.exec(query);
      assert.ok(m, `variable ${v.name}: ${query}`);
      return { panel: `variable ${v.name}`, expr: m[1]! };
    });
  for (const { panel, expr } of [...targets, ...variableQueries]) {
    const names = metricNames(expr);
    assert.ok(names.length > 0, `${panel}: no metric in ${expr}`);
    for (const name of names)
      assert.ok(KNOWN_METRICS.has(name), `${panel}: unknown metric ${name} in ${expr}`);
  }
  // The Sentry families and the health metrics are on the dashboard.
  const used = new Set(targets.flatMap((t) => metricNames(t.expr)));
  for (const name of [
    'sentry_issues_bucket',
    'sentry_open_issue_events',
    'sentry_events_total',
    'sentry_outcomes_total',
    'sentry_outcome_bytes_total',
    'sentry_rate_limit_events_sec',
    'sentry_monitor_status',
    'sentry_monitor_muted',
    'sentry_monitor_last_checkin_timestamp_seconds',
    'sentry_monitor_next_checkin_latest_timestamp_seconds',
    'sentry_exporter_up',
    'sentry_exporter_last_success_timestamp_seconds',
    'sentry_exporter_collection_duration_seconds',
    'sentry_exporter_api_requests_total',
    'sentry_sessions_total',
    'sentry_crash_free_sessions_ratio',
    'sentry_crash_free_users_ratio',
    'sentry_release_crash_free_sessions_ratio',
    'sentry_quota_usage_total',
    'sentry_quota_budget',
    'sentry_billing_cycle_start_timestamp_seconds',
    'sentry_billing_cycle_end_timestamp_seconds',
  ]) {
    assert.ok(used.has(name), `the dashboard shows ${name}`);
  }
  assert.ok(
    targets.some((t) => t.expr.includes('code="429"')),
    'a panel shows the 429s',
  );
});

test('the metric-name check rejects names the exporter does not have', () => {
  assert.deepEqual(metricNames('sum by (project_slug) (rate(sentry_events_total{stat="x"}[5m]))'), [
    'sentry_events_total',
  ]);
  assert.deepEqual(metricNames('sentry_issues{le="1h"} / on (job) group_left() up'), ['sentry_issues', 'up']);
  assert.ok(
    !KNOWN_METRICS.has(metricNames('sentry_issues{le="1h"}')[0]!),
    'sentry_issues is not a metric the exporter has, so the check rejects it',
  );
  assert.deepEqual(metricNames('{__name__=~"a_b|c_d", job=~"$job"}'), ['a_b', 'c_d']);
  assert.deepEqual(metricNames('count(x) or vector(0)'), ['x']);
});

test('every panel and query uses the data source variable', () => {
  const ds = dashboard.templating.list.find((v) => v.type === 'datasource');
  assert.ok(ds, 'a data source variable exists');
  assert.equal(ds.name, 'datasource');
  assert.equal(ds.query, 'prometheus');
  const ref = { type: 'prometheus', uid: '${datasource}' };
  for (const p of queryPanels) assert.deepEqual(p.datasource, ref, `${p.title}`);
  for (const t of targets) assert.deepEqual(t.datasource, ref, `${t.panel} ${t.refId}`);
  for (const v of dashboard.templating.list.filter((x) => x.type === 'query'))
    assert.deepEqual(v.datasource, ref);
  assert.ok(!JSON.stringify(dashboard).includes('DS_PROMETHEUS'), 'no import-time inputs');
});

test('the alert rules read only the exporter metrics', () => {
  const rules = parse(readFileSync(path.join(repo, 'prometheus/alerts.yml'), 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  for (const rule of rules.groups.flatMap((g) => g.rules)) {
    for (const name of metricNames(rule.expr))
      assert.ok(KNOWN_METRICS.has(name), `${rule.alert}: unknown ${name}`);
  }
});

promtoolTest('every dashboard query is PromQL that Prometheus parses', () => {
  // Grafana substitutes the variables before Prometheus sees a query; do the same with typical values.
  const substitute = (expr: string): string =>
    expr
      .replaceAll('$__rate_interval', '5m')
      .replaceAll('$window', '24h')
      .replace(/\$(job|instance|project|environment)\b/g, '.*');
  const rules = targets.map((t, i) => ({ record: `dashboard_query_${i}`, expr: substitute(t.expr) }));
  const dir = mkdtempSync(path.join(tmpdir(), 'dashboard-promql-'));
  try {
    const file = path.join(dir, 'queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    if (r.error) throw r.error;
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
