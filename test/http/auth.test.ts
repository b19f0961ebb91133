import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AUTH_REALM } from '../../src/http/auth.js';
import { createHttpServer } from '../../src/http/server.js';
import type { HttpServer } from '../../src/http/server.js';
import { basic, makeDeps, METRICS_TEXT, request } from './helpers.js';
import type { Response } from './helpers.js';

const USER = 'prometheus';
const PASS = 'Sup3r-s3cret-pässword';
const t = makeDeps({ basicAuth: { enabled: true, user: USER, pass: PASS } });
let srv: HttpServer;
let url: string;

before(async () => {
  srv = await createHttpServer(t.deps);
  url = await srv.listen();
});
after(async () => {
  await srv.close();
});

const expected401 = (res: Response, what: string) => {
  assert.equal(res.status, 401, what);
  assert.equal(res.headers['www-authenticate'], `Basic realm="${AUTH_REALM}"`, what);
  assert.deepEqual(JSON.parse(res.body.toString()), { error: 'unauthorized' }, what);
};

test('every kind of bad credential gets the same 401 and is counted', async () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['no header', {}],
    ['wrong user', { authorization: basic('nobody', PASS) }],
    ['wrong password', { authorization: basic(USER, 'wrong') }],
    ['password prefix', { authorization: basic(USER, PASS.slice(0, -1)) }],
    ['both wrong', { authorization: basic('x', 'y') }],
    ['garbage token', { authorization: 'Basic !!!' }],
    ['bearer', { authorization: 'Bearer x' }],
    ['empty', { authorization: '' }],
    ['no colon', { authorization: `Basic ${Buffer.from(USER + PASS).toString('base64')}` }],
  ];
  const before = t.authFailures();
  const bodies = new Set<string>();
  for (const [what, headers] of cases) {
    for (const path of ['/metrics', '/metrics/', '/']) {
      const res = await request(url + path, { headers });
      expected401(res, `${what} ${path}`);
      bodies.add(
        `${res.status} ${res.headers['www-authenticate']} ${res.headers['content-type']} ${res.body}`,
      );
    }
  }
  assert.equal(bodies.size, 1, 'responses must not reveal which part was wrong');
  assert.equal(t.authFailures() - before, cases.length * 3);
});

test('right credentials are accepted on every protected path', async () => {
  const before = t.authFailures();
  const headers = { authorization: basic(USER, PASS) };
  const res = await request(`${url}/metrics`, { headers });
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), METRICS_TEXT);
  assert.equal((await request(`${url}/metrics/`, { headers })).status, 200);
  const page = await request(`${url}/`, { headers });
  assert.equal(page.status, 200);
  assert.equal(t.authFailures(), before);
});

test('health endpoints never need credentials', async () => {
  t.readiness = { ready: true, lastSuccess: 1, collectors: {} };
  assert.equal((await request(`${url}/healthz`)).status, 200);
  assert.equal((await request(`${url}/livez`)).status, 200);
  assert.equal(
    (await request(`${url}/healthz`, { headers: { authorization: basic('x', 'y') } })).status,
    200,
  );
});

test('the password never appears in responses or logs (logger at trace)', async () => {
  const responses: Response[] = [];
  for (const path of ['/', '/metrics', '/healthz', '/livez', '/nope']) {
    responses.push(await request(url + path, { headers: { authorization: basic(USER, PASS) } }));
    responses.push(await request(url + path, { headers: { authorization: basic(PASS, PASS) } }));
  }
  const encoded = Buffer.from(`${USER}:${PASS}`).toString('base64');
  for (const res of responses) {
    const everything = JSON.stringify(res.headers) + res.body.toString();
    assert.ok(!everything.includes(PASS), 'the answer does not contain the password');
    assert.ok(!everything.includes(encoded), 'the answer does not contain the encoded credentials');
  }
  const logs = t.logs();
  assert.ok(logs.length > 0, 'the trace logger saw the requests');
  assert.match(logs, /request served/);
  assert.ok(!logs.includes(PASS), 'password in logs');
  assert.ok(!logs.includes(encoded), 'encoded credentials in logs');
  assert.ok(!/authorization/i.test(logs), 'authorization header in logs');
});

test('enabled basic auth with an empty password refuses to start', async () => {
  const bad = makeDeps({ basicAuth: { enabled: true, user: 'u', pass: '' } });
  await assert.rejects(createHttpServer(bad.deps), /SENTRY_EXPORTER_BASIC_AUTH/);
});

test('disabled basic auth serves without credentials', async () => {
  const open = makeDeps({ basicAuth: { enabled: false, user: USER, pass: PASS } });
  const s = await createHttpServer(open.deps);
  try {
    const u = await s.listen();
    assert.equal((await request(`${u}/metrics`)).status, 200);
  } finally {
    await s.close();
  }
});

test('/healthz answers without credentials, but tells the errors only to a caller with them', async () => {
  t.readiness = {
    ready: true,
    lastSuccess: 1700000000,
    collectors: {
      metadata: { state: 'ok', lastSuccess: 1700000000, lastSuccessAgeSeconds: 5 },
      outcomes: {
        state: 'failing',
        lastError: {
          message: 'Sentry https://sentry.example.com/api/0/organizations/acme/stats_v2/ answered HTTP 403',
          endpoint: '/organizations/{org}/stats_v2/',
          status: 403,
        },
      },
    },
  };
  const anonymous = await request(`${url}/healthz`);
  assert.equal(anonymous.status, 200, 'probes need no credentials');
  assert.deepEqual(JSON.parse(anonymous.body.toString()), {
    status: 'ok',
    lastSuccess: null,
    collectors: { metadata: { state: 'ok' }, outcomes: { state: 'failing' } },
  });
  for (const authorization of [basic(USER, 'wrong'), 'Basic !!!', 'Bearer x']) {
    const wrong = await request(`${url}/healthz`, { headers: { authorization } });
    assert.equal(wrong.status, 200, `still answered (${authorization})`);
    assert.doesNotMatch(wrong.body.toString(), /acme|stats_v2|403/, `no details with ${authorization}`);
  }
  const known = await request(`${url}/healthz`, { headers: { authorization: basic(USER, PASS) } });
  assert.equal(known.status, 200);
  assert.deepEqual(JSON.parse(known.body.toString()).collectors, t.readiness.collectors, 'every detail');

  t.readiness = {
    ready: false,
    reason:
      'the project list has not been read yet: Sentry https://sentry.example.com/api/0/organizations/acme/projects/ answered HTTP 401',
    collectors: { metadata: { state: 'failing' } },
  };
  const down = await request(`${url}/healthz`);
  assert.equal(down.status, 503, 'the status code is the same for everyone');
  assert.deepEqual(JSON.parse(down.body.toString()), {
    status: 'unavailable',
    reason: 'the project list has not been read yet',
    collectors: { metadata: { state: 'failing' } },
  });
});
