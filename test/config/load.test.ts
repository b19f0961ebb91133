import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { ConfigError } from '../../src/config/errors.js';
import { loadExporterConfig as loadConfig } from '../../src/collectors/index.js';
import { SETTINGS } from '../../src/collectors/index.js';
import { listSettings } from '../../src/config/settings.js';
import { cycleDeadlineOf, readyMaxAgeOf } from '../../src/pipeline/collector-state.js';

const base = { SENTRY_AUTH_TOKEN: 'tok-123456', SENTRY_EXPORTER_ORG: 'acme' };

function problemsOf(env: NodeJS.ProcessEnv, configFile?: string): string[] {
  try {
    loadConfig({ env, configFile });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected the configuration to be rejected');
}

test('defaults are those of the Python exporter plus ours', () => {
  const c = loadConfig({ env: base });
  assert.equal(c.sentry.baseUrl, 'https://sentry.io/api/0/');
  assert.equal(c.http.port, 9790);
  assert.equal(c.http.host, '0.0.0.0');
  assert.deepEqual(c.sentry.retry, { tries: 3, delay: 1, maxDelay: 10, backoff: 2, jitter: 0.5 });
  assert.equal(c.sentry.rate, 3);
  assert.equal(c.sentry.concurrency, 2);
  assert.equal(c.sentry.timeout, 30);
  assert.equal(c.collectors.issues.enabled, true);
  assert.equal(c.collectors.outcomes.events, true);
  assert.equal(c.collectors.rate_limits.enabled, false);
  assert.deepEqual(c.collectors.issues.windows, { h1: true, h24: true, d14: true });
  assert.equal(c.exposition.legacyMetrics, true);
  assert.equal(c.collectors.issues.openIssuesMax, 1000);
  assert.equal(c.schedule.pollInterval, 60);
  assert.equal(c.schedule.metadataInterval, 600);
  // 0: derived from the poll interval where it is used
  assert.equal(readyMaxAgeOf(c.schedule), 180);
  assert.equal(cycleDeadlineOf(c.schedule), 600);
  assert.deepEqual(c.http.basicAuth, { enabled: false, user: 'prometheus', pass: 'prometheus' });
  assert.equal(c.logLevel, 'info');
  assert.deepEqual(c.sentry.projects, []);
});

test('Python-style values are understood: "True"/"False", comma lists, URL without slash, WARNING', () => {
  const c = loadConfig({
    env: {
      ...base,
      SENTRY_BASE_URL: 'https://sentry.example.com/api/0',
      SENTRY_EXPORTER_PROJECTS: 'web, api,,web',
      SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
      SENTRY_SCRAPE_EVENT_METRICS: 'False',
      SENTRY_ISSUES_1H: 'no',
      SENTRY_EXPORTER_BASIC_AUTH: '1',
      LOG_LEVEL: 'WARNING',
      SENTRY_POLL_INTERVAL: '15',
    },
  });
  assert.equal(c.sentry.baseUrl, 'https://sentry.example.com/api/0/');
  assert.deepEqual(c.sentry.projects, ['web', 'api']);
  assert.equal(c.collectors.rate_limits.enabled, true);
  assert.equal(c.collectors.outcomes.events, false);
  assert.equal(c.collectors.issues.windows.h1, false);
  assert.equal(c.http.basicAuth.enabled, true);
  assert.equal(c.logLevel, 'warn');
  assert.equal(readyMaxAgeOf(c.schedule), 45, 'ready max age follows the interval');
  assert.equal(cycleDeadlineOf(c.schedule), 300);
});

test('each bad setting is named by its variable, all at once', () => {
  const problems = problemsOf({
    SENTRY_API_RATE: 'fast',
    SENTRY_EXPORTER_PORT: '70000',
    SENTRY_SCRAPE_ISSUE_METRICS: 'maybe',
    SENTRY_BASE_URL: 'ftp://sentry.example.com/',
    SENTRY_RETRY_TRIES: '2.5',
  });
  const joined = problems.join('\n');
  for (const name of [
    'SENTRY_API_RATE',
    'SENTRY_EXPORTER_PORT',
    'SENTRY_SCRAPE_ISSUE_METRICS',
    'SENTRY_BASE_URL',
    'SENTRY_RETRY_TRIES',
  ]) {
    assert.match(joined, new RegExp(`^${name}: `, 'm'), `${name} is named`);
  }
  assert.match(joined, /SENTRY_API_RATE: .*"fast"/);
});

test('a missing token or org is a clear problem', () => {
  const problems = problemsOf({});
  assert.ok(
    problems.some((p) => p.startsWith('SENTRY_AUTH_TOKEN: missing')),
    `a missing SENTRY_AUTH_TOKEN is named: ${problems.join('; ')}`,
  );
  assert.ok(
    problems.some((p) => p.startsWith('SENTRY_EXPORTER_ORG: missing')),
    `a missing SENTRY_EXPORTER_ORG is named: ${problems.join('; ')}`,
  );
});

test('the token can come from a file, and the token never appears in a problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spe-config-'));
  const file = join(dir, 'token');
  writeFileSync(file, 'file-token-abc\n');
  const c = loadConfig({ env: { SENTRY_AUTH_TOKEN_FILE: file, SENTRY_EXPORTER_ORG: 'acme' } });
  assert.equal(c.sentry.token, 'file-token-abc');

  assert.match(
    problemsOf({ SENTRY_AUTH_TOKEN_FILE: join(dir, 'nope'), SENTRY_EXPORTER_ORG: 'a' })[0] ?? '',
    /^SENTRY_AUTH_TOKEN_FILE: cannot read/,
  );
  const both = problemsOf({ ...base, SENTRY_AUTH_TOKEN_FILE: file, SENTRY_API_RATE: '-1' });
  assert.ok(
    both.some((p) => p.startsWith('SENTRY_AUTH_TOKEN_FILE: set only one')),
    `setting both SENTRY_AUTH_TOKEN and SENTRY_AUTH_TOKEN_FILE is named: ${both.join('; ')}`,
  );
  assert.ok(!both.join('\n').includes('tok-123456'), 'the problems do not contain the token');
  assert.ok(
    !both.join('\n').includes('file-token-abc'),
    'the problems do not contain the token read from the file',
  );
});

test('a config file sets values, the environment wins, unknown keys are rejected', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spe-config-'));
  const file = join(dir, 'exporter.yaml');
  writeFileSync(
    file,
    YAML.stringify({
      sentry: { rate: 5, org: 'from-file', projects: ['a', 'b'] },
      schedule: { pollInterval: 30 },
    }),
  );
  const c = loadConfig({ env: { SENTRY_AUTH_TOKEN: 't', SENTRY_API_RATE: '7' }, configFile: file });
  assert.equal(c.sentry.rate, 7, 'environment wins over the file');
  assert.equal(c.sentry.org, 'from-file');
  assert.deepEqual(c.sentry.projects, ['a', 'b']);
  assert.equal(c.schedule.pollInterval, 30);

  const viaEnv = loadConfig({ env: { SENTRY_AUTH_TOKEN: 't', SENTRY_EXPORTER_CONFIG: file } });
  assert.equal(viaEnv.sentry.org, 'from-file');

  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ sentry: { rat: 5 } }));
  const problems = problemsOf(base, bad);
  // given as --config (the loader's configFile), so the flag is named
  assert.deepEqual(problems, [
    `--config: ${bad} has an unknown key "sentry.rat"; did you mean "sentry.rate"?`,
  ]);
});

test('config/default.yaml lists every setting with the schema default', () => {
  const file = new URL('../../config/default.yaml', import.meta.url);
  const doc = YAML.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  for (const s of listSettings(SETTINGS)) {
    const value = s.path
      .split('.')
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], doc);
    assert.deepEqual(value, s.default, `${s.path} in config/default.yaml`);
  }
  // and loading it as a config file is accepted as it is
  const c = loadConfig({ env: base, configFile: file.pathname });
  assert.equal(c.sentry.rate, 3);
});

test('a settings file: each unknown key says what was probably meant', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spe-config-'));
  const file = join(dir, 'exporter.yaml');
  writeFileSync(
    file,
    [
      'SENTRY_BASE_URL: https://sentry.example.com/api/0/',
      'scrape:',
      '  issueMetrics: false',
      'schedule:',
      '  pollIntervall: 30',
      'collectors:',
      '  issues:',
      '    enable: true',
      'tokn: x',
      '',
    ].join('\n'),
  );
  assert.deepEqual(problemsOf(base, file), [
    `--config: ${file} has an unknown key "SENTRY_BASE_URL"; SENTRY_BASE_URL is an environment variable; in a settings file it is the key "sentry.baseUrl"`,
    `--config: ${file} has an unknown key "scrape.issueMetrics"; it is now "collectors.issues.enabled"`,
    `--config: ${file} has an unknown key "schedule.pollIntervall"; did you mean "schedule.pollInterval"?`,
    `--config: ${file} has an unknown key "collectors.issues.enable"; did you mean "collectors.issues.enabled"?`,
    `--config: ${file} has an unknown key "tokn"; did you mean "sentry.token"?`,
  ]);
});

test('a settings file that does not parse: its problem and line whole, the value masked, nothing reported missing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spe-config-'));
  const file = join(dir, 'broken.yaml');
  writeFileSync(file, 'sentry:\n  org: acme\n  token: tok-abc: pw-xyz\n');
  const problems = problemsOf({}, file);
  assert.deepEqual(problems, [
    [
      `--config: cannot parse ${file}: Nested mappings are not allowed in compact mappings at line 3, column 10`,
      '    line 3:   token: …',
      '                     ^ (the value is not shown: it may be a secret)',
    ].join('\n'),
  ]);
  assert.ok(!problems.join('\n').includes('tok-abc'), 'the token is not shown');
});

test('a bad value from the settings file names the variable and the file key; a secret is not quoted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spe-config-'));
  const file = join(dir, 'values.yaml');
  writeFileSync(file, 'sentry:\n  org: acme\n  token: [tok-abc]\nschedule:\n  pollInterval: 1x\n');
  assert.deepEqual(problemsOf({}, file), [
    `SENTRY_AUTH_TOKEN (sentry.token in ${file}): must be a string, got a list`,
    `SENTRY_POLL_INTERVAL (schedule.pollInterval in ${file}): must be a duration greater than 0: seconds (e.g. 60) or a number with a unit (90s, 1m, 2h), got "1x"`,
  ]);
  // Durations with a unit, from the environment and from a file.
  writeFileSync(file, 'schedule:\n  pollInterval: 2m\n');
  const c = loadConfig({ env: { ...base, SENTRY_METADATA_INTERVAL: '1h' }, configFile: file });
  assert.equal(c.schedule.pollInterval, 120);
  assert.equal(c.schedule.metadataInterval, 3600);
});
