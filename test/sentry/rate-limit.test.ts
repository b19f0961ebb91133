import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { FairSlots, RequestQueue } from '../../src/sentry/queue.js';
import {
  MAX_HOLD_MS,
  readRateLimitHeaders,
  RateLimitState,
  resetToLocalMs,
} from '../../src/sentry/rate-limit.js';
import {
  issueJson,
  makeClient,
  rateLimitHeaders,
  sendJson,
  startServer,
  type Hit,
  type TestServer,
  listIssues,
} from './helpers.js';

const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

test('readRateLimitHeaders reads Sentry headers, Date and Retry-After', () => {
  const h = readRateLimitHeaders(
    {
      ...rateLimitHeaders(40, 0, 1_700_000_001),
      date: 'Tue, 14 Nov 2023 22:13:20 GMT',
      'retry-after': '2',
    },
    0,
  );
  assert.deepEqual(h, {
    limit: 40,
    remaining: 0,
    reset: 1_700_000_001,
    concurrentLimit: 25,
    concurrentRemaining: 24,
    serverDateMs: 1_700_000_000_000,
    retryAfterMs: 2000,
  });
  const none = readRateLimitHeaders({});
  assert.equal(none.remaining, undefined);
  assert.equal(none.reset, undefined);
  assert.equal(readRateLimitHeaders({ 'x-sentry-rate-limit-remaining': 'abc' }).remaining, undefined);
});

test('resetToLocalMs: own clock when it agrees with Date, server clock when skewed, clamped', () => {
  const now = 1_700_000_000_400;
  assert.equal(resetToLocalMs(1_700_000_001, 1_700_000_000_000, now, 60_000), 1_700_000_001_000);
  // Our clock 10 min behind the server: the wait is measured on the server's clock (Date + 0.5 s).
  assert.equal(resetToLocalMs(1_700_000_601, 1_700_000_600_000, now, 60_000), now + 500);
  // A Reset in the past means the window is over; an absurd one is clamped.
  assert.equal(resetToLocalMs(1_600_000_000, undefined, now, 60_000), now);
  assert.equal(resetToLocalMs(1_900_000_000, undefined, now, 60_000), now + 60_000);
});

test('RateLimitState: Remaining 0 holds one endpoint until Reset, not the others', async () => {
  let now = 1_700_000_000_200;
  const state = new RateLimitState({ now: () => now, safetyMarginMs: 50 });
  const slot = await state.acquire('/a/');
  assert.equal(state.begin(slot), true);
  state.release(slot, {
    status: 200,
    headers: readRateLimitHeaders(rateLimitHeaders(3, 0, 1_700_000_001)),
    receivedAtMs: now,
  });
  assert.equal(state.holdMs('/a/'), 850);
  assert.equal(state.holdMs('/b/'), 0);
  now += 850;
  // The window is over; until Sentry describes the new one, at most the last Limit (3) may start.
  assert.equal(state.holdMs('/a/'), 0);
  const slots = [await state.acquire('/a/'), await state.acquire('/a/'), await state.acquire('/a/')];
  assert.ok(state.holdMs('/a/') > 0, 'a fourth request waits for the predicted window');
  for (const s of slots) assert.equal(state.begin(s), true);
  assert.deepEqual(
    state.snapshot().map((e) => [e.endpoint, e.limit, e.remaining, e.inflight]),
    [['/a/', 3, 0, 3]],
  );
});

test('a thousand requests behind a concurrency cap of 4: each freed slot wakes one waiter, in arrival order', async () => {
  const state = new RateLimitState();
  const first = await state.acquire('/issues/');
  assert.equal(state.begin(first), true);
  const headers = { ...rateLimitHeaders(100_000, 99_999, Math.floor(Date.now() / 1000) + 3600) };
  headers['x-sentry-rate-limit-concurrentlimit'] = '4';
  headers['x-sentry-rate-limit-concurrentremaining'] = '3';
  state.release(first, { status: 200, headers: readRateLimitHeaders(headers), receivedAtMs: Date.now() });

  const n = 1000;
  const order: number[] = [];
  let inflight = 0;
  let maxInflight = 0;
  // Every wait for a slot arms one timer (its longest hold): counting the timers counts the waits.
  let waits = 0;
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = ((...args: Parameters<typeof realSetTimeout>) => {
    waits++;
    return realSetTimeout(...args);
  }) as typeof realSetTimeout;
  try {
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const slot = await state.acquire('/issues/');
        assert.equal(state.begin(slot), true);
        order.push(i);
        maxInflight = Math.max(maxInflight, ++inflight);
        await new Promise((resolve) => setImmediate(resolve));
        inflight--;
        state.release(slot);
      }),
    );
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  assert.equal(order.length, n);
  assert.equal(maxInflight, 4);
  assert.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
    'waiters are served in arrival order',
  );
  // Waking every waiter on each release would make this ~n²/8 (about 125,000) waits.
  assert.ok(waits <= n, `${waits} waits for ${n} requests`);
});

test('Remaining 0 on a success holds further requests to that endpoint until Reset; others go on', async () => {
  let reset = 0;
  let early429 = 0;
  const server = await startServer((_req, res, hit, i) => {
    if (!hit.path.includes('/issues/')) {
      sendJson(res, 200, []);
      return;
    }
    const now = Date.now();
    if (i === 0) {
      reset = Math.floor(now / 1000) + 2;
      sendJson(res, 200, [issueJson(1)], rateLimitHeaders(1, 0, reset));
    } else if (now < reset * 1000) {
      early429++;
      sendJson(res, 429, { detail: 'too frequently' }, rateLimitHeaders(1, 0, reset));
    } else {
      sendJson(res, 200, [issueJson(2)], rateLimitHeaders(1, 0, Math.floor(now / 1000) + 1));
    }
  });
  servers.push(server);
  const { client } = makeClient(server.baseUrl, {
    retry: { tries: 1, delay: 0, maxDelay: 0, backoff: 1, jitter: 0 },
  });
  try {
    await listIssues(client, { query: '' });
    const [second] = await Promise.all([listIssues(client, { query: '' }), client.listProjects()]);
    assert.equal(second[0]?.id, '2');
    assert.equal(early429, 0);
    const issueHits = server.hitsOn('/organizations/acme/issues/');
    const projectHit = server.hitsOn('/organizations/acme/projects/')[0]!;
    assert.ok(issueHits[1]!.at >= reset * 1000, 'held until Reset');
    assert.ok(projectHit.at < reset * 1000 - 300, 'another endpoint was not held');
  } finally {
    await client.close();
  }
});

test('a burst late in one second and the next right after never exceed the rate in any clock second', async (t) => {
  // A fixed window that starts at .3 s would let 2 requests at 1.05 s and 3 more at 1.3 s into the same
  // clock second; the queue's sliding window does not. A mocked clock starts the first request exactly
  // 300 ms into a second, which a wall clock could only approximate.
  t.mock.timers.enable({ apis: ['Date', 'setTimeout', 'setInterval'], now: 1_700_000_000_300 });
  const queue = new RequestQueue({ rate: 3, concurrency: 5 });
  const starts: number[] = [];
  const request = () =>
    queue.run('/projects/{org}/{project}/keys/', async (slot) => {
      starts.push(Date.now());
      queue.rateLimits.release(slot);
    });
  /** Moves the mocked clock on in 10 ms steps, letting the queue start what became due at each. */
  const advance = async (ms: number) => {
    for (let step = 0; step < ms; step += 10) {
      t.mock.timers.tick(10);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const first = request();
  await advance(750); // now 1.050 s
  const burst = Promise.all(Array.from({ length: 5 }, request));
  await advance(3000);
  await Promise.all([first, burst]);
  assert.equal(starts.length, 6);
  const perSecond = new Map<number, number>();
  for (const at of starts)
    perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
  assert.ok(
    Math.max(...perSecond.values()) <= 3,
    `starts per clock second: ${[...perSecond.values()].join(', ')}`,
  );
  for (const from of starts) {
    const inSpan = starts.filter((at) => at >= from && at < from + 1000).length;
    assert.ok(inSpan <= 3, `${inSpan} starts within 1000 ms of ${from}`);
  }
});

/**
 * A Sentry-like limiter: fixed one-second windows aligned to the clock, per endpoint template; requests
 * over the limit get 429. `headers: false` enforces the same limit without telling (worst case).
 */
async function fixedWindowServer(limit: number, headers: boolean) {
  const counts = new Map<string, number>();
  const rejected: Hit[] = [];
  const server = await startServer((_req, res, hit) => {
    const template = hit.path.replace(/^\/api\/0\/projects\/acme\/[^/]+\//, '/projects/{org}/{project}/');
    const second = Math.floor(hit.at / 1000);
    const key = `${template} ${second}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    const h = headers ? rateLimitHeaders(limit, Math.max(0, limit - n), second + 1) : {};
    if (n > limit) {
      rejected.push(hit);
      sendJson(res, 429, { detail: `Limit is ${limit} requests in 1 seconds` }, h);
      return;
    }
    setTimeout(() => sendJson(res, 200, [], h), 20);
  });
  servers.push(server);
  return { server, rejected };
}

describe('staying under a fixed-window limit', { concurrency: true }, () => {
  for (const headers of [true, false]) {
    test(`rate 3 against a 3/s limiter${headers ? '' : ' that sends no headers'}: 21 requests, zero 429s`, async () => {
      const { server, rejected } = await fixedWindowServer(3, headers);
      const { client } = makeClient(server.baseUrl, { rate: 3, concurrency: 3 });
      try {
        const results = await Promise.all(
          Array.from({ length: 21 }, (_, i) => client.listProjectKeys(`p${i}`)),
        );
        assert.equal(results.length, 21);
        assert.equal(rejected.length, 0);
        assert.equal(server.hits.length, 21);
        assert.equal(client.stats().rateLimited, 0);
      } finally {
        await client.close();
      }
    });
  }

  test('rate 6 against a 2/s limiter with headers: only the first burst is rejected, all succeed', async () => {
    const { server, rejected } = await fixedWindowServer(2, true);
    const { client } = makeClient(server.baseUrl, {
      rate: 6,
      concurrency: 6,
      retry: { tries: 5, delay: 0.05, maxDelay: 0.2, backoff: 2, jitter: 0 },
    });
    try {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => client.listProjectKeys(`p${i}`)));
      assert.equal(results.length, 8);
      assert.ok(rejected.length <= 4, `${rejected.length} rejected`);
      // Once the limit was known, no request was sent into an exhausted window: every 429 answered one of
      // the first six requests, the burst the queue sends before any answer can come back (the seventh
      // waits for the queue's next second).
      for (const hit of rejected) {
        const n = server.hits.indexOf(hit) + 1;
        assert.ok(n <= 6, `request ${n} of ${server.hits.length} got a 429, after the limit was known`);
      }
    } finally {
      await client.close();
    }
  });

  test('ConcurrentRemaining 0 caps requests in flight on that endpoint', async () => {
    let inflight = 0;
    let over = 0;
    const overHits: number[] = [];
    const server = await startServer((_req, res, _hit, index) => {
      inflight++;
      const h = {
        'x-sentry-rate-limit-concurrentlimit': '2',
        'x-sentry-rate-limit-concurrentremaining': String(Math.max(0, 2 - inflight)),
      };
      if (inflight > 2) {
        over++;
        overHits.push(index + 1);
        inflight--;
        sendJson(res, 429, { detail: 'concurrent limit' }, h);
        return;
      }
      setTimeout(() => {
        inflight--;
        sendJson(res, 200, [], h);
      }, 80);
    });
    servers.push(server);
    const { client } = makeClient(server.baseUrl, {
      rate: 100,
      concurrency: 6,
      retry: { tries: 5, delay: 0.05, maxDelay: 0.2, backoff: 2, jitter: 0 },
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => client.listProjectKeys(`p${i}`)),
      );
      assert.equal(results.length, 12);
      assert.ok(over <= 4, `${over} concurrency rejections`);
      // Only the first six, sent together before any answer told the cap, can be rejected: each later one
      // starts once an answer came back, with ConcurrentRemaining in it.
      for (const n of overHits) assert.ok(n <= 6, `request ${n} rejected, after the cap was known`);
    } finally {
      await client.close();
    }
  });
});

test('readRateLimitHeaders at the edges: blank, negative and infinite counts; Retry-After as seconds or an HTTP date; an unreadable Date', () => {
  const remaining = (v: string) => readRateLimitHeaders({ 'x-sentry-rate-limit-remaining': v }).remaining;
  assert.deepEqual(['', '  ', '-1', 'Infinity', '0', ' 7 '].map(remaining), [
    undefined,
    undefined,
    undefined,
    undefined,
    0,
    7,
  ]);
  const now = Date.parse('Tue, 01 Dec 2026 20:00:00 GMT');
  const retryAfter = (v: string) => readRateLimitHeaders({ 'retry-after': v }, now).retryAfterMs;
  assert.deepEqual(
    [
      '',
      '  ',
      '-5',
      '0',
      '1.5',
      'Tue, 01 Dec 2026 20:00:10 GMT',
      'Tue, 01 Dec 2026 19:59:00 GMT',
      'soon',
    ].map(retryAfter),
    [undefined, undefined, undefined, 0, 1500, 10_000, 0, undefined],
  );
  assert.equal(readRateLimitHeaders({ date: 'not a date' }).serverDateMs, undefined);
});

test('resetToLocalMs: the Date header counts as in agreement from 250 ms before to 1,250 ms after it', () => {
  // Reset at 110 s, Date at 100 s, no hold limit in the way: in agreement, the local clock is used, and the
  // window ends at 110 s local time; skewed, the server's time is taken as Date + 500 ms.
  const at = (receivedAtMs: number) => resetToLocalMs(110, 100_000, receivedAtMs, 60_000);
  assert.equal(at(99_750), 110_000);
  assert.equal(at(101_250), 110_000);
  assert.equal(at(99_749), 99_749 + 9_500);
  assert.equal(at(101_251), 101_251 + 9_500);
  assert.equal(at(90_000), 90_000 + 9_500);
});

test('headers can never stop an endpoint for good: Limit 0 is ignored, a Reset far ahead holds at most MAX_HOLD_MS', async () => {
  let now = 1_700_000_000_200;
  const state = new RateLimitState({ now: () => now, safetyMarginMs: 50 });
  const answer = async (endpoint: string, headers: Record<string, string>) => {
    const slot = await state.acquire(endpoint);
    assert.equal(state.begin(slot), true);
    state.release(slot, { status: 200, headers: readRateLimitHeaders(headers), receivedAtMs: now });
  };
  const inAnHour = 1_700_000_000 + 3600;

  // A proxy's `Limit: 0`, `Remaining: 0`: nothing usable, the endpoint is not held at all.
  await answer('/a/', rateLimitHeaders(0, 0, inAnHour));
  assert.equal(state.holdMs('/a/'), 0);
  assert.equal(state.describeHold('/a/'), undefined);
  // Nor after a good reading: Limit 0 does not become the predicted budget of later windows.
  await answer('/a/', rateLimitHeaders(40, 39, 1_700_000_001));
  await answer('/a/', rateLimitHeaders(0, 0, inAnHour));
  now += 5000;
  for (let i = 0; i < 39; i++) await answer('/a/', {});
  assert.equal(state.holdMs('/a/'), 0, 'a new window: the last sane Limit (40) applies');
  await answer('/a/', {});
  assert.ok(state.holdMs('/a/') > 0, 'the 41st request of the window waits for the next');

  // Remaining 0 until a Reset an hour ahead: held for MAX_HOLD_MS (plus the margin), then open again.
  await answer('/b/', rateLimitHeaders(40, 0, Math.floor(now / 1000) + 3600));
  assert.equal(state.holdMs('/b/'), MAX_HOLD_MS + 50);
  assert.match(
    state.describeHold('/b/') ?? '',
    /^held by Sentry's rate-limit headers for 11 s more \(X-Sentry-Rate-Limit-Remaining 0, -Limit 40; one hold lasts at most 10 s\)$/,
  );
  now += MAX_HOLD_MS + 50;
  assert.equal(state.holdMs('/b/'), 0);

  // Remaining above Limit is cut to it; fractions are floored.
  await answer('/c/', rateLimitHeaders(2.9, 1000, Math.floor(now / 1000) + 1));
  assert.deepEqual(
    state.snapshot().find((e) => e.endpoint === '/c/'),
    { endpoint: '/c/', limit: 2, remaining: 2, reset: Math.floor(now / 1000) + 1, inflight: 0 },
  );
});

describe('FairSlots: the request slots shared between collectors', () => {
  test('a caller holds at most half of the slots (one less than all); the others get theirs in turn', async () => {
    assert.equal(new FairSlots(1).perCaller, 1);
    assert.equal(new FairSlots(2).perCaller, 1);
    assert.equal(new FairSlots(3).perCaller, 2);
    assert.equal(new FairSlots(10).perCaller, 5);
    const slots = new FairSlots(4);
    const order: string[] = [];
    const held: string[] = [];
    const enter = (caller: string) =>
      slots.enter(caller).then(() => {
        order.push(caller);
        held.push(caller);
      });
    const leave = async (caller: string) => {
      held.splice(held.indexOf(caller), 1);
      slots.leave(caller);
      await new Promise((resolve) => setImmediate(resolve));
    };
    // `issues` asks for ten at once: it gets two; `monitors` and `outcomes` arrive later and get the others.
    const issues = Array.from({ length: 10 }, () => enter('issues'));
    await Promise.resolve();
    const others = [enter('monitors'), enter('outcomes'), enter('monitors')];
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ['issues', 'issues', 'monitors', 'outcomes']);
    // A slot of `issues` frees: `issues` and `monitors` wait with one in flight each; `issues` was served
    // less recently.
    await leave('issues');
    assert.deepEqual(order.slice(4), ['issues']);
    // A slot of `outcomes` frees: `issues` holds its two, `monitors` gets it.
    await leave('outcomes');
    assert.deepEqual(order.slice(5), ['monitors']);
    assert.equal(held.filter((c) => c === 'issues').length, 2);
    // Every slot given back in the order it was taken: each waiter gets one in the end, never more than
    // two for `issues` at once.
    while (order.length < 13 && held.length > 0) {
      await leave(held[0]!);
      assert.ok(held.filter((c) => c === 'issues').length <= 2, `held: ${held.join(', ')}`);
    }
    assert.equal(order.length, 13, order.join(', '));
    await Promise.all([...issues, ...others]);
  });

  test('a request abandoned while it waits leaves the turn, and the wait says what it was for', async () => {
    const slots = new FairSlots(2);
    await slots.enter('issues');
    const gone = new AbortController();
    const waiting = slots.enter('issues', gone.signal);
    assert.match(
      slots.describe('issues'),
      /^waiting for a request slot: issues has 1 of the 2 \(SENTRY_API_CONCURRENCY\) in flight, the most one collector may hold$/,
    );
    gone.abort(new Error('deadline'));
    await assert.rejects(waiting, /deadline/);
    await slots.enter('monitors');
    slots.leave('issues');
    await slots.enter('outcomes');
  });
});
