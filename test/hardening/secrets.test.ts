/**
 * Secrets never leave the process: the Sentry token, the basic-auth passwords and every Authorization header
 * a client sent are searched for in everything the exporter writes (stdout, stderr, at trace, debug and info)
 * and everything it answers (`/`, `/metrics`, `/healthz`, `/livez`, 401/404/400/431 bodies and headers),
 * while it runs through the paths that log: healthy cycles, scrapes with good, wrong and malformed
 * credentials, Sentry refusing the token (401/403), Sentry failing (5xx, resets), and configuration errors
 * at start.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { startSimulator } from '../../sim/index.js';
import { parseExposition } from '../helpers/exporter.js';
import type { LogRecord } from './helpers.js';
import { logRecords, spawnExporterChild, startExporterProcess, valueOf, waitUntil } from './helpers.js';

// Distinctive values: none of them (nor any 10-character piece of them) can occur in output by chance.
const TOKEN = 'tokQ7vX2mLw9Rz4TnK8bY6hJ3pD5sF1gC0aE';
const USER = 'scraper';
const PASS = 'pwH4kT9qZ2xV7mB3nR8wL5cJ';
const WEB_USER = 'webscraper';
const WEB_PASS = 'wpG6yP1dS8fK3hQ9zX4vN7bM';
/** A wrong password a scraper tries: a credential too, and must not be echoed either. */
const WRONG_PASS = 'wrT5gU2jE9rW6yI3oP8aS1dF';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const basic = (user: string, pass: string): string => `Basic ${b64(`${user}:${pass}`)}`;

const GOOD_HEADERS = [basic(USER, PASS), basic(WEB_USER, WEB_PASS)];
/** Every Authorization header the exporter must reject with the same 401. */
const BAD_HEADERS = [
  basic(USER, WRONG_PASS),
  basic(WEB_USER, WRONG_PASS),
  basic(WEB_USER, PASS),
  basic(USER, WEB_PASS),
  `Basic ${PASS}`, // not base64
  `Basic ${b64(`${USER}${PASS}`)}`, // no colon
  `Bearer ${TOKEN}`, // the Sentry token, sent to the wrong place
  PASS, // no scheme
  `Basic ${b64(`${USER}:${PASS}`)}!!`, // garbage after the base64
  `Digest username="${USER}", response="${PASS}"`,
];

const RAW_SECRETS = [TOKEN, PASS, WEB_PASS, WRONG_PASS];
const SECRETS = [
  ...RAW_SECRETS,
  `Bearer ${TOKEN}`,
  b64(`${USER}:${PASS}`),
  b64(`${WEB_USER}:${WEB_PASS}`),
  b64(`${USER}:${WRONG_PASS}`),
  b64(`${WEB_USER}:${WRONG_PASS}`),
  b64(`${USER}${PASS}`),
  ...GOOD_HEADERS,
  ...BAD_HEADERS,
];

/** Fails naming the place and the secret (or a 10-character piece of a raw secret) found there. */
function assertNoSecrets(where: string, text: string): void {
  for (const secret of SECRETS) {
    assert.ok(!text.includes(secret), `${where} contains the secret "${secret}"`);
  }
  for (const secret of RAW_SECRETS) {
    for (let i = 0; i + 10 <= secret.length; i++) {
      const piece = secret.slice(i, i + 10);
      const at = text.indexOf(piece);
      assert.ok(
        at === -1,
        `${where} contains "${piece}", a piece of a secret: …${text.slice(Math.max(0, at - 80), at + 40)}…`,
      );
    }
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One GET on a fresh connection (no pooled socket outlives the test); gzip bodies are decoded. */
function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const gzipped = res.headers['content-encoding'] === 'gzip';
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: (gzipped ? gunzipSync(bytes) : bytes).toString(),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Writes raw bytes on a fresh connection and returns whatever comes back before the server closes it. */
function raw(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(bytes));
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' ? resolve(received) : reject(err),
    );
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
  });
}

const describeAnswer = (a: Answer): string => `${a.status} ${JSON.stringify(a.headers)} ${a.body}`;

let dir: string;
let tokenFile: string;
let webConfig: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'secrets-test-'));
  tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  webConfig = join(dir, 'web.yml');
  writeFileSync(webConfig, `basic_auth_users:\n  ${WEB_USER}: '${bcrypt.hashSync(WEB_PASS, 4)}'\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const messages = (records: LogRecord[], msg: string): LogRecord[] => records.filter((r) => r.msg === msg);
const failures = (records: LogRecord[]) =>
  messages(records, 'collector failed; keeping its last good values').map(
    (r) => r.error as { status?: number; kind?: string; message?: string },
  );

const RUNS: Array<{ level: 'trace' | 'debug' | 'info'; tokenFrom: 'env' | 'file' }> = [
  { level: 'trace', tokenFrom: 'env' },
  { level: 'trace', tokenFrom: 'file' },
  { level: 'debug', tokenFrom: 'env' },
  { level: 'info', tokenFrom: 'file' },
];

for (const { level, tokenFrom } of RUNS) {
  test(`LOG_LEVEL=${level}, token from ${tokenFrom === 'env' ? 'SENTRY_AUTH_TOKEN' : 'SENTRY_AUTH_TOKEN_FILE'}: no secret in any output or answer`, async (t) => {
    const sim = await startSimulator({
      seed: 41,
      token: TOKEN,
      projects: 3,
      environmentsPerProject: 2,
      issuesPerProject: 20,
    });
    const exporter = await spawnExporterChild({
      SENTRY_BASE_URL: sim.url,
      ...(tokenFrom === 'env' ? { SENTRY_AUTH_TOKEN: TOKEN } : { SENTRY_AUTH_TOKEN_FILE: tokenFile }),
      SENTRY_EXPORTER_ORG: sim.org,
      SENTRY_POLL_INTERVAL: '0.4',
      SENTRY_METADATA_INTERVAL: '3600',
      SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
      SENTRY_API_RATE: '100',
      SENTRY_API_CONCURRENCY: '4',
      SENTRY_RETRY_TRIES: '2',
      SENTRY_RETRY_DELAY: '0.02',
      SENTRY_RETRY_JITTER: '0',
      SENTRY_EXPORTER_BASIC_AUTH: 'True',
      SENTRY_EXPORTER_BASIC_AUTH_USER: USER,
      SENTRY_EXPORTER_BASIC_AUTH_PASS: PASS,
      SENTRY_EXPORTER_WEB_CONFIG: webConfig,
      LOG_LEVEL: level,
    });
    const answers: Array<[string, Answer]> = [];
    const ask = async (what: string, path: string, headers: Record<string, string> = {}) => {
      const a = await get(exporter.url + path, headers);
      answers.push([what, a]);
      return a;
    };
    const records = () => logRecords(exporter.output());
    const scrapeAll = async (phase: string) => {
      for (const authorization of GOOD_HEADERS) {
        for (const path of ['/metrics', '/metrics/', '/']) {
          const a = await ask(`${phase} ${path} with good credentials`, path, { authorization });
          assert.equal(a.status, 200, `${phase} ${path}: ${a.body.slice(0, 200)}`);
        }
        for (const path of ['/healthz', '/livez', '/nowhere']) {
          await ask(`${phase} ${path} with good credentials`, path, { authorization });
        }
        const gz = await ask(`${phase} gzip /metrics`, '/metrics', {
          authorization,
          'accept-encoding': 'gzip',
        });
        assert.equal(gz.headers['content-encoding'], 'gzip');
        assert.match(gz.body, /^sentry_exporter_up /m, 'the gzip body was decoded before the search');
      }
    };
    try {
      await waitUntil('a healthy cycle', () => messages(records(), 'collection cycle done').length >= 2);
      await scrapeAll('healthy');
      const metrics = answers.find(([what]) => what === 'healthy /metrics with good credentials')![1];
      assert.match(metrics.body, /^sentry_issues_bucket\{/m, 'the token worked: Sentry data is published');

      // Wrong and malformed credentials, on every protected path and the open ones.
      let rejected = 0;
      for (const authorization of BAD_HEADERS) {
        for (const path of ['/metrics', '/metrics/', '/']) {
          const a = await ask(`${path} with "${authorization}"`, path, { authorization });
          assert.equal(a.status, 401, `${path} with "${authorization}"`);
          rejected++;
        }
        await ask(`/healthz with "${authorization}"`, '/healthz', { authorization });
        await ask(`/livez with "${authorization}"`, '/livez', { authorization });
        await ask(`404 with "${authorization}"`, '/nowhere', { authorization });
      }
      assert.equal((await ask('no credentials', '/metrics')).status, 401);
      rejected++;
      // Requests Node's parser refuses, carrying credentials: their raw bytes must not be logged.
      const malformed = await raw(
        exporter.url,
        `GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: ${GOOD_HEADERS[0]}\r\nContent-Length: nope\r\n\r\n`,
      );
      assert.match(malformed, /^HTTP\/1\.1 400 /);
      const overflow = await raw(
        exporter.url,
        `GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: ${BAD_HEADERS[0]}\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      assert.match(overflow, /^HTTP\/1\.1 431 /);
      const badLine = await raw(
        exporter.url,
        `GET /metrics ${PASS}\r\nAuthorization: ${GOOD_HEADERS[1]}\r\n\r\n`,
      );
      assert.match(badLine, /^HTTP\/1\.1 400 /);

      // Sentry refuses the token, then lacks a scope, then fails with 5xx and resets.
      sim.setTokenStatus('revoked');
      await waitUntil('a 401 from Sentry in the log', () =>
        failures(records()).some((e) => e.status === 401),
      );
      await scrapeAll('token revoked');
      sim.setTokenStatus('missing-scope');
      await waitUntil('a 403 from Sentry in the log', () =>
        failures(records()).some((e) => e.status === 403),
      );
      sim.setTokenStatus('valid');
      sim.setFaults({ serverErrorRate: 1 });
      await waitUntil('a 5xx from Sentry in the log', () =>
        failures(records()).some((e) => (e.status ?? 0) >= 500),
      );
      sim.setFaults({ resetRate: 1 });
      await waitUntil('a reset in the log', () => failures(records()).some((e) => e.kind === 'network'));
      await scrapeAll('sentry failing');
      sim.setFaults({ serverErrorRate: 0.3, resetRate: 0.2 });
      const cycles = () => records().filter((r) => r.msg.startsWith('collection cycle done')).length;
      const faulty = cycles();
      await waitUntil('three cycles under partial faults', () => cycles() >= faulty + 3);
      sim.setFaults({});
      const clean = messages(records(), 'collection cycle done').length;
      await waitUntil('recovery', () => messages(records(), 'collection cycle done').length > clean);
      await waitUntil('ready again', async () => (await get(`${exporter.url}/healthz`)).status === 200);
      await scrapeAll('recovered');

      const final = parseExposition(
        (await ask('final /metrics', '/metrics', { authorization: GOOD_HEADERS[0]! })).body,
      );
      assert.equal(
        valueOf(final, 'sentry_exporter_auth_failures_total'),
        rejected,
        'every rejected request was counted (so the rejections really happened)',
      );

      const exit = await exporter.stop();
      assert.equal(exit.code, 0, exporter.output().slice(-2000));

      // Where the secrets must not be.
      const output = exporter.output();
      assertNoSecrets(`the ${level} log`, output);
      for (const [what, a] of answers) assertNoSecrets(`the answer to ${what}`, describeAnswer(a));
      for (const [what, text] of [
        ['the 400 answer', malformed],
        ['the 431 answer', overflow],
        ['the bad request line answer', badLine],
      ])
        assertNoSecrets(what!, text!);

      // ...and that the log really covered the paths (otherwise the search above proves nothing).
      const all = records();
      const levels = new Set(all.map((r) => r.level));
      const minLevel = { trace: 10, debug: 20, info: 30 }[level];
      assert.ok(Math.min(...levels) === minLevel, `records at ${level} level were written: ${[...levels]}`);
      assert.equal(messages(all, 'HTTP server listening').length, 1);
      assert.equal(messages(all, 'shutting down').length, 1);
      const errs = failures(all);
      for (const [what, check] of [
        ['401', (e: (typeof errs)[number]) => e.status === 401],
        ['403', (e: (typeof errs)[number]) => e.status === 403],
        ['5xx', (e: (typeof errs)[number]) => (e.status ?? 0) >= 500],
        ['reset', (e: (typeof errs)[number]) => e.kind === 'network'],
      ] as const) {
        assert.ok(errs.some(check), `a ${what} failure was logged`);
      }
      if (minLevel <= 20) {
        for (const msg of [
          'basic auth rejected',
          'request served',
          'retrying Sentry request',
          'client error',
        ]) {
          assert.ok(messages(all, msg).length > 0, `debug record "${msg}" was written`);
        }
        assert.ok(
          messages(all, 'basic auth rejected').length >= rejected,
          `every rejected basic-auth request (${rejected}) is logged as "basic auth rejected"`,
        );
      }
      if (minLevel <= 10)
        assert.ok(messages(all, 'sentry request').length > 50, 'trace records of each request');
      t.diagnostic(
        `${level}/${tokenFrom}: ${all.length} log records (${(output.length / 1024).toFixed(0)} KiB), ${answers.length + 3} answers, ${rejected} rejected, ${errs.length} collector failures searched`,
      );
    } finally {
      if (exporter.child.exitCode === null) exporter.child.kill('SIGKILL');
      await exporter.exited;
      await sim.close();
    }
  });
}

/** Runs the exporter to its exit (configuration errors end it at once); resolves to status and output. */
async function runToExit(
  env: NodeJS.ProcessEnv,
  args: string[] = [],
): Promise<{ code: number | null; output: string }> {
  const { child, output, exited } = startExporterProcess(env, args);
  // Only against a hang: fifteen of these start at once, each loading the whole exporter under tsx.
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    const { code } = await exited;
    return { code, output: output() };
  } finally {
    clearTimeout(timer);
  }
}

test('configuration errors at start (exit 2) name the problem, never the secrets', async () => {
  const secretsEnv = {
    SENTRY_AUTH_TOKEN: TOKEN,
    SENTRY_EXPORTER_ORG: 'acme',
    SENTRY_EXPORTER_BASIC_AUTH: 'True',
    SENTRY_EXPORTER_BASIC_AUTH_USER: USER,
    SENTRY_EXPORTER_BASIC_AUTH_PASS: PASS,
    LOG_LEVEL: 'trace',
  };
  /** The same without SENTRY_AUTH_TOKEN, so the settings file's token is the one read. */
  const fileTokenEnv: NodeJS.ProcessEnv = { ...secretsEnv };
  delete fileTokenEnv.SENTRY_AUTH_TOKEN;
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const cases: Array<[string, NodeJS.ProcessEnv, string[], RegExp]> = [
    [
      'a bad SENTRY_BASE_URL',
      { ...secretsEnv, SENTRY_BASE_URL: 'not a url' },
      [],
      /^configuration error: SENTRY_BASE_URL: /m,
    ],
    [
      'both SENTRY_AUTH_TOKEN and SENTRY_AUTH_TOKEN_FILE',
      { ...secretsEnv, SENTRY_AUTH_TOKEN_FILE: tokenFile },
      [],
      /^configuration error: SENTRY_AUTH_TOKEN_FILE: set only one/m,
    ],
    [
      'a JSON settings file with a syntax error next to the token',
      fileTokenEnv,
      ['--config', file('bad-token.json', `{"sentry": {"org": "acme", "token": ${TOKEN}}}\n`)],
      /^configuration error: --config: cannot parse .*bad-token\.json: unexpected token/m,
    ],
    [
      'a JSON settings file with a syntax error next to the password',
      secretsEnv,
      ['--config', file('bad-pass.json', `{"http": {"basicAuth": {"pass": ${PASS}}}}\n`)],
      /^configuration error: --config: cannot parse .*bad-pass\.json: unexpected token/m,
    ],
    [
      'a YAML settings file with a syntax error next to the token',
      fileTokenEnv,
      ['--config', file('bad-token.yaml', `sentry:\n  org: acme\n  token: ${TOKEN}: ${PASS}\n`)],
      /^configuration error: --config: cannot parse /m,
    ],
    [
      'a settings file whose token is not a string',
      fileTokenEnv,
      ['--config', file('token-list.yaml', `sentry:\n  org: acme\n  token: [${TOKEN}]\n`)],
      /^configuration error: SENTRY_AUTH_TOKEN \(sentry\.token in .*token-list\.yaml\): must be a string, got a list$/m,
    ],
    [
      'a settings file holding the token and the password, with one bad value',
      fileTokenEnv,
      [
        '--config',
        file(
          'bad-rate.yaml',
          `sentry:\n  org: acme\n  token: ${TOKEN}\n  rate: fast\nhttp:\n  basicAuth:\n    pass: ${PASS}\n`,
        ),
      ],
      /^configuration error: SENTRY_API_RATE \(sentry\.rate in .*bad-rate\.yaml\): must be a number greater than 0, got "fast"$/m,
    ],
    [
      'basic auth with an empty user (the logged start-up failure)',
      { ...secretsEnv, SENTRY_EXPORTER_BASIC_AUTH_USER: '' },
      [],
      /"msg":"cannot start"/,
    ],
    [
      'an invalid web config file',
      {
        ...secretsEnv,
        SENTRY_EXPORTER_WEB_CONFIG: file('web-bad.yml', `basic_auth_users:\n  ${USER}: ${PASS}\n`),
      },
      [],
      /"msg":"cannot start"/,
    ],
  ];
  const results = await Promise.all(cases.map(([, env, args]) => runToExit(env, args)));
  cases.forEach(([what, , , expected], i) => {
    const { code, output } = results[i]!;
    assert.equal(code, 2, `${what}: ${output}`);
    assert.match(output, expected, what);
    assertNoSecrets(`the output for ${what}`, output);
  });
});
