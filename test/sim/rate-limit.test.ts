import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../sim/index.js';
import { buildUrl, fetchUrl, get } from './helpers.js';

/**
 * Stops the wall clock (`Date`, which the simulator's rate-limit windows follow) 5 ms into the next whole
 * second, so a burst stays inside one window however slow the machine is; `t.mock.timers.tick(1000)` moves
 * to the next window. Timers and sockets keep real time.
 */
function freezeAtStartOfSecond(t: TestContext): void {
  t.mock.timers.enable({ apis: ['Date'], now: Math.ceil(Date.now() / 1000) * 1000 + 5 });
}

const HEADERS = [
  'x-sentry-rate-limit-limit',
  'x-sentry-rate-limit-remaining',
  'x-sentry-rate-limit-reset',
  'x-sentry-rate-limit-concurrentlimit',
  'x-sentry-rate-limit-concurrentremaining',
];

test('more than perSecond requests in one window get 429s with headers and no Retry-After', async (t) => {
  const sim = await startSimulator({ projects: 2, rateLimit: { perSecond: 5, concurrent: 100 } });
  try {
    freezeAtStartOfSecond(t);
    const url = buildUrl(sim, 'organizations/acme/projects/');
    const replies = await Promise.all(Array.from({ length: 12 }, () => fetchUrl(url, sim.token)));
    const ok = replies.filter((r) => r.status === 200);
    const limited = replies.filter((r) => r.status === 429);
    assert.equal(ok.length, 5);
    assert.equal(limited.length, 7);
    const window = Math.floor(Date.now() / 1000) + 1;
    for (const reply of replies) {
      for (const h of HEADERS) assert.ok(reply.headers.has(h), `${reply.status} lacks ${h}`);
      assert.equal(reply.headers.get('x-sentry-rate-limit-limit'), '5');
      assert.equal(reply.headers.get('x-sentry-rate-limit-reset'), String(window));
    }
    for (const reply of limited) {
      assert.equal(reply.headers.get('retry-after'), null);
      assert.equal(reply.headers.get('x-sentry-rate-limit-remaining'), '0');
      assert.deepEqual(reply.json, {
        detail: 'You are attempting to use this endpoint too frequently. Limit is 5 requests in 1 seconds',
      });
    }
    const remaining = ok.map((r) => Number(r.headers.get('x-sentry-rate-limit-remaining'))).sort();
    assert.deepEqual(remaining, [0, 1, 2, 3, 4]);

    // Another endpoint has its own window.
    assert.equal((await get(sim, 'organizations/acme/project-keys/')).status, 200);
    // The next window accepts again.
    t.mock.timers.tick(1000);
    const again = await fetchUrl(url, sim.token);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('x-sentry-rate-limit-remaining'), '4');
    assert.equal(again.headers.get('x-sentry-rate-limit-reset'), String(window + 1));
    const counters = sim.counters();
    assert.equal(counters.rateLimited, limited.length);
    assert.equal(counters.byStatus['429'], limited.length);
  } finally {
    await sim.close();
  }
});

test('a 429 does not use up a window slot', async (t) => {
  const sim = await startSimulator({ projects: 2, rateLimit: { perSecond: 3, concurrent: 100 } });
  try {
    freezeAtStartOfSecond(t);
    const url = buildUrl(sim, 'organizations/acme/projects/');
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetchUrl(url, sim.token)).status);
    // The refused ones never eat into the budget: the window's three come first, then only 429s.
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429]);
    t.mock.timers.tick(1000);
    assert.equal((await fetchUrl(url, sim.token)).status, 200);
  } finally {
    await sim.close();
  }
});

test('concurrent requests beyond the concurrency limit get 429', async () => {
  const sim = await startSimulator({
    projects: 2,
    rateLimit: { perSecond: 1000, concurrent: 2 },
    // Long enough that all six arrive while the first two are still being answered, even on a busy machine.
    latencyMs: 1000,
  });
  try {
    const url = buildUrl(sim, 'organizations/acme/projects/');
    const replies = await Promise.all(Array.from({ length: 6 }, () => fetchUrl(url, sim.token)));
    const limited = replies.filter((r) => r.status === 429);
    assert.equal(replies.filter((r) => r.status === 200).length, 2);
    assert.equal(limited.length, 4);
    for (const reply of limited) {
      assert.equal(reply.headers.get('x-sentry-rate-limit-concurrentremaining'), '0');
      assert.match((reply.json as { detail: string }).detail, /concurrency.*limit is 2/i);
    }
    // Finished requests free their slots.
    assert.equal((await fetchUrl(url, sim.token)).status, 200);
    assert.ok(
      sim.counters().maxConcurrent >= 6,
      `the counters saw the 6 requests at once (max concurrent: ${sim.counters().maxConcurrent})`,
    );
  } finally {
    await sim.close();
  }
});

test('self-hosted: no rate-limit headers and no 429s; setRateLimit changes limits at run time', async (t) => {
  const sim = await startSimulator({
    projects: 2,
    rateLimitHeaders: false,
    rateLimit: { perSecond: 2, concurrent: 1 },
  });
  try {
    const url = buildUrl(sim, 'organizations/acme/projects/');
    const replies = await Promise.all(Array.from({ length: 10 }, () => fetchUrl(url, sim.token)));
    assert.ok(
      replies.every((r) => r.status === 200),
      `10 requests within the limit all answer 200 (got ${replies.map((r) => r.status).join(', ')})`,
    );
    for (const h of HEADERS)
      assert.ok(
        replies.every((r) => !r.headers.has(h)),
        h,
      );
  } finally {
    await sim.close();
  }
  const limited = await startSimulator({ projects: 2, rateLimit: false });
  try {
    const url = buildUrl(limited, 'organizations/acme/projects/');
    const free = await fetchUrl(url, limited.token);
    assert.equal(free.headers.get('x-sentry-rate-limit-limit'), null);
    limited.setRateLimit({ perSecond: 1, concurrent: 5 });
    freezeAtStartOfSecond(t);
    const [a, b] = [await fetchUrl(url, limited.token), await fetchUrl(url, limited.token)];
    assert.deepEqual([a.status, b.status], [200, 429]);
    assert.equal(a.headers.get('x-sentry-rate-limit-limit'), '1');
  } finally {
    await limited.close();
  }
});
