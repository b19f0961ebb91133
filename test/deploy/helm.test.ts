/**
 * Renders the Helm chart for the supported configurations and checks every document against the Kubernetes
 * and prometheus-operator schemas, plus the values files against values.schema.json. The renderer is
 * `helm template` when helm is on PATH, else the offline renderer in ../shared/tools/helm-render (built
 * from Debian's Go packages); with neither, the rendering tests are skipped, or fail under CI=true.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import {
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { loadExporterConfig } from '../../src/collectors/index.js';
import { onPath, testNeeding } from '../helpers/tools.js';
import type { Tool } from '../helpers/tools.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const chart = path.join(repo, 'helm/sentry-prometheus-exporter');
const release = 'sentry';
const namespace = 'monitoring';
const fullname = 'sentry-sentry-prometheus-exporter';
/** The Kubernetes version both renderers report in .Capabilities (helm-render's is fixed at 1.29). */
const KUBE_VERSION = '1.29.0';

const scratch = mkdtempSync(path.join(tmpdir(), 'helm-test-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

interface ChartRenderer {
  command: string;
  /** The command's arguments to render the chart in `dir` with `flags` (values files and API versions). */
  args(dir: string, flags: string[]): string[];
}

const offlineRenderer = path.join(repo, '../shared/tools/helm-render/build.sh');
/** Debian packages build.sh needs; it would install them itself, which a test must not do. */
const RENDERER_PACKAGES = ['golang-go', 'golang-github-masterminds-sprig-dev', 'golang-k8s-sigs-yaml-dev'];

function debianPackagesInstalled(packages: string[]): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}\n', ...packages], { encoding: 'utf8' });
  return (
    r.status === 0 &&
    r.stdout
      .trim()
      .split('\n')
      .every((l) => l.endsWith(' installed'))
  );
}

let renderer: ChartRenderer | undefined;
let rendererProblem = '';

/** Finds (and for helm-render builds, into this run's scratch directory) the renderer, once. */
function findRenderer(): ChartRenderer | undefined {
  if (renderer || rendererProblem) return renderer;
  // helm 2's `template` takes other arguments (`-n` is the release name there); use helm 3 or later only.
  const helmVersion = onPath('helm')
    ? spawnSync('helm', ['version', '--short'], { encoding: 'utf8' }).stdout
    : '';
  if (/^v[3-9]\./.test(helmVersion.trim())) {
    renderer = {
      command: 'helm',
      args: (dir, flags) => [
        'template',
        release,
        dir,
        '--namespace',
        namespace,
        '--kube-version',
        KUBE_VERSION,
        ...flags,
      ],
    };
  } else if (!existsSync(offlineRenderer)) {
    rendererProblem = `install helm 3 or later, or put the shared tools beside the repository (${offlineRenderer})`;
  } else if (!debianPackagesInstalled(RENDERER_PACKAGES)) {
    rendererProblem = `install helm 3 or later, or apt-get install ${RENDERER_PACKAGES.join(' ')} for ${offlineRenderer}`;
  } else {
    // A directory of its own, so test runs at the same time never build over each other's binary.
    const r = spawnSync('bash', [offlineRenderer, path.join(scratch, 'helm-render')], { encoding: 'utf8' });
    const built = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status === 0 && existsSync(built)) {
      renderer = { command: built, args: (dir, flags) => [dir, release, namespace, ...flags] };
    } else {
      rendererProblem = `${offlineRenderer} failed (status ${String(r.status)}): ${r.stderr.trim().slice(-500)}`;
    }
  }
  return renderer;
}

const RENDERER: Tool = {
  name: 'helm',
  get install() {
    return rendererProblem;
  },
  available: () => findRenderer() !== undefined,
};
/** A test that renders the chart. */
const renderTest = testNeeding([RENDERER]);

/** A rendered manifest, checked field by field by the tests. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

interface Rendered {
  status: number;
  stderr: string;
  docs: Doc[];
}

let counter = 0;

/**
 * Renders the chart with the given values files (paths relative to the chart) and inline values; `dir`
 * renders a copy of the chart instead.
 */
function render(files: string[], inline?: object, dir = chart): Rendered {
  const flags: string[] = [];
  for (const f of files) flags.push('-f', path.join(dir, f));
  if (inline) {
    const file = path.join(scratch, `values-${counter++}.json`);
    writeFileSync(file, JSON.stringify(inline));
    flags.push('-f', file);
  }
  flags.push('--api-versions', 'monitoring.coreos.com/v1');
  const use = findRenderer();
  if (!use) throw new Error(`no chart renderer: ${rendererProblem}`);
  const r = spawnSync(use.command, use.args(dir, flags), { encoding: 'utf8' });
  const docs =
    r.status === 0
      ? parseAllDocuments(r.stdout)
          .map((d) => {
            if (d.errors.length > 0) throw new Error(`rendered YAML does not parse: ${d.errors[0]!.message}`);
            return d.toJS() as Doc | null;
          })
          .filter((d): d is Doc => d !== null)
      : [];
  return { status: r.status ?? -1, stderr: r.stderr, docs };
}

/**
 * NOTES.txt as `helm install` prints it. Neither `helm template` nor the offline renderer renders it, so a
 * copy of the chart carries it as one more template, whose output is the text as a JSON string.
 */
function renderNotes(files: string[], inline?: object): string {
  const copy = path.join(scratch, `notes-chart-${counter++}`);
  cpSync(chart, copy, { recursive: true });
  const notes = readFileSync(path.join(copy, 'templates/NOTES.txt'), 'utf8');
  writeFileSync(
    path.join(copy, 'templates/notes-as-yaml.yaml'),
    `{{- define "notes-under-test" }}${notes}{{- end }}\nkind: Notes\nnotes: {{ include "notes-under-test" . | toJson }}\n`,
  );
  const r = render(files, inline, copy);
  assert.equal(r.status, 0, `render failed: ${r.stderr}`);
  return find(r.docs, 'Notes').notes as string;
}

function renderOk(files: string[], inline?: object): Doc[] {
  const r = render(files, inline);
  assert.equal(r.status, 0, `render failed: ${r.stderr}`);
  return r.docs;
}

const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

/** Constructs the model class for each document's kind and validates it against the schema. */
function validateAll(docs: Doc[]): void {
  assert.ok(docs.length > 0, 'nothing rendered');
  for (const doc of docs) {
    const key = `${doc.apiVersion}/${doc.kind}`;
    const Model = models[key];
    assert.ok(Model, `unexpected kind ${key}`);
    assert.doesNotThrow(
      () => new Model(doc as never).validate(),
      (e: Error) => {
        throw new Error(`${key} ${doc.metadata.name} is invalid: ${e.message}`);
      },
    );
  }
}

function find(docs: Doc[], kind: string): Doc {
  const found = docs.filter((d) => d.kind === kind);
  assert.equal(found.length, 1, `expected one ${kind}, got ${found.length}`);
  return found[0]!;
}

function container(docs: Doc[]): Doc {
  return find(docs, 'Deployment').spec.template.spec.containers[0];
}

function envOf(docs: Doc[]): Map<string, Doc> {
  return new Map((container(docs).env as Doc[]).map((e) => [e.name as string, e]));
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

renderTest('defaults with a token: the five base resources, all valid', () => {
  const docs = renderOk(['ci/default-values.yaml']);
  validateAll(docs);
  assert.deepEqual(docs.map((d) => d.kind).sort(), [
    'ConfigMap',
    'Deployment',
    'Secret',
    'Service',
    'ServiceAccount',
  ]);
  for (const d of docs) {
    assert.equal(d.metadata.namespace, namespace, `${d.kind} namespace`);
    assert.equal(d.metadata.name, fullname, `${d.kind} name`);
  }

  const deploy = find(docs, 'Deployment');
  assert.equal(deploy.spec.replicas, 1);
  assert.equal(container(docs).image, 'ghcr.io/sentry-prometheus-exporter/sentry-prometheus-exporter:0.1.0');
  assert.deepEqual(container(docs).ports, [{ name: 'http', containerPort: 9790, protocol: 'TCP' }]);

  const service = find(docs, 'Service');
  assert.deepEqual(service.spec.ports, [{ name: 'http', port: 9790, targetPort: 'http', protocol: 'TCP' }]);
  assert.deepEqual(service.spec.selector, deploy.spec.selector.matchLabels);

  const sa = find(docs, 'ServiceAccount');
  assert.equal(sa.automountServiceAccountToken, false);
  assert.equal(deploy.spec.template.spec.automountServiceAccountToken, false);
  assert.equal(deploy.spec.template.spec.serviceAccountName, sa.metadata.name);

  // The token lives only in the Secret and reaches the process as a file.
  const secret = find(docs, 'Secret');
  assert.deepEqual(secret.data, { 'sentry-auth-token': b64('sntrys_example_token') });
  const config = find(docs, 'ConfigMap');
  assert.ok(
    !JSON.stringify(config).includes('sntrys_example_token'),
    'the ConfigMap does not contain the token',
  );
  assert.ok(
    !JSON.stringify(deploy).includes('sntrys_example_token'),
    'the Deployment does not contain the token',
  );
  assert.equal(envOf(docs).get('SENTRY_AUTH_TOKEN_FILE')?.value, '/etc/sentry-exporter/secret/auth-token');
  const secretVolume = deploy.spec.template.spec.volumes.find((v: Doc) => v.name === 'secret');
  assert.deepEqual(secretVolume.secret.items, [{ key: 'sentry-auth-token', path: 'auth-token' }]);
  assert.equal(secretVolume.secret.secretName, fullname);
  assert.deepEqual(container(docs).envFrom, [{ configMapRef: { name: fullname } }]);

  assert.deepEqual(config.data, {
    SENTRY_BASE_URL: 'https://sentry.io/api/0/',
    SENTRY_EXPORTER_ORG: 'acme',
    SENTRY_EXPORTER_PROJECTS: '',
    SENTRY_API_RATE: '3',
    SENTRY_API_CONCURRENCY: '2',
    SENTRY_API_TIMEOUT: '30',
    SENTRY_API_MAX_ITEMS: '50000',
    SENTRY_RETRY_TRIES: '3',
    SENTRY_RETRY_DELAY: '1',
    SENTRY_RETRY_MAX_DELAY: '10',
    SENTRY_RETRY_BACKOFF: '2',
    SENTRY_RETRY_JITTER: '0.5',
    SENTRY_SCRAPE_ISSUE_METRICS: 'True',
    SENTRY_SCRAPE_EVENT_METRICS: 'True',
    SENTRY_SCRAPE_OUTCOME_METRICS: 'True',
    SENTRY_OUTCOME_LABELS: 'project_slug,category,outcome,reason',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'False',
    SENTRY_SCRAPE_MONITOR_METRICS: 'True',
    SENTRY_SCRAPE_RELEASE_HEALTH_METRICS: 'True',
    SENTRY_RELEASE_HEALTH_RELEASES: '0',
    SENTRY_PERFORMANCE_TRANSACTIONS: '0',
    SENTRY_PERFORMANCE_WINDOW: '900',
    SENTRY_PERFORMANCE_QUERY: '',
    SENTRY_PERFORMANCE_ENVIRONMENTS: '',
    SENTRY_SCRAPE_QUOTA_METRICS: 'True',
    SENTRY_BILLING_CYCLE_DAY: '1',
    SENTRY_QUOTA_BUDGETS: '',
    SENTRY_ISSUES_1H: 'True',
    SENTRY_ISSUES_24H: 'True',
    SENTRY_ISSUES_14D: 'True',
    SENTRY_OPEN_ISSUES_MAX: '1000',
    SENTRY_EXPORTER_LEGACY_METRICS: 'True',
    SENTRY_POLL_INTERVAL: '60',
    SENTRY_METADATA_INTERVAL: '600',
    SENTRY_OUTCOMES_INTERVAL: '0',
    SENTRY_RELEASE_HEALTH_INTERVAL: '300',
    SENTRY_PERFORMANCE_INTERVAL: '0',
    SENTRY_READY_MAX_AGE: '0',
    SENTRY_CYCLE_DEADLINE: '0',
    SENTRY_EXPORTER_BASIC_AUTH: 'False',
    SENTRY_EXPORTER_HOST: '0.0.0.0',
    SENTRY_EXPORTER_PORT: '9790',
    LOG_LEVEL: 'info',
  });
});

renderTest('checksum annotations roll the pods when the Secret or the settings change', () => {
  const annotations = (inline: object): Record<string, string> =>
    find(renderOk(['ci/default-values.yaml'], inline), 'Deployment').spec.template.metadata.annotations;
  const base = annotations({});
  assert.match(base['checksum/config']!, /^[0-9a-f]{64}$/);
  assert.match(base['checksum/secret']!, /^[0-9a-f]{64}$/);
  const newToken = annotations({ sentry: { authToken: 'rotated' } });
  assert.notEqual(newToken['checksum/secret'], base['checksum/secret']);
  assert.equal(newToken['checksum/config'], base['checksum/config']);
  const newInterval = annotations({ schedule: { pollInterval: 30 } });
  assert.notEqual(newInterval['checksum/config'], base['checksum/config']);
});

renderTest('everything enabled: every resource renders and validates, settings reach their places', () => {
  const docs = renderOk(['ci/all-enabled-values.yaml']);
  validateAll(docs);
  assert.deepEqual(docs.map((d) => d.kind).sort(), [
    'ConfigMap',
    'ConfigMap',
    'Deployment',
    'NetworkPolicy',
    'PodDisruptionBudget',
    'PrometheusRule',
    'Secret',
    'Service',
    'ServiceAccount',
    'ServiceMonitor',
  ]);
  for (const d of docs) assert.equal(d.metadata.labels.team, 'platform', `${d.kind} carries commonLabels`);

  const deploy = find(docs, 'Deployment');
  const pod = deploy.spec.template;
  const c = container(docs);
  assert.equal(
    c.image,
    `ghcr.io/sentry-prometheus-exporter/sentry-prometheus-exporter@sha256:${'0123456789abcdef'.repeat(4)}`,
  );
  assert.equal(pod.metadata.annotations['example.com/scrape-owner'], 'platform');
  assert.equal(pod.metadata.labels.tier, 'monitoring');
  assert.deepEqual(pod.spec.nodeSelector, { 'kubernetes.io/os': 'linux' });
  assert.equal(pod.spec.tolerations[0].key, 'dedicated');
  assert.equal(pod.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight, 50);
  assert.equal(pod.spec.topologySpreadConstraints[0].topologyKey, 'topology.kubernetes.io/zone');
  assert.equal(pod.spec.priorityClassName, 'monitoring');
  assert.deepEqual(pod.spec.imagePullSecrets, [{ name: 'regcred' }]);
  assert.deepEqual(c.resources, {
    requests: { cpu: '50m', memory: '96Mi' },
    limits: { cpu: '500m', memory: '384Mi' },
  });
  assert.equal(envOf(docs).get('NODE_OPTIONS')?.value, '--max-old-space-size=192');
  assert.deepEqual(c.envFrom[1], { configMapRef: { name: 'extra-settings' } });
  assert.ok(
    c.volumeMounts.some((m: Doc) => m.name === 'web-config' && m.mountPath === '/etc/sentry-exporter/web'),
    'the container mounts web-config at /etc/sentry-exporter/web',
  );
  assert.ok(
    pod.spec.volumes.some((v: Doc) => v.name === 'web-config'),
    'the pod has a web-config volume',
  );

  const config = docs.find((d) => d.kind === 'ConfigMap' && d.data.SENTRY_EXPORTER_ORG)!;
  assert.equal(config.data.SENTRY_BASE_URL, 'https://sentry.example.com/api/0/');
  assert.equal(config.data.SENTRY_EXPORTER_PROJECTS, 'web,api,worker');
  assert.equal(config.data.SENTRY_API_RATE, '5');
  assert.equal(config.data.SENTRY_RETRY_DELAY, '0.5');
  assert.equal(config.data.SENTRY_SCRAPE_RATE_LIMIT_METRICS, 'True');
  assert.equal(config.data.SENTRY_RELEASE_HEALTH_RELEASES, '5');
  assert.equal(config.data.SENTRY_RELEASE_HEALTH_INTERVAL, '600');
  assert.equal(config.data.SENTRY_ISSUES_14D, 'False');
  assert.equal(config.data.SENTRY_OPEN_ISSUES_MAX, '5000');
  assert.equal(config.data.SENTRY_EXPORTER_LEGACY_METRICS, 'False');
  assert.equal(config.data.SENTRY_POLL_INTERVAL, '120');
  assert.equal(config.data.SENTRY_READY_MAX_AGE, '600');
  assert.equal(config.data.SENTRY_EXPORTER_BASIC_AUTH, 'True');
  assert.equal(config.data.SENTRY_OUTCOME_LABELS, 'category,outcome,reason');
  assert.equal(config.data.SENTRY_SCRAPE_QUOTA_METRICS, 'True');
  assert.equal(config.data.SENTRY_BILLING_CYCLE_DAY, '15');
  // a map, sorted by category; large numbers written out, never 2e+09
  assert.equal(
    config.data.SENTRY_QUOTA_BUDGETS,
    'attachment=1GB,error=5M,profile_duration=10h,replay=50000,span=2000000000',
  );
  // The exporter takes these settings as they are.
  const loaded = loadExporterConfig({ env: { ...config.data, SENTRY_AUTH_TOKEN: 'sntrys_chart' } });
  assert.deepEqual(loaded.collectors.quota.budgets, {
    attachment: 1e9,
    error: 5e6,
    profile_duration: 36_000,
    replay: 50_000,
    span: 2e9,
  });
  assert.deepEqual(loaded.collectors.outcomes.labels, ['category', 'outcome', 'reason']);
  assert.equal(loaded.billing.cycleDay, 15);
  assert.equal(config.data.LOG_LEVEL, 'debug');

  const sm = find(docs, 'ServiceMonitor');
  assert.equal(sm.metadata.labels.release, 'kube-prometheus-stack');
  const ep = sm.spec.endpoints[0];
  assert.equal(ep.interval, '2m');
  assert.equal(ep.scrapeTimeout, '15s');
  assert.equal(ep.honorLabels, true);
  assert.equal(ep.relabelings[0].targetLabel, 'node');
  assert.equal(ep.metricRelabelings[0].action, 'drop');
  assert.deepEqual(sm.spec.targetLabels, ['exposed']);

  const rule = find(docs, 'PrometheusRule');
  const alerts = rule.spec.groups.flatMap((g: Doc) => g.rules.map((r: Doc) => r.alert));
  assert.ok(!alerts.includes('SentryEventsRejected'), 'disabled alert left out');
  assert.ok(alerts.includes('SentryProjectQuiet'), 'extra group appended');
  for (const r of rule.spec.groups[0].rules) assert.equal(r.labels.team, 'platform');
  // nameOverride "sentry" and release "sentry": the full name, hence the ServiceMonitor's job, is "sentry".
  assert.equal(rule.spec.groups[0].rules[0].expr, 'up{job="sentry"} == 0');

  const dash = docs.find((d) => d.kind === 'ConfigMap' && d.data['sentry-overview.json'])!;
  assert.equal(dash.metadata.namespace, 'grafana');
  assert.equal(dash.metadata.labels.grafana_dashboard, '1');
  assert.equal(dash.metadata.annotations.grafana_folder, 'Sentry');
  assert.deepEqual(
    JSON.parse(dash.data['sentry-overview.json']),
    JSON.parse(readFileSync(path.join(repo, 'dashboards/sentry-overview.json'), 'utf8')),
  );

  assert.equal(find(docs, 'PodDisruptionBudget').spec.minAvailable, 0);
  const np = find(docs, 'NetworkPolicy');
  assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
  assert.equal(
    np.spec.ingress[0].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'],
    'monitoring',
  );
  assert.deepEqual(
    np.spec.egress[1].ports.map((p: Doc) => p.port),
    [443, 9000],
  );
  assert.equal(np.spec.egress[1].to[0].ipBlock.cidr, '10.20.0.0/16');
  assert.equal(np.spec.egress[2].to[0].ipBlock.cidr, '10.30.0.0/16');
});

renderTest('existingSecret: no Secret is created, the pod and the ServiceMonitor use the named one', () => {
  const docs = renderOk(['ci/existing-secret-values.yaml']);
  validateAll(docs);
  assert.ok(!docs.some((d) => d.kind === 'Secret'), 'no Secret is rendered with existingSecret');
  const deploy = find(docs, 'Deployment');
  assert.equal(deploy.spec.template.metadata.annotations['checksum/secret'], undefined);
  const volume = deploy.spec.template.spec.volumes.find((v: Doc) => v.name === 'secret');
  assert.deepEqual(volume.secret.items, [{ key: 'token', path: 'auth-token' }]);
  assert.equal(volume.secret.secretName, 'sentry-exporter-credentials');
  const env = envOf(docs);
  assert.deepEqual(env.get('SENTRY_EXPORTER_BASIC_AUTH_USER')?.valueFrom, {
    secretKeyRef: { name: 'sentry-exporter-credentials', key: 'user' },
  });
  assert.deepEqual(env.get('SENTRY_EXPORTER_BASIC_AUTH_PASS')?.valueFrom, {
    secretKeyRef: { name: 'sentry-exporter-credentials', key: 'pass' },
  });
  assert.deepEqual(find(docs, 'ServiceMonitor').spec.endpoints[0].basicAuth, {
    username: { name: 'sentry-exporter-credentials', key: 'user' },
    password: { name: 'sentry-exporter-credentials', key: 'pass' },
  });
});

renderTest('basic auth on: the Secret holds the credentials and the ServiceMonitor sends them', () => {
  const docs = renderOk(['ci/basic-auth-values.yaml']);
  validateAll(docs);
  const secret = find(docs, 'Secret');
  assert.deepEqual(secret.data, {
    'sentry-auth-token': b64('sntrys_example_token'),
    'basic-auth-username': b64('scraper'),
    'basic-auth-password': b64('s3cret'),
  });
  const sm = find(docs, 'ServiceMonitor');
  assert.equal(sm.metadata.namespace, namespace);
  assert.deepEqual(sm.spec.selector.matchLabels, {
    'app.kubernetes.io/name': 'sentry-prometheus-exporter',
    'app.kubernetes.io/instance': release,
  });
  assert.deepEqual(sm.spec.endpoints[0], {
    port: 'http',
    path: '/metrics',
    scheme: 'http',
    interval: '60s',
    scrapeTimeout: '10s',
    honorLabels: false,
    basicAuth: {
      username: { name: fullname, key: 'basic-auth-username' },
      password: { name: fullname, key: 'basic-auth-password' },
    },
  });
  assert.equal(find(docs, 'ConfigMap').data.SENTRY_EXPORTER_BASIC_AUTH, 'True');
  assert.equal(
    envOf(docs).get('SENTRY_EXPORTER_BASIC_AUTH_PASS')?.valueFrom.secretKeyRef.key,
    'basic-auth-password',
  );
  // Without basic auth the ServiceMonitor carries no credentials.
  const plain = renderOk(['ci/default-values.yaml'], { serviceMonitor: { enabled: true } });
  assert.equal(find(plain, 'ServiceMonitor').spec.endpoints[0].basicAuth, undefined);
  assert.equal(envOf(plain).get('SENTRY_EXPORTER_BASIC_AUTH_PASS'), undefined);
});

renderTest('missing token and no existingSecret fails with the required message', () => {
  const r = render([], { sentry: { org: 'acme' } });
  assert.notEqual(r.status, 0);
  assert.match(
    r.stderr,
    /sentry\.authToken is required: set it .* or name a Secret holding the token with existingSecret/,
  );

  const noOrg = render([], { sentry: { authToken: 't' } });
  assert.notEqual(noOrg.status, 0);
  assert.match(noOrg.stderr, /sentry\.org is required/);

  const noPassword = render(['ci/default-values.yaml'], { basicAuth: { enabled: true } });
  assert.notEqual(noPassword.status, 0);
  assert.match(noPassword.stderr, /basicAuth\.password is required/);

  const otherNamespace = render(['ci/basic-auth-values.yaml'], {
    serviceMonitor: { namespace: 'prometheus' },
  });
  assert.notEqual(otherNamespace.status, 0);
  assert.match(otherNamespace.stderr, /serviceMonitor\.namespace must be the release namespace/);
});

renderTest('NOTES: the default image is where releases will be published; until then, build your own', () => {
  const byDefault = renderNotes(['ci/default-values.yaml']);
  assert.match(
    byDefault,
    /Image: ghcr\.io\/sentry-prometheus-exporter\/sentry-prometheus-exporter:0\.1\.0\n/,
  );
  assert.match(
    byDefault,
    /the chart's default image, where releases will be published; none is published there yet/,
  );
  assert.match(
    byDefault,
    /push it to your registry and set image\.registry, image\.repository and\s+image\.tag/,
  );
  const own = renderNotes(['ci/default-values.yaml'], {
    image: {
      registry: 'registry.example.com',
      repository: 'monitoring/sentry-prometheus-exporter',
      tag: '1.2.3',
    },
  });
  assert.match(own, /Image: registry\.example\.com\/monitoring\/sentry-prometheus-exporter:1\.2\.3\n/);
  assert.doesNotMatch(own, /none is published/);
  assert.match(own, /kubectl -n monitoring rollout status deployment\/sentry-sentry-prometheus-exporter/);
});

renderTest('replicaCount above 1 is refused at render time, saying why; 0 and 1 render', () => {
  for (const replicaCount of [2, 3]) {
    const r = render(['ci/default-values.yaml'], { replicaCount });
    assert.notEqual(r.status, 0, `replicaCount ${replicaCount} rendered`);
    assert.match(
      r.stderr,
      new RegExp(`replicaCount is ${replicaCount}, and this chart runs at most 1 replica`),
    );
    assert.match(r.stderr, /each replica would poll Sentry with the same token/);
    assert.match(r.stderr, /halve\) the token's API rate budget/);
    assert.match(r.stderr, /high availability is a later feature/);
  }
  for (const replicaCount of [0, 1])
    assert.equal(
      find(renderOk(['ci/default-values.yaml'], { replicaCount }), 'Deployment').spec.replicas,
      replicaCount,
    );
});

renderTest('probes: readiness /healthz, liveness /livez, a generous values-driven startup probe', () => {
  const c = container(renderOk(['ci/default-values.yaml']));
  assert.deepEqual(c.readinessProbe.httpGet, { path: '/healthz', port: 'http' });
  assert.deepEqual(c.livenessProbe.httpGet, { path: '/livez', port: 'http' });
  assert.deepEqual(c.startupProbe.httpGet, { path: '/healthz', port: 'http' });
  assert.equal(c.startupProbe.enabled, undefined, 'the chart-only `enabled` key is not rendered');
  assert.ok(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds >= 1800, 'at least 30 minutes');

  const tuned = container(
    renderOk(['ci/default-values.yaml'], { startupProbe: { failureThreshold: 180, periodSeconds: 5 } }),
  );
  assert.equal(tuned.startupProbe.failureThreshold, 180);
  assert.equal(tuned.startupProbe.periodSeconds, 5);
  const without = container(renderOk(['ci/default-values.yaml'], { startupProbe: { enabled: false } }));
  assert.equal(without.startupProbe, undefined);
});

renderTest(
  'security context: non-root uid 1000, read-only root, no privilege escalation, no capabilities',
  () => {
    const docs = renderOk(['ci/default-values.yaml']);
    const pod = find(docs, 'Deployment').spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, 1000);
    assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    const sc = container(docs).securityContext;
    assert.equal(sc.runAsNonRoot, true);
    assert.equal(sc.runAsUser, 1000);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.deepEqual(sc.capabilities, { drop: ['ALL'] });
    assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' });
    // A writable /tmp, since the root filesystem is read-only.
    assert.ok(
      container(docs).volumeMounts.some((m: Doc) => m.name === 'tmp' && m.mountPath === '/tmp'),
      'the container mounts the tmp volume at /tmp',
    );
    assert.deepEqual(
      pod.volumes.find((v: Doc) => v.name === 'tmp'),
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    );
    // The mounted token is readable by the pod's group (fsGroup 1000) only.
    assert.equal(pod.securityContext.fsGroup, 1000);
    assert.equal(pod.volumes.find((v: Doc) => v.name === 'secret').secret.defaultMode, 0o440);
  },
);

renderTest('the PrometheusRule carries the rules of prometheus/alerts.yml, with the release job', () => {
  const source = readFileSync(path.join(repo, 'prometheus/alerts.yml'), 'utf8');
  assert.equal(
    readFileSync(path.join(chart, 'files/alerts.yml'), 'utf8'),
    source,
    'files/alerts.yml is a copy',
  );
  assert.equal(
    readFileSync(path.join(chart, 'files/sentry-overview.json'), 'utf8'),
    readFileSync(path.join(repo, 'dashboards/sentry-overview.json'), 'utf8'),
    'files/sentry-overview.json is a copy',
  );
  const expected = parse(source.replaceAll('job=~".*sentry.*exporter.*"', `job="${fullname}"`)) as Doc;
  const rule = find(
    renderOk(['ci/default-values.yaml'], { prometheusRule: { enabled: true } }),
    'PrometheusRule',
  );
  assert.deepEqual(rule.spec.groups, expected.groups);
  assert.ok(
    JSON.stringify(rule.spec).includes(`up{job=\\"${fullname}\\"} == 0`),
    `the rules select the release's job: up{job="${fullname}"} == 0`,
  );

  const custom = find(
    renderOk(['ci/default-values.yaml'], {
      prometheusRule: { enabled: true, jobSelector: 'job=~"sentry|legacy"' },
    }),
    'PrometheusRule',
  );
  assert.equal(custom.spec.groups[0].rules[0].expr, 'up{job=~"sentry|legacy"} == 0');
});

test('Chart.yaml: appVersion matches package.json', () => {
  const chartYaml = parse(readFileSync(path.join(chart, 'Chart.yaml'), 'utf8')) as Doc;
  const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string };
  assert.equal(chartYaml.appVersion, pkg.version);
  assert.equal(chartYaml.apiVersion, 'v2');
  assert.equal(chartYaml.name, 'sentry-prometheus-exporter');
});

function deepMerge(a: Doc, b: Doc): Doc {
  const out: Doc = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      prev &&
      typeof prev === 'object' &&
      !Array.isArray(prev)
        ? deepMerge(prev, v)
        : v;
  }
  return out;
}

test('values.schema.json accepts the shipped values files and rejects wrong types and unknown keys', () => {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  const validate = ajv.compile(JSON.parse(readFileSync(path.join(chart, 'values.schema.json'), 'utf8')));
  const defaults = parse(readFileSync(path.join(chart, 'values.yaml'), 'utf8')) as Doc;
  assert.ok(validate(defaults), JSON.stringify(validate.errors));
  const ciFiles = readdirSync(path.join(chart, 'ci')).filter((f) => f.endsWith('.yaml'));
  assert.ok(ciFiles.length >= 4, `at least 4 values files under ci/ (${ciFiles.length})`);
  for (const f of ciFiles) {
    const merged = deepMerge(defaults, parse(readFileSync(path.join(chart, 'ci', f), 'utf8')) as Doc);
    assert.ok(validate(merged), `${f}: ${JSON.stringify(validate.errors)}`);
  }

  const rejects = (override: object, what: string): void => {
    assert.equal(validate(deepMerge(defaults, override as Doc)), false, `${what} should be rejected`);
  };
  rejects({ replicaCount: 'two' }, 'a string replicaCount');
  rejects({ sentry: { api: { rate: 'fast' } } }, 'a string rate');
  rejects({ sentry: { api: { rate: 0 } } }, 'a zero rate');
  rejects({ serviceMonitor: { enabled: 'yes' } }, 'a string boolean');
  rejects({ sentry: { projects: 'web,api' } }, 'projects as a string');
  rejects({ logLevel: 'verbose' }, 'an unknown log level');
  rejects({ serviceMonitor: { interval: 'one minute' } }, 'a malformed duration');
  rejects({ replicas: 2 }, 'an unknown top-level key');
  rejects({ sentry: { token: 'x' } }, 'an unknown key under sentry');
  rejects({ podAnnotations: { a: 1 } }, 'a non-string annotation');
  // The error names the offending key, so helm's message is useful.
  validate(deepMerge(defaults, { replicas: 2 } as Doc));
  assert.ok(
    validate.errors?.some(
      (e) => e.keyword === 'additionalProperties' && e.params.additionalProperty === 'replicas',
    ),
    `an unknown key is reported as additionalProperties naming replicas: ${JSON.stringify(validate.errors)}`,
  );
});

test('the chart README documents every value', () => {
  const readme = readFileSync(path.join(chart, 'README.md'), 'utf8');
  const defaults = parse(readFileSync(path.join(chart, 'values.yaml'), 'utf8')) as Doc;
  const leaves: string[] = [];
  const walk = (node: Doc, prefix: string): void => {
    for (const [k, v] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 && !isOpaque(key))
        walk(v, key);
      else leaves.push(key);
    }
  };
  walk(defaults, '');
  for (const key of leaves) assert.ok(readme.includes(`| \`${key}\` |`), `README values table lacks ${key}`);
});

/** Values passed through to Kubernetes as a whole are documented as one row. */
function isOpaque(key: string): boolean {
  return [
    'strategy',
    'podSecurityContext',
    'securityContext',
    'resources',
    'livenessProbe',
    'readinessProbe',
    'startupProbe.httpGet',
    'grafanaDashboard.labels',
  ].includes(key);
}

renderTest('schema validation catches a broken document (the check above can fail)', () => {
  const deploy = find(renderOk(['ci/default-values.yaml']), 'Deployment');
  deploy.spec.template.spec.containers[0].ports[0].containerPort = 'http-port';
  assert.throws(() => validateAll([deploy]));
  const sm = find(renderOk(['ci/basic-auth-values.yaml']), 'ServiceMonitor');
  sm.spec.endpoints[0].basicAuth.username = 'scraper';
  assert.throws(() => validateAll([sm]));
});
