import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from 'undici';
import { startSimulator } from '../../sim/index.js';
import { get } from './helpers.js';

test('stop() refuses connections; start() listens again on the same port with the same data', async () => {
  const sim = await startSimulator({ projects: 4 });
  try {
    const before = await get(sim, 'organizations/acme/projects/');
    assert.equal(before.status, 200);
    const port = sim.port;
    await sim.stop();
    await assert.rejects(
      fetch(`${sim.url}organizations/acme/projects/`),
      (err: Error & { cause?: { code?: string } }) => {
        assert.equal(err.cause?.code, 'ECONNREFUSED');
        return true;
      },
    );
    await sim.stop();
    await sim.start();
    assert.equal(sim.port, port);
    assert.ok(sim.url.includes(`:${port}/`), `the URL names the port ${port}: ${sim.url}`);
    const again = await get(sim, 'organizations/acme/projects/');
    assert.equal(again.status, 200);
    assert.deepEqual(again.json, before.json);
  } finally {
    await sim.close();
  }
  await assert.rejects(sim.start(), /closed/);
});

test('keep-alive connections carry many requests (undici Pool)', async () => {
  const sim = await startSimulator({ projects: 4 });
  const pool = new Pool(new URL(sim.url).origin, { connections: 2 });
  try {
    for (let i = 0; i < 20; i++) {
      const res = await pool.request({
        path: `/api/0/organizations/acme/projects/?per_page=2&cursor=0:${i % 2}:0`,
        method: 'GET',
        headers: { authorization: `Bearer ${sim.token}` },
      });
      assert.equal(res.statusCode, 200);
      await res.body.text();
    }
    const counters = sim.counters();
    assert.equal(counters.total, 20);
    assert.ok(counters.connections <= 2, `${counters.connections} connections`);
  } finally {
    await pool.close();
    await sim.close();
  }
});

test('close() with a request hanging still releases everything', async () => {
  const sim = await startSimulator({ projects: 2 });
  sim.setFaults({ hangRate: 1, hangMs: 60_000 });
  const pending = fetch(`${sim.url}organizations/acme/projects/`, {
    headers: { Authorization: `Bearer ${sim.token}` },
  }).catch((err: unknown) => err);
  while (sim.counters().total === 0) await new Promise((r) => setTimeout(r, 5));
  await sim.close();
  assert.ok((await pending) instanceof Error, 'a request pending at close() rejects with an Error');
});

test('latency is added to every response', async () => {
  const sim = await startSimulator({ projects: 2, latencyMs: 120 });
  try {
    let t = performance.now();
    await get(sim, 'organizations/acme/projects/');
    assert.ok(performance.now() - t >= 100, 'with 120 ms of latency a request takes at least 100 ms');
    sim.setLatency(0);
    t = performance.now();
    await get(sim, 'organizations/acme/projects/');
    assert.ok(performance.now() - t < 2000, 'a request without latency answers within 2 s');
    assert.throws(() => sim.setLatency(-1), RangeError);
  } finally {
    await sim.close();
  }
});

test('counters record endpoint templates and queries; resetCounters clears them', async () => {
  const sim = await startSimulator({ projects: 2 });
  try {
    const envs = (
      (await get(sim, 'organizations/acme/projects/')).json as Array<{ environments: string[] }>
    ).flatMap((p) => p.environments);
    assert.equal(envs.length, 2);
    sim.resetCounters();
    await get(sim, 'organizations/acme/issues/', { environment: envs, query: 'is:unresolved' });
    await get(sim, 'organizations/acme/stats_v2/', { field: 'sum(quantity)', groupBy: 'project' });
    const c = sim.counters();
    assert.equal(c.total, 2);
    assert.deepEqual(c.byEndpoint, {
      '/organizations/{org}/issues/': 1,
      '/organizations/{org}/stats_v2/': 1,
    });
    assert.deepEqual(c.requests[0]?.query, { environment: envs, query: 'is:unresolved' });
    assert.equal(c.requests[0]?.status, 200);
    assert.ok(
      Math.abs((c.requests[0]?.at ?? 0) - Date.now()) < 60_000,
      "the request's recorded time is the wall clock's (within a minute)",
    );
    sim.resetCounters();
    assert.equal(sim.counters().total, 0);
    assert.deepEqual(sim.counters().requests, []);
  } finally {
    await sim.close();
  }
});
