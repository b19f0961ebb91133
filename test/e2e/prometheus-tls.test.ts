import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import bcrypt from 'bcryptjs';
import type { Exporter } from '../../src/app.js';
import { startSimulator } from '../../sim/index.js';
import type { GroundTruth, SentrySimulator } from '../../sim/index.js';
import { makePki } from '../http/certs.js';
import type { TestPki } from '../http/certs.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers } from '../helpers/truth.js';
import { startPrometheus } from '../helpers/prometheus.js';
import type { RunningPrometheus } from '../helpers/prometheus.js';
import { missingTools, PROMETHEUS, testNeeding } from '../helpers/tools.js';

/**
 * A real Prometheus scrapes the exporter over mutual TLS with a bcrypt user from a web config file
 * (`--web.config.file` format of the Prometheus exporter-toolkit): `scheme: https` and `tls_config` with a
 * client certificate get the ground truth; a scraper without a client certificate, with one the CA did not
 * sign, over plain HTTP, or with a wrong password is refused.
 */
const prometheusTest = testNeeding([PROMETHEUS]);
const JOBS = ['mtls', 'no-client-cert', 'rogue-client-cert', 'plain-http', 'wrong-password'] as const;
let pki: TestPki;
let sim: SentrySimulator;
let exporter: Exporter;
let prom: RunningPrometheus;
let truth: GroundTruth;

before(async () => {
  if (missingTools([PROMETHEUS]).length > 0) return; // the tests say what is missing
  pki = await makePki();
  const webConfig = join(pki.dir, 'web-config.yml');
  writeFileSync(
    webConfig,
    [
      'tls_server_config:',
      '  cert_file: server.pem',
      '  key_file: server.key',
      '  client_ca_file: ca.pem',
      '  client_auth_type: RequireAndVerifyClientCert',
      '  min_version: TLS12',
      'basic_auth_users:',
      `  prometheus: ${bcrypt.hashSync('tls-scrape-pw', 4).replace(/^\$2b\$/, '$2y$')}`,
      '',
    ].join('\n'),
  );
  sim = await startSimulator({ seed: 11, projects: 6, environmentsPerProject: 2, issuesPerProject: 30 });
  ({ exporter } = await startExporterAgainst(sim, {
    SENTRY_EXPORTER_WEB_CONFIG: webConfig,
    SENTRY_POLL_INTERVAL: '2',
    SENTRY_API_RATE: '20',
  }));
  truth = sim.truth();
  const target = new URL(exporter.url).host;
  const ca = join(pki.dir, 'ca.pem');
  const job = (name: string, scheme: string, tls: string, password = 'tls-scrape-pw') => `
  - job_name: ${name}
    scheme: ${scheme}
    basic_auth: { username: prometheus, password: ${password} }
    tls_config: { ${tls} }
    static_configs: [{ targets: ['${target}'] }]`;
  const clientPair = `cert_file: ${join(pki.dir, 'client.pem')}, key_file: ${join(pki.dir, 'client.key')}`;
  prom = await startPrometheus(
    [
      job('mtls', 'https', `ca_file: ${ca}, ${clientPair}`),
      job('no-client-cert', 'https', `ca_file: ${ca}`),
      job(
        'rogue-client-cert',
        'https',
        `ca_file: ${ca}, cert_file: ${join(pki.dir, 'rogue.pem')}, key_file: ${join(pki.dir, 'rogue.key')}`,
      ),
      job('plain-http', 'http', `ca_file: ${ca}`),
      job('wrong-password', 'https', `ca_file: ${ca}, ${clientPair}`, 'not-the-password'),
    ].join('') + '\n',
  );
});

after(async () => {
  await prom?.stop();
  await exporter?.stop();
  await sim?.close();
  pki?.cleanup();
});

prometheusTest(
  'over mTLS with a bcrypt user Prometheus gets the data; every other scraper is refused',
  async () => {
    await prom.waitFor('a scrape of every job with Sentry data on the mTLS one', async () => {
      const up = await prom.query('up');
      const data = await prom.query('count(sentry_issues_bucket{job="mtls"})');
      return up.length === JOBS.length && (data[0]?.value ?? 0) > 0;
    });
    const up = Object.fromEntries((await prom.query('up')).map((r) => [r.labels.job, r.value]));
    assert.deepEqual(up, {
      mtls: 1,
      'no-client-cert': 0,
      'rogue-client-cert': 0,
      'plain-http': 0,
      'wrong-password': 0,
    });
  },
);

prometheusTest('the numbers scraped over mTLS equal the ground truth', async () => {
  const key = (r: { labels: Record<string, string> }, ...names: string[]) =>
    names.map((n) => r.labels[n]).join('/');
  const expected = expectedNumbers(truth);
  const buckets = await prom.query('sentry_issues_bucket{job="mtls"}');
  assert.deepEqual(
    new Map(buckets.map((r) => [key(r, 'project_slug', 'environment', 'le'), r.value])),
    expected.buckets,
  );
  const events = await prom.query('sentry_events_total{job="mtls"}');
  assert.deepEqual(new Map(events.map((r) => [key(r, 'project_slug', 'stat'), r.value])), expected.events);
});

prometheusTest(
  'the refused scrapes say why: TLS handshake for certificates, 401 for the password',
  async () => {
    const targets = (await (await fetch(`${prom.url}/api/v1/targets`)).json()) as {
      data: { activeTargets: Array<{ labels: Record<string, string>; lastError: string }> };
    };
    const errors = Object.fromEntries(targets.data.activeTargets.map((t) => [t.labels.job, t.lastError]));
    assert.equal(errors.mtls, '');
    assert.match(errors['wrong-password'] ?? '', /401/);
    assert.match(errors['plain-http'] ?? '', /400|malformed HTTP response|connection reset|EOF/i);
    for (const job of ['no-client-cert', 'rogue-client-cert']) {
      assert.match(errors[job] ?? '', /tls|certificate|EOF|connection reset/i, `${job}: ${errors[job]}`);
    }
  },
);
