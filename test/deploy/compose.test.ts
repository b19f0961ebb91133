/**
 * docker-compose.yml cannot be started here (no Docker engine, no registry), so its wiring is checked:
 * mounted files exist, Prometheus scrapes the exporter service on its port, Grafana gets the data source
 * and the dashboard, and .env.example names only settings the exporter knows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { SETTINGS } from '../../src/collectors/index.js';
import { listSettings } from '../../src/config/settings.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p: string): string => readFileSync(path.join(repo, p), 'utf8');

interface Service {
  build?: string;
  image?: string;
  env_file?: string;
  ports?: string[];
  volumes?: string[];
  read_only?: boolean;
  tmpfs?: string[];
  cap_drop?: string[];
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service>; volumes: object };

/** host path -> container path of a service's bind mounts. */
function binds(service: Service): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of service.volumes ?? []) {
    const [host, target] = v.split(':');
    if (host!.startsWith('./')) out.set(host!, target!);
  }
  return out;
}

test('three services: the exporter built from the Dockerfile, Prometheus and Grafana', () => {
  assert.deepEqual(Object.keys(compose.services).sort(), ['grafana', 'prometheus', 'sentry-exporter']);
  const exporter = compose.services['sentry-exporter']!;
  assert.equal(exporter.build, '.');
  assert.equal(exporter.env_file, '.env');
  assert.deepEqual(exporter.ports, ['127.0.0.1:9790:9790']);
  assert.equal(exporter.read_only, true);
  assert.deepEqual(exporter.tmpfs, ['/tmp']);
  assert.deepEqual(exporter.cap_drop, ['ALL']);
});

test('every bind-mounted file or directory exists in the repository', () => {
  for (const [name, service] of Object.entries(compose.services)) {
    for (const host of binds(service).keys())
      assert.ok(existsSync(path.join(repo, host)), `${name}: ${host}`);
  }
});

test('Prometheus scrapes the exporter service and loads the alert rules it mounts', () => {
  const mounts = binds(compose.services.prometheus!);
  assert.equal(mounts.get('./deploy/compose/prometheus.yml'), '/etc/prometheus/prometheus.yml');
  assert.equal(mounts.get('./prometheus/alerts.yml'), '/etc/prometheus/alerts.yml');
  const config = parse(read('deploy/compose/prometheus.yml')) as {
    rule_files: string[];
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  assert.deepEqual(config.rule_files, ['alerts.yml']);
  const job = config.scrape_configs.find((s) =>
    s.static_configs[0]!.targets.includes('sentry-exporter:9790'),
  );
  assert.ok(job, 'a job scrapes sentry-exporter:9790');
  // The alerts' `up` selector must match this job.
  assert.match(job.job_name, /^.*sentry.*exporter.*$/);
  assert.ok(
    read('prometheus/alerts.yml').includes('job=~".*sentry.*exporter.*"'),
    'prometheus/alerts.yml selects the exporter with job=~".*sentry.*exporter.*"',
  );
});

test('Grafana gets the Prometheus data source and the dashboard from dashboards/', () => {
  const mounts = binds(compose.services.grafana!);
  assert.equal(mounts.get('./deploy/compose/grafana/provisioning'), '/etc/grafana/provisioning');
  const dashboardsDir = mounts.get('./dashboards');
  assert.ok(dashboardsDir, 'Grafana mounts ./dashboards');
  const provider = parse(read('deploy/compose/grafana/provisioning/dashboards/sentry.yml')) as {
    providers: { type: string; options: { path: string } }[];
  };
  assert.equal(provider.providers[0]!.type, 'file');
  assert.equal(provider.providers[0]!.options.path, dashboardsDir);
  const datasources = parse(read('deploy/compose/grafana/provisioning/datasources/prometheus.yml')) as {
    datasources: { type: string; url: string; isDefault: boolean }[];
  };
  assert.deepEqual(
    datasources.datasources.map((d) => [d.type, d.url, d.isDefault]),
    [['prometheus', 'http://prometheus:9090', true]],
  );
  assert.ok(
    existsSync(path.join(repo, 'dashboards/sentry-overview.json')),
    'dashboards/sentry-overview.json exists',
  );
});

test('.env.example names the required settings and only settings the exporter knows', () => {
  const keys = read('.env.example')
    .split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => l.slice(0, l.indexOf('=')));
  const known = new Set([
    ...listSettings(SETTINGS).map((s) => s.env),
    'GRAFANA_ADMIN_USER',
    'GRAFANA_ADMIN_PASSWORD',
  ]);
  for (const k of keys) assert.ok(known.has(k), `${k} is not an exporter setting`);
  for (const k of ['SENTRY_AUTH_TOKEN', 'SENTRY_EXPORTER_ORG', 'SENTRY_BASE_URL'])
    assert.ok(keys.includes(k), k);
  assert.equal(new Set(keys).size, keys.length, 'no key twice');
  // The real .env holds a token and is never committed.
  assert.match(read('.gitignore'), /^\.env$/m);
});
