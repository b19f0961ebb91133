import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { parseGoDuration } from '../../src/config/duration.js';
import { createHttpServer } from '../../src/http/server.js';
import type { HttpServer } from '../../src/http/server.js';
import { readWebConfig, WebConfigError } from '../../src/http/toolkit/web-config.js';

const loadWebConfig = (path: string) => readWebConfig(path).config;
import { basic, makeDeps, request } from './helpers.js';

let dir: string;
let n = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'spe-web-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(yaml: string): string {
  const file = join(dir, `web-${++n}.yml`);
  writeFileSync(file, yaml);
  return file;
}

// Cost 4 keeps the test fast; the server must not care about the cost.
const ALICE_HASH = bcrypt.hashSync('alice-pw', 4); // $2b$
const BOB_HASH_2Y = bcrypt.hashSync('bob-pw', 4).replace(/^\$2b\$/, '$2y$'); // htpasswd style

function rejectsWith(yaml: string, ...patterns: RegExp[]): void {
  const file = write(yaml);
  assert.throws(
    () => loadWebConfig(file),
    (err: unknown) => {
      assert.ok(err instanceof WebConfigError, String(err));
      assert.ok(err.message.includes(file), `error names the file: ${err.message}`);
      for (const p of patterns) assert.match(err.message, p);
      return true;
    },
  );
}

test('an empty file is a valid config: plain HTTP, no users, HTTP/2 flag defaults to true', () => {
  const c = loadWebConfig(write(''));
  assert.equal(c.tls, undefined);
  assert.equal(c.basicAuthUsers.size, 0);
  assert.equal(c.http2, true);
  assert.deepEqual(c.headers, {});
  assert.equal(c.rateLimit, undefined);
});

test('unknown keys anywhere are errors naming the key and the file', () => {
  rejectsWith('tls_config: {}\n', /unknown key "tls_config"/);
  rejectsWith('tls_server_config:\n  cert_fil: x\n', /"tls_server_config\.cert_fil"/);
  rejectsWith('http_server_config:\n  http3: true\n', /"http_server_config\.http3"/);
  rejectsWith('rate_limit:\n  every: 1s\n', /"rate_limit\.every"/);
});

test('wrong types and values are errors', () => {
  rejectsWith('basic_auth_users: [a, b]\n', /basic_auth_users: expected a mapping/);
  rejectsWith('basic_auth_users:\n  carol: plaintext\n', /basic_auth_users\.carol: not a bcrypt hash/);
  rejectsWith('http_server_config:\n  http2: yes please\n', /http2: expected true or false/);
  rejectsWith(
    'http_server_config:\n  headers:\n    Content-Type: text/html\n',
    /"Content-Type" can not be configured/,
  );
  rejectsWith(
    'http_server_config:\n  headers:\n    X-Frame-Options: allow\n',
    /X-Frame-Options: invalid value/,
  );
  rejectsWith(
    'tls_server_config:\n  client_auth_type: Sometimes\n',
    /client_auth_type: invalid value "Sometimes"/,
  );
  rejectsWith('rate_limit:\n  interval: soon\n  burst: 1\n', /interval: invalid duration/);
  rejectsWith('a: 1\na: 2\n', /invalid YAML/);
  rejectsWith(
    'tls_server_config:\n  cert_file: /nonexistent/cert.pem\n  key_file: k\n',
    /\/nonexistent\/cert\.pem/,
  );
  rejectsWith('tls_server_config:\n  key_file: k.key\n', /missing one of cert or cert_file/);
});

test('a non-existent config file is an error naming it', () => {
  assert.throws(() => loadWebConfig(join(dir, 'absent.yml')), /absent\.yml/);
});

test('bcrypt users and headers are read; hashes never appear in errors', () => {
  const c = loadWebConfig(
    write(
      `basic_auth_users:\n  alice: '${ALICE_HASH}'\n  bob: '${BOB_HASH_2Y}'\n` +
        'http_server_config:\n  http2: false\n  headers:\n    X-Frame-Options: deny\n    Content-Security-Policy: "default-src \'self\'"\n' +
        'rate_limit:\n  interval: 250ms\n  burst: 3\n',
    ),
  );
  assert.deepEqual([...c.basicAuthUsers.keys()], ['alice', 'bob']);
  assert.equal(c.http2, false);
  assert.deepEqual(c.headers, { 'X-Frame-Options': 'deny', 'Content-Security-Policy': "default-src 'self'" });
  assert.deepEqual(c.rateLimit, { intervalMs: 250, burst: 3 });
  const truncated = ALICE_HASH.slice(0, -1);
  const file = write(`basic_auth_users:\n  alice: '${truncated}'\n`);
  assert.throws(
    () => loadWebConfig(file),
    (err: Error) => !err.message.includes(truncated),
  );
});

test('Go durations parse like time.ParseDuration', () => {
  assert.equal(parseGoDuration('1s'), 1000);
  assert.equal(parseGoDuration('1m30s'), 90_000);
  assert.equal(parseGoDuration('1.5h'), 5_400_000);
  assert.equal(parseGoDuration('250ms'), 250);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('5'), undefined);
  assert.equal(parseGoDuration('1s junk'), undefined);
});

async function serve(yaml: string, http: Parameters<typeof makeDeps>[0] = {}) {
  const t = makeDeps({ webConfigFile: write(yaml), ...http });
  const srv: HttpServer = await createHttpServer(t.deps);
  return { t, srv, url: await srv.listen() };
}

test('bcrypt users: right passwords pass ($2b$ and $2y$), wrong ones fail with a counted 401', async () => {
  const { t, srv, url } = await serve(
    `basic_auth_users:\n  alice: '${ALICE_HASH}'\n  bob: '${BOB_HASH_2Y}'\n`,
  );
  try {
    assert.equal(
      (await request(`${url}/metrics`, { headers: { authorization: basic('alice', 'alice-pw') } })).status,
      200,
    );
    assert.equal(
      (await request(`${url}/metrics`, { headers: { authorization: basic('bob', 'bob-pw') } })).status,
      200,
    );
    const bad = [basic('alice', 'bob-pw'), basic('bob', 'wrong'), basic('mallory', 'alice-pw'), 'Basic !!!'];
    for (const authorization of bad) {
      const res = await request(`${url}/metrics`, { headers: { authorization } });
      assert.equal(res.status, 401, authorization);
      assert.equal(res.headers['www-authenticate'], 'Basic realm="sentry-prometheus-exporter"');
    }
    assert.equal((await request(`${url}/`)).status, 401);
    assert.equal((await request(`${url}/healthz`)).status, 503, 'health needs no credentials');
    assert.equal(t.authFailures(), bad.length + 1);
  } finally {
    await srv.close();
  }
});

test('bcrypt cache: repeat scrapes skip bcrypt, wrong passwords are never cached', async () => {
  const { srv, url } = await serve(`basic_auth_users:\n  alice: '${ALICE_HASH}'\n`);
  try {
    const good = { authorization: basic('alice', 'alice-pw') };
    assert.equal((await request(`${url}/metrics`, { headers: good })).status, 200);
    assert.equal(srv.authStats().bcryptCompares, 1);
    for (let i = 0; i < 5; i++)
      assert.equal((await request(`${url}/metrics`, { headers: good })).status, 200);
    assert.equal(srv.authStats().bcryptCompares, 1, 'cached: no further bcrypt work');
    assert.equal(srv.authStats().bcryptCached, 1);

    const wrong = { authorization: basic('alice', 'alice-pw2') };
    for (let i = 0; i < 3; i++)
      assert.equal((await request(`${url}/metrics`, { headers: wrong })).status, 401);
    assert.equal(srv.authStats().bcryptCompares, 4, 'every wrong attempt pays bcrypt');
    assert.equal(srv.authStats().bcryptCached, 1);
    // Unknown users also pay a comparison (against a dummy hash), so timing does not reveal user names.
    assert.equal(
      (await request(`${url}/metrics`, { headers: { authorization: basic('eve', 'x') } })).status,
      401,
    );
    assert.equal(srv.authStats().bcryptCompares, 5);
  } finally {
    await srv.close();
  }
});

test('env-var basic auth and bcrypt users together: either set of credentials works', async () => {
  const { srv, url } = await serve(`basic_auth_users:\n  alice: '${ALICE_HASH}'\n`, {
    basicAuth: { enabled: true, user: 'envuser', pass: 'envpass' },
  });
  try {
    assert.equal(
      (await request(`${url}/metrics`, { headers: { authorization: basic('envuser', 'envpass') } })).status,
      200,
    );
    assert.equal(
      (await request(`${url}/metrics`, { headers: { authorization: basic('alice', 'alice-pw') } })).status,
      200,
    );
    assert.equal(
      (await request(`${url}/metrics`, { headers: { authorization: basic('alice', 'envpass') } })).status,
      401,
    );
    assert.equal(
      (await request(`${url}/metrics`, { headers: { authorization: basic('envuser', 'alice-pw') } })).status,
      401,
    );
  } finally {
    await srv.close();
  }
});

test('http_server_config.headers appear on every response, including errors', async () => {
  const { srv, url } = await serve(
    'http_server_config:\n  headers:\n    X-Frame-Options: deny\n    X-Content-Type-Options: nosniff\n' +
      '    Strict-Transport-Security: max-age=31536000\n' +
      `basic_auth_users:\n  alice: '${ALICE_HASH}'\n`,
  );
  try {
    for (const [path, status] of [
      ['/metrics', 401],
      ['/healthz', 503],
      ['/livez', 200],
      ['/missing', 404],
    ] as const) {
      const res = await request(url + path);
      assert.equal(res.status, status, path);
      assert.equal(res.headers['x-frame-options'], 'deny', path);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', path);
      assert.equal(res.headers['strict-transport-security'], 'max-age=31536000', path);
    }
    const ok = await request(`${url}/metrics`, { headers: { authorization: basic('alice', 'alice-pw') } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-frame-options'], 'deny');
  } finally {
    await srv.close();
  }
});

test('rate_limit answers 429 past the burst, health endpoints are exempt', async () => {
  const { srv, url } = await serve('rate_limit:\n  interval: 1h\n  burst: 2\n');
  try {
    assert.equal((await request(`${url}/metrics`)).status, 200);
    assert.equal((await request(`${url}/`)).status, 200);
    assert.equal((await request(`${url}/metrics`)).status, 429);
    assert.equal((await request(`${url}/livez`)).status, 200);
    assert.equal((await request(`${url}/healthz`)).status, 503);
  } finally {
    await srv.close();
  }
});

test('a broken web config stops the server from starting', async () => {
  const t = makeDeps({ webConfigFile: write('tls_server_config:\n  bogus: 1\n') });
  await assert.rejects(createHttpServer(t.deps), /"tls_server_config\.bogus"/);
});
