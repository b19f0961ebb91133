import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { RequestObservation } from '../../src/sentry/api.js';
import { SentryApiError } from '../../src/sentry/errors.js';
import { isRetryable, RetryPolicy } from '../../src/sentry/retry.js';
import {
  issueJson,
  makeClient,
  rateLimitHeaders,
  rejection,
  sendJson,
  startServer,
  TOKEN,
  type TestServer,
  listIssues,
} from './helpers.js';
import { waitUntil } from '../helpers/wait.js';

const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const SLOW_BACKOFF = { tries: 3, delay: 5, maxDelay: 5, backoff: 1, jitter: 0 };

test('RetryPolicy: exponential backoff capped at maxDelay, plus jitter', () => {
  const p = new RetryPolicy(
    { tries: 5, delay: 1, maxDelay: 5, backoff: 3, jitter: 0.5 },
    { random: () => 0.5 },
  );
  assert.deepEqual(
    [1, 2, 3, 4].map((a) => p.backoffMs(a)),
    [1250, 3250, 5250, 5250],
  );
  assert.equal(p.decide({ kind: 'http', status: 503 }, 1).waitMs, 1250);
  assert.equal(p.decide({ kind: 'http', status: 503 }, 5).retry, false, 'no attempt beyond tries');
  assert.equal(p.decide({ kind: 'http', status: 404 }, 1).retry, false);
  assert.equal(p.decide({ kind: 'http', status: 400 }, 1).retry, false);
  assert.equal(p.decide({ kind: 'network' }, 1).retry, true);
  assert.equal(p.decide({ kind: 'timeout' }, 1).retry, true);
  assert.equal(p.decide({ kind: 'parse' }, 1).retry, false);
  assert.equal(p.decide({ kind: 'aborted' }, 1).retry, false);
});

test('RetryPolicy: a 429 waits for Reset, and Retry-After never shortens it', () => {
  const now = 1_700_000_000_300;
  const p = new RetryPolicy(
    { tries: 3, delay: 9, maxDelay: 9, backoff: 1, jitter: 0 },
    { now: () => now, safetyMarginMs: 50 },
  );
  const headers = {
    limit: 3,
    remaining: 0,
    reset: 1_700_000_002,
    concurrentLimit: undefined,
    concurrentRemaining: undefined,
    serverDateMs: undefined,
    retryAfterMs: undefined,
  };
  assert.deepEqual(p.decide({ kind: 'http', status: 429, headers, receivedAtMs: now }, 1), {
    retry: true,
    waitMs: 1750,
    basis: 'reset',
  });
  const withRetryAfter = { ...headers, retryAfterMs: 500 };
  assert.equal(
    p.decide({ kind: 'http', status: 429, headers: withRetryAfter, receivedAtMs: now }, 1).waitMs,
    1750,
  );
  // A server clock 1 h ahead (Date header) does not turn the wait into an hour.
  const skewed = { ...headers, reset: 1_700_003_602, serverDateMs: 1_700_003_600_000 };
  const d = p.decide({ kind: 'http', status: 429, headers: skewed, receivedAtMs: now }, 1);
  assert.ok(d.waitMs > 1000 && d.waitMs < 2600, `waitMs ${d.waitMs}`);
  // No header at all: the backoff.
  assert.equal(p.decide({ kind: 'http', status: 429 }, 1).waitMs, 9000);
});

test('a 429 without Retry-After is waited out until X-Sentry-Rate-Limit-Reset, then succeeds', async () => {
  let reset = 0;
  const server = await startServer((_req, res, _hit, i) => {
    if (i === 0) {
      // Two seconds ahead at most, one at least: long enough to tell "waited for Reset" from "did not wait".
      reset = Math.floor(Date.now() / 1000) + 2;
      sendJson(
        res,
        429,
        {
          detail: 'You are attempting to use this endpoint too frequently. Limit is 3 requests in 1 seconds',
        },
        rateLimitHeaders(3, 0, reset),
      );
      return;
    }
    sendJson(res, 200, [issueJson(1)], rateLimitHeaders(3, 2, Math.floor(Date.now() / 1000) + 1));
  });
  servers.push(server);
  const observations: RequestObservation[] = [];
  const { client, log } = makeClient(server.baseUrl, {
    retry: SLOW_BACKOFF,
    onRequest: (o) => observations.push(o),
  });
  try {
    const issues = await listIssues(client, { query: 'is:unresolved' });
    assert.equal(issues.length, 1);
    assert.equal(server.hits.length, 2);
    const retryAt = server.hits[1]!.at;
    assert.ok(retryAt >= reset * 1000, `retry at ${retryAt} came before Reset ${reset * 1000}`);
    // Waited for Reset, not for the 5 s backoff: the client's own figure, not a wall-clock measurement.
    const retryLog = log.lines().find((l) => l['msg'] === 'retrying Sentry request');
    assert.ok(retryLog !== undefined, 'the retry is logged as "retrying Sentry request"');
    assert.equal(retryLog['status'], 429);
    assert.equal(retryLog['reason'], 'reset');
    assert.ok(
      (retryLog['waitMs'] as number) <= 2100,
      `waitMs ${String(retryLog['waitMs'])} is Reset-based, not 5 s`,
    );
    assert.deepEqual(
      observations.map((o) => [o.endpoint, o.status, o.rateLimitRemaining]),
      [
        ['/organizations/{org}/issues/', 429, 0],
        ['/organizations/{org}/issues/', 200, 2],
      ],
    );
    assert.deepEqual(client.stats(), { requests: 2, rateLimited: 1, errors: 0, retries: 1 });
  } finally {
    await client.close();
  }
});

test('Retry-After is honoured when a proxy sends one (no Sentry headers)', async () => {
  const server = await startServer((_req, res, _hit, i) => {
    if (i === 0) sendJson(res, 429, { detail: 'slow down' }, { 'retry-after': '1' });
    else sendJson(res, 200, []);
  });
  servers.push(server);
  const { client, log } = makeClient(server.baseUrl, { retry: SLOW_BACKOFF });
  try {
    assert.deepEqual(await client.listOrganizationProjectKeys(), []);
    const gap = server.hits[1]!.at - server.hits[0]!.at;
    assert.ok(gap >= 950, `retried ${gap} ms after a Retry-After of 1 s`);
    // Retry-After, not the 5 s backoff, set the wait.
    const retryLog = log.lines().find((l) => l['msg'] === 'retrying Sentry request');
    assert.equal(retryLog?.['reason'], 'retry-after');
    assert.ok((retryLog['waitMs'] as number) < 2000, `waitMs ${String(retryLog['waitMs'])}`);
  } finally {
    await client.close();
  }
});

test('retries stop after `tries` attempts with an http error carrying status, detail and attempts', async () => {
  const server = await startServer((_req, res) => sendJson(res, 503, { detail: 'Service unavailable' }));
  servers.push(server);
  const { client, log } = makeClient(server.baseUrl, {
    retry: { tries: 4, delay: 0.01, maxDelay: 0.05, backoff: 2, jitter: 0.01 },
  });
  try {
    const err = await rejection(client.listProjectKeys('web'));
    assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
    assert.equal(err.kind, 'http');
    assert.equal(err.status, 503);
    assert.equal(err.detail, 'Service unavailable');
    assert.equal(err.attempts, 4);
    assert.equal(err.project, 'web');
    assert.equal(err.endpoint, '/projects/{org}/{project}/keys/');
    assert.match(err.message, /HTTP 503 for project web: Service unavailable/);
    assert.equal(server.hits.length, 4);
    const retries = log.lines().filter((l) => l['msg'] === 'retrying Sentry request');
    assert.deepEqual(
      retries.map((l) => [l['attempt'], l['status'], l['level']]),
      [
        [1, 503, 20],
        [2, 503, 20],
        [3, 503, 20],
      ],
    );
    assert.equal(log.lines().filter((l) => (l['level'] as number) >= 40).length, 0, 'no warn/error logs');
    assert.deepEqual(client.stats(), { requests: 4, rateLimited: 0, errors: 1, retries: 3 });
  } finally {
    await client.close();
  }
});

test('a 5xx followed by success returns the data', async () => {
  const server = await startServer((_req, res, _hit, i) => {
    if (i < 2) sendJson(res, 502, '<html>bad gateway</html>');
    else sendJson(res, 200, { currentRelease: { release: { version: 'web@1.2.3' } } });
  });
  servers.push(server);
  const { client } = makeClient(server.baseUrl);
  try {
    assert.equal(await client.getCurrentRelease('42', 'production'), 'web@1.2.3');
    assert.equal(server.hits.length, 3);
  } finally {
    await client.close();
  }
});

for (const status of [400, 404]) {
  test(`HTTP ${status} is not retried`, async () => {
    const server = await startServer((_req, res) => sendJson(res, status, { detail: `detail ${status}` }));
    servers.push(server);
    const { client } = makeClient(server.baseUrl);
    try {
      const err = await rejection(client.listProjectEnvironments('web'));
      assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
      assert.equal(err.kind, 'http');
      assert.equal(err.status, status);
      assert.equal(err.detail, `detail ${status}`);
      assert.equal(err.attempts, 1);
      assert.equal(server.hits.length, 1);
    } finally {
      await client.close();
    }
  });
}

test('401/403 errors name the scope the endpoint needs', async () => {
  const server = await startServer((_req, res, hit) => {
    const status = hit.path.includes('/issues/') ? 401 : 403;
    sendJson(res, status, { detail: 'You do not have permission to perform this action.' });
  });
  servers.push(server);
  const { client } = makeClient(server.baseUrl);
  try {
    const stats = {
      start: new Date(0),
      end: new Date(1000),
      categories: ['error'],
      groupBy: ['project'],
    } as const;
    const sessions = {
      fields: ['sum(session)'],
      groupBy: [],
      start: new Date(0),
      end: new Date(1000),
      interval: '1h',
    };
    const cases: Array<[Promise<unknown>, number, string]> = [
      [rejection(listIssues(client, { query: '' })), 401, 'event:read'],
      [rejection(client.getCurrentRelease('1', undefined)), 401, 'event:read'],
      [rejection(client.listProjects()), 403, 'org:read'],
      [rejection(client.getEventStats({ ...stats, groupBy: [...stats.groupBy] })), 403, 'org:read'],
      [rejection(client.listProjectKeys('web')), 403, 'project:read'],
      [rejection(client.listProjectEnvironments('web')), 403, 'project:read'],
      [rejection(client.listOrganizationProjectKeys()), 403, 'org:read'],
      [rejection(client.getSessions(sessions)), 403, 'org:read'],
      [rejection(client.listMonitors()), 403, 'org:read or alerts:read'],
    ];
    for (const [p, status, scope] of cases) {
      const err = await p;
      assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
      assert.equal(err.status, status);
      assert.ok(err.message.includes(scope), `${err.message} should name ${scope}`);
      assert.ok(
        err.message.endsWith(
          status === 401
            ? ` (the token is invalid or revoked, or lacks the ${scope} scope)`
            : ` (the token likely lacks the ${scope} scope, or access to this organization/project)`,
        ),
        err.message,
      );
      assert.ok(!err.message.includes(TOKEN), `the message does not contain the token: ${err.message}`);
    }
    assert.equal(server.hits.length, cases.length, 'auth errors are not retried');
  } finally {
    await client.close();
  }
});

test('the per-request timeout is enforced, retried, and reported as kind timeout', async () => {
  const server = await startServer((_req, res, hit) => {
    if (hit.path.includes('/projects/') || hit.query.get('slow') === null) {
      // Headers never come within the timeout.
      const t = setTimeout(() => sendJson(res, 200, []), 3000);
      res.on('close', () => clearTimeout(t));
    }
  });
  servers.push(server);
  const observations: RequestObservation[] = [];
  const { client } = makeClient(server.baseUrl, {
    timeout: 0.2,
    retry: { tries: 2, delay: 0.01, maxDelay: 0.01, backoff: 1, jitter: 0 },
    onRequest: (o) => observations.push(o),
  });
  try {
    const started = Date.now();
    const err = await rejection(client.listProjects());
    const took = Date.now() - started;
    assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
    assert.equal(err.kind, 'timeout');
    assert.equal(err.attempts, 2);
    assert.equal(server.hits.length, 2);
    assert.ok(took < 2500, `took ${took} ms`);
    assert.deepEqual(
      observations.map((o) => o.status),
      [undefined, undefined],
    );
  } finally {
    await client.close();
  }
});

test('a slow body (headers sent, body stalls) also times out, then the retry succeeds', async () => {
  const server = await startServer((_req, res, _hit, i) => {
    if (i === 0) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      return; // never finishes
    }
    sendJson(res, 200, []);
  });
  servers.push(server);
  const { client } = makeClient(server.baseUrl, { timeout: 0.2 });
  try {
    assert.deepEqual(await client.listProjectKeys('web'), []);
    assert.equal(server.hits.length, 2);
  } finally {
    await client.close();
  }
});

test('a connection reset is retried; repeated resets end as kind network', async () => {
  let failFirst = 1;
  const server = await startServer((req, res, hit) => {
    if (hit.path.includes('/keys/') && failFirst > 0) {
      failFirst--;
      req.socket.destroy();
      return;
    }
    if (hit.path.includes('/environments/')) {
      req.socket.destroy();
      return;
    }
    sendJson(res, 200, []);
  });
  servers.push(server);
  const observations: RequestObservation[] = [];
  const { client } = makeClient(server.baseUrl, { onRequest: (o) => observations.push(o) });
  try {
    assert.deepEqual(await client.listProjectKeys('web'), []);
    assert.equal(server.hitsOn('/projects/acme/web/keys/').length, 2);
    const err = await rejection(client.listProjectEnvironments('web'));
    assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
    assert.equal(err.kind, 'network');
    assert.equal(err.attempts, 3);
    assert.equal(server.hitsOn('/projects/acme/web/environments/').length, 3);
    assert.equal(observations.filter((o) => o.status === undefined).length, 4);
  } finally {
    await client.close();
  }
});

test('an abort signal cancels a pending retry wait promptly', async () => {
  const server = await startServer((_req, res) => sendJson(res, 503, { detail: 'down' }));
  servers.push(server);
  const { client, log } = makeClient(server.baseUrl, {
    retry: { tries: 5, delay: 30, maxDelay: 30, backoff: 1, jitter: 0 },
  });
  try {
    const controller = new AbortController();
    const started = Date.now();
    const p = rejection(client.listProjects({ signal: controller.signal }));
    // Abort once the first attempt failed and the 30 s wait began (the client logs it as it begins).
    await waitUntil('the retry wait to begin', () =>
      log.lines().some((l) => l['msg'] === 'retrying Sentry request'),
    );
    controller.abort();
    const err = await p;
    assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
    assert.equal(err.kind, 'aborted');
    assert.equal(err.endpoint, '/organizations/{org}/projects/');
    assert.ok(Date.now() - started < 2000, 'the abort ends the request within 2 s');
    assert.equal(server.hits.length, 1);
    assert.equal(client.stats().errors, 0, 'aborts are not counted as errors');
  } finally {
    await client.close();
  }
});

test('an abort signal cancels a 429 Reset wait and an in-flight request', async () => {
  const server = await startServer((_req, res, hit) => {
    if (hit.path.includes('/issues/')) {
      sendJson(
        res,
        429,
        { detail: 'too frequently' },
        rateLimitHeaders(1, 0, Math.floor(Date.now() / 1000) + 30),
      );
      return;
    }
    const t = setTimeout(() => sendJson(res, 200, []), 10_000);
    res.on('close', () => clearTimeout(t));
  });
  servers.push(server);
  const { client } = makeClient(server.baseUrl, { timeout: 20 });
  try {
    const controller = new AbortController();
    const started = Date.now();
    const a = rejection(listIssues(client, { query: '' }, { signal: controller.signal }));
    const b = rejection(client.listProjects({ signal: controller.signal }));
    while (server.hits.length < 2) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    for (const err of [await a, await b]) {
      assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
      assert.equal(err.kind, 'aborted');
    }
    assert.ok(Date.now() - started < 3000, 'the abort ends both requests within 3 s');
  } finally {
    await client.close();
  }
});

test('close() abandons pending calls with kind aborted', async () => {
  const server = await startServer((_req, res) => sendJson(res, 500, {}));
  servers.push(server);
  const { client } = makeClient(server.baseUrl, {
    retry: { tries: 3, delay: 30, maxDelay: 30, backoff: 1, jitter: 0 },
  });
  const p = rejection(client.listProjects());
  while (server.hits.length === 0) await new Promise((r) => setTimeout(r, 5));
  await client.close();
  const err = await p;
  assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
  assert.equal(err.kind, 'aborted');
});

test('RetryPolicy.decide: a 429 waits for its Reset, counted from when the answer arrived; anything else backs off', () => {
  const now = 100_000;
  const p = new RetryPolicy(
    { tries: 3, delay: 1, maxDelay: 5, backoff: 2, jitter: 0 },
    { safetyMarginMs: 75, maxHoldMs: 60_000, now: () => now },
  );
  const headers = (reset: number) => ({
    limit: 40,
    remaining: 0,
    reset,
    concurrentLimit: undefined,
    concurrentRemaining: undefined,
    serverDateMs: undefined,
    retryAfterMs: undefined,
  });
  // Reset at 102 s, now 100 s: 2 s, plus the 75 ms margin.
  assert.deepEqual(p.decide({ kind: 'http', status: 429, headers: headers(102) }, 1), {
    retry: true,
    waitMs: 2075,
    basis: 'reset',
  });
  // A Reset that is now (or past) is no basis: the backoff (1 s) applies.
  assert.deepEqual(p.decide({ kind: 'http', status: 429, headers: headers(100) }, 1), {
    retry: true,
    waitMs: 1000,
    basis: 'backoff',
  });
  // Rate-limit headers on a 500 do not make it wait for the window: backoff.
  assert.deepEqual(p.decide({ kind: 'http', status: 500, headers: headers(102) }, 1), {
    retry: true,
    waitMs: 1000,
    basis: 'backoff',
  });
  // The longest hold (1 s here) counts from when the 429 arrived (99 s), not from when it is decided.
  const short = new RetryPolicy(
    { tries: 3, delay: 1, maxDelay: 5, backoff: 2, jitter: 0 },
    { safetyMarginMs: 75, maxHoldMs: 1000, now: () => now },
  );
  assert.deepEqual(
    short.decide({ kind: 'http', status: 429, headers: headers(102), receivedAtMs: 99_000 }, 1),
    { retry: true, waitMs: 1000, basis: 'backoff' },
  );

  assert.equal(isRetryable({ kind: 'parse' }), false);
  assert.throws(() => new RetryPolicy({ tries: 0, delay: 1, maxDelay: 5, backoff: 2, jitter: 0 }), {
    name: 'RangeError',
    message: 'retry tries must be >= 1',
  });
});
