import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SETTINGS } from '../../src/collectors/index.js';
import { listSettings } from '../../src/config/settings.js';
import { startSimulator } from '../../sim/index.js';
import { listeningUrl, startExporterProcess } from '../hardening/helpers.js';
import { waitUntil } from '../helpers/wait.js';

const MAIN = ['--import', 'tsx', 'src/main.ts'];
const TOKEN = 'tok-cli-6f3a9c1d2e';
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

function run(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [...MAIN, ...args], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

test('--version prints the package version; --help lists every environment variable', () => {
  const version = run(['--version'], {});
  assert.equal(version.status, 0);
  assert.equal(version.stdout.trim(), pkg.version);
  const help = run(['--help'], {});
  assert.equal(help.status, 0);
  for (const s of listSettings(SETTINGS)) assert.match(help.stdout, new RegExp(`\\b${s.env}\\b`), s.env);
  // what a newcomer must set is marked; the settings file's variable is listed too
  assert.match(help.stdout, /^ {2}SENTRY_EXPORTER_ORG +.*\[required\]$/m);
  assert.match(help.stdout, /^ {2}SENTRY_AUTH_TOKEN +.*\[required: this or SENTRY_AUTH_TOKEN_FILE\]$/m);
  assert.match(help.stdout, /^ {2}SENTRY_EXPORTER_CONFIG +Settings file/m);
});

const badCases: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
  ['missing token', { SENTRY_EXPORTER_ORG: 'acme' }, /^configuration error: SENTRY_AUTH_TOKEN: missing/m],
  ['missing org', { SENTRY_AUTH_TOKEN: TOKEN }, /^configuration error: SENTRY_EXPORTER_ORG: missing/m],
  [
    'unparsable number',
    { SENTRY_AUTH_TOKEN: TOKEN, SENTRY_EXPORTER_ORG: 'a', SENTRY_POLL_INTERVAL: 'soon' },
    /^configuration error: SENTRY_POLL_INTERVAL: must be a duration greater than 0: seconds \(e\.g\. 60\) or a number with a unit \(90s, 1m, 2h\), got "soon"$/m,
  ],
  [
    'base URL not http(s)',
    { SENTRY_AUTH_TOKEN: TOKEN, SENTRY_EXPORTER_ORG: 'a', SENTRY_BASE_URL: 'file:///etc/passwd' },
    /^configuration error: SENTRY_BASE_URL: must be an http\(s\) URL/m,
  ],
  [
    'bad boolean',
    { SENTRY_AUTH_TOKEN: TOKEN, SENTRY_EXPORTER_ORG: 'a', SENTRY_EXPORTER_BASIC_AUTH: 'sure' },
    /^configuration error: SENTRY_EXPORTER_BASIC_AUTH: must be True or False/m,
  ],
  [
    'unknown config-file key',
    {
      SENTRY_AUTH_TOKEN: TOKEN,
      SENTRY_EXPORTER_ORG: 'a',
      SENTRY_EXPORTER_CONFIG: 'test/cli/fixtures/unknown-key.yaml',
    },
    /^configuration error: SENTRY_EXPORTER_CONFIG: .*unknown key "sentry\.rateLimit"/m,
  ],
  [
    'settings file that does not exist, named by the variable',
    { SENTRY_AUTH_TOKEN: TOKEN, SENTRY_EXPORTER_ORG: 'a', SENTRY_EXPORTER_CONFIG: 'no/such/file.yaml' },
    /^configuration error: SENTRY_EXPORTER_CONFIG: cannot read no\/such\/file\.yaml: ENOENT$/m,
  ],
];

test('a --config path that does not exist is named by the flag', () => {
  const r = run(['--config', 'no/such/file.yaml'], { SENTRY_AUTH_TOKEN: TOKEN, SENTRY_EXPORTER_ORG: 'a' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^configuration error: --config: cannot read no\/such\/file\.yaml: ENOENT$/m);
});

for (const [name, env, expected] of badCases) {
  test(`bad configuration exits 2 naming the variable: ${name}`, () => {
    const r = run([], env);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, expected);
    assert.ok(!`${r.stdout}${r.stderr}`.includes(TOKEN), 'the token never appears');
  });
}

test('an unknown command-line option exits 2', () => {
  const r = run(['--confgi', 'x'], {});
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--confgi/);
});

test('serves self-metrics before the first cycle, then Sentry data; SIGTERM exits 0', async () => {
  const sim = await startSimulator({ projects: 3, latencyMs: 400 });
  const {
    child,
    output: collected,
    exited: exit,
  } = startExporterProcess({
    SENTRY_BASE_URL: sim.url,
    SENTRY_AUTH_TOKEN: sim.token,
    SENTRY_EXPORTER_ORG: sim.org,
    SENTRY_API_RATE: '20',
  });
  const exited = exit.then(({ code }) => code);
  try {
    // Listening is logged before the first cycle starts, and the simulator answers slowly (400 ms).
    const url = await listeningUrl({ child, output: collected });
    const early = await fetch(`${url}/metrics`);
    assert.equal(early.status, 200);
    const earlyText = await early.text();
    // Nothing has failed yet: up is 1 while the first cycle goes (docs/operations.md).
    assert.match(earlyText, /^sentry_exporter_up 1$/m, 'self-metrics only before the first cycle, up 1');
    assert.doesNotMatch(earlyText, /^sentry_issues_bucket/m);
    assert.equal((await fetch(`${url}/healthz`)).status, 503);

    await waitUntil(
      '/healthz to turn ready',
      async () => (await fetch(`${url}/healthz`)).status === 200,
      30_000,
    );
    // Ready once one collector has published; each collector publishes as soon as it is done.
    await waitUntil(
      'the issue families to be published',
      async () => /^sentry_issues_bucket\{/m.test(await (await fetch(`${url}/metrics`)).text()),
      30_000,
    );
    // The issue windows are published before the run has looked up every open issue's release.
    await waitUntil(
      'the whole first cycle',
      async () => collected().includes('"msg":"collection cycle done"'),
      30_000,
    );

    child.kill('SIGTERM');
    const started = Date.now();
    assert.equal(await exited, 0);
    // What the README promises; generous for a process that has nothing left to do.
    assert.ok(Date.now() - started < 5000, 'exits within 5 s');
    assert.match(collected(), /"msg":"collection cycle done"/);
    assert.ok(!collected().includes(sim.token), 'the token is not logged');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await sim.close();
  }
});
