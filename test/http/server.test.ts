import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { METRICS_CONTENT_TYPE } from '../../src/http/routes/metrics.js';
import { createHttpServer } from '../../src/http/server.js';
import type { HttpServer } from '../../src/http/server.js';
import { makeDeps, METRICS_TEXT, request } from './helpers.js';

const t = makeDeps();
let srv: HttpServer;
let url: string;

before(async () => {
  srv = await createHttpServer(t.deps);
  url = await srv.listen();
});
after(async () => {
  await srv.close();
});

test('listen() reports an http URL on 127.0.0.1 with the real port', () => {
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(url.endsWith(':0'), true);
});

for (const path of ['/metrics', '/metrics/']) {
  test(`${path} serves the scrape bytes uncompressed without Accept-Encoding`, async () => {
    const res = await request(url + path);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], METRICS_CONTENT_TYPE);
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.body.toString(), METRICS_TEXT);
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(METRICS_TEXT)));
  });

  test(`${path} serves gzip when accepted`, async () => {
    const res = await request(url + path, { headers: { 'accept-encoding': 'br, gzip;q=0.8, deflate' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(res.headers['content-type'], METRICS_CONTENT_TYPE);
    assert.match(String(res.headers['vary']), /accept-encoding/i);
    assert.ok(res.body.length < Buffer.byteLength(METRICS_TEXT), 'the gzip body is smaller than the text');
    assert.equal(gunzipSync(res.body).toString(), METRICS_TEXT);
  });
}

test('gzip;q=0 is a refusal, even next to *', async () => {
  for (const ae of ['gzip;q=0', '*, gzip;q=0', 'GZIP; q=0.000', 'identity']) {
    const res = await request(`${url}/metrics`, { headers: { 'accept-encoding': ae } });
    assert.equal(res.headers['content-encoding'], undefined, ae);
    assert.equal(res.body.toString(), METRICS_TEXT, ae);
  }
  const star = await request(`${url}/metrics`, { headers: { 'accept-encoding': '*' } });
  assert.equal(star.headers['content-encoding'], 'gzip');
});

test('HEAD /metrics answers headers without a body', async () => {
  const res = await request(`${url}/metrics`, { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], METRICS_CONTENT_TYPE);
  assert.equal(res.body.length, 0);
});

test('the status page links the endpoints and shows the organization, version, uptime, never credentials', async () => {
  const res = await request(`${url}/`);
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^text\/html/);
  const html = res.body.toString();
  assert.match(html, /<title>Sentry Prometheus Exporter: acme<\/title>/);
  assert.match(html, /1\.2\.3-test/);
  assert.match(
    html,
    /<code>https:\/\/sentry\.example\.com\/api\/0\/<\/code>/,
    'the base URL without its userinfo',
  );
  assert.doesNotMatch(html, /secret/, 'no credentials of the base URL');
  assert.match(html, /Up for<\/dt><dd>1 h 2 min<\/dd>/);
  assert.match(html, /href="metrics"/);
  assert.match(html, /href="healthz"/);
  assert.match(html, /href="livez"/);
  assert.doesNotMatch(html, /http-equiv="refresh"/, 'no reload unless asked');
  const refreshed = (await request(`${url}/?refresh=1`)).body.toString();
  assert.match(refreshed, /<meta http-equiv="refresh" content="5">/, 'asked: at least every 5 s');
});

test('/healthz follows readiness; /livez is always 200', async () => {
  t.readiness = { ready: false, reason: 'no successful collection yet', collectors: {} };
  let res = await request(`${url}/healthz`);
  assert.equal(res.status, 503);
  assert.deepEqual(JSON.parse(res.body.toString()), {
    status: 'unavailable',
    reason: 'no successful collection yet',
    collectors: {},
  });

  const collectors = {
    metadata: { state: 'ok' as const, lastSuccess: 1700000000 },
    events: {
      state: 'failing' as const,
      lastError: { message: 'Sentry /organizations/acme/stats_v2/ answered HTTP 403' },
    },
  };
  t.readiness = { ready: true, lastSuccess: 1700000000, collectors };
  res = await request(`${url}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body.toString()), { status: 'ok', lastSuccess: 1700000000, collectors });

  t.readiness = { ready: false, reason: 'data is 412s old (max 180s)', collectors: {} };
  res = await request(`${url}/healthz`);
  assert.equal(res.status, 503);
  assert.equal(JSON.parse(res.body.toString()).reason, 'data is 412s old (max 180s)');

  res = await request(`${url}/livez`);
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body.toString()), { status: 'ok' });
});

test('unknown paths get a short JSON 404 that does not echo the path', async () => {
  const long = 'x'.repeat(4000);
  const res = await request(`${url}/${long}`);
  assert.equal(res.status, 404);
  assert.deepEqual(JSON.parse(res.body.toString()), { error: 'not found' });
  assert.ok(res.body.length < 100, `the 404 body is short (${res.body.length} bytes)`);
  const post = await request(`${url}/metrics`, { method: 'POST' });
  assert.equal(post.status, 404);
});

test('malformed URL encoding gets a 400 that does not echo the URL', async () => {
  const res = await request(`${url}/metrics/%zz${'y'.repeat(1000)}`);
  assert.ok(res.status === 400 || res.status === 404, String(res.status));
  assert.ok(!res.body.toString().includes('yyyy'), 'the 400 body does not echo the URL');
});

test('a failing scrape is a 500 without internals, and is logged', async () => {
  const failing = makeDeps();
  failing.deps.scrape = async () => {
    throw new Error('snapshot exploded: secret-internal-detail');
  };
  const s = await createHttpServer(failing.deps);
  try {
    const u = await s.listen();
    const res = await request(`${u}/metrics`);
    assert.equal(res.status, 500);
    assert.ok(
      !res.body.toString().includes('secret-internal-detail'),
      'the 500 body does not contain the internal error',
    );
    assert.match(failing.logs(), /snapshot exploded/);
  } finally {
    await s.close();
  }
});

test('the scrape function is called once per request (no caching in the HTTP layer)', async () => {
  const before = t.scrapes();
  await request(`${url}/metrics`);
  await request(`${url}/metrics`);
  assert.equal(t.scrapes() - before, 2);
});
