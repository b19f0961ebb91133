import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../sim/index.js';
import { get, getAll } from './helpers.js';

const NOW = Date.UTC(2025, 5, 17, 12, 34, 56);
const clock = () => NOW;

test('the same seed and sizes give identical data and truth', async () => {
  const a = await startSimulator({ seed: 7, now: clock, projects: 6 });
  const b = await startSimulator({ seed: 7, now: clock, projects: 6 });
  const c = await startSimulator({ seed: 8, now: clock, projects: 6 });
  try {
    assert.deepEqual(a.truth(), b.truth());
    assert.notDeepEqual(a.truth(), c.truth());
    const pa = await getAll(a, 'organizations/acme/issues/', { query: '' });
    const pb = await getAll(b, 'organizations/acme/issues/', { query: '' });
    assert.deepEqual(pa.items, pb.items);
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});

test('truth is computed at the simulator clock and stays stable for minutes', async () => {
  let now = NOW;
  const sim = await startSimulator({ seed: 3, now: () => now, projects: 10 });
  try {
    const first = sim.truth();
    now += 9 * 60_000;
    assert.deepEqual(sim.truth().issueWindows, first.issueWindows);
    assert.deepEqual(sim.truth().openIssues, first.openIssues);
    now += 60 * 60_000;
    assert.equal(sim.truth().openIssues.length, 0, 'an hour later no issue is younger than an hour');
  } finally {
    await sim.close();
  }
});

test('the data has the promised shape', async () => {
  const sim = await startSimulator({ now: clock });
  try {
    const truth = sim.truth();
    const projects = truth.rateLimits.map((r) => r.project);
    assert.equal(projects.length, 20);
    assert.equal(truth.issueWindows.filter((r) => r.environment === 'None').length, 1);
    assert.ok(
      truth.issueWindows.some((r) => r.d14 > r.h24 && r.h24 > r.h1 && r.h1 > 0),
      'some issue has more events in 14 days than in 24 hours, and in 24 hours than in 1 hour (> 0)',
    );
    assert.ok(
      truth.rateLimits.some((r) => r.eventsPerSecond > 0) &&
        truth.rateLimits.some((r) => r.eventsPerSecond === 0),
      'some keys have a rate limit (eventsPerSecond > 0) and some have none (0)',
    );
    assert.ok(
      truth.events.every((e) => e.received >= e.rejected + e.blacklisted),
      "every project's received events are at least its rejected plus blacklisted",
    );
    // Environment names are shared between projects.
    const envs = truth.issueWindows.map((r) => r.environment);
    assert.ok(envs.length > new Set(envs).size, 'some environment name is shared by several projects');
    // Issues of all ages and statuses.
    const { items } = await getAll<{ status: string; firstSeen: string }>(sim, 'organizations/acme/issues/', {
      query: '',
      statsPeriod: '90d',
    });
    const ages = items.map((i) => (NOW - Date.parse(i.firstSeen)) / 3600_000);
    assert.ok(
      ages.some((h) => h < 1) && ages.some((h) => h > 24 * 14) && ages.every((h) => h <= 24 * 30),
      'issues first seen less than an hour ago and more than 14 days ago, none older than 30 days',
    );
    for (const boundary of [1, 24, 24 * 14]) {
      assert.ok(
        ages.every((h) => Math.abs(h - boundary) > 10 / 60),
        `no firstSeen within 10 min of ${boundary}h`,
      );
    }
    assert.deepEqual(new Set(items.map((i) => i.status)), new Set(['unresolved', 'resolved', 'ignored']));
  } finally {
    await sim.close();
  }
});

test('a large organization is generated quickly and pages are answered fast', async () => {
  const t0 = performance.now();
  const sim = await startSimulator({
    projects: 1000,
    environmentsPerProject: 5,
    issuesPerProject: 12,
    rateLimit: false,
  });
  const startMs = performance.now() - t0;
  try {
    assert.ok(startMs < 5000, `generation took ${startMs} ms`);
    const projects = await getAll(sim, 'organizations/acme/projects/');
    assert.equal(projects.items.length, 1000);
    const p = projects.items[500] as { id: string; environments: string[] };
    const t1 = performance.now();
    for (const env of p.environments) {
      const reply = await get(sim, 'organizations/acme/issues/', {
        project: p.id,
        environment: env,
        query: 'is:unresolved age:-14d',
      });
      assert.equal(reply.status, 200);
    }
    const perQuery = (performance.now() - t1) / p.environments.length;
    assert.ok(perQuery < 500, `${perQuery} ms per issues page`);
    const all = await getAll(sim, 'organizations/acme/issues/', {
      project: -1,
      query: 'is:unresolved age:-24h',
    });
    // X-Hits is capped at 1000 (MAX_HITS_LIMIT in src/sentry/api/paginator.py).
    assert.ok(all.items.length > 1000, `${all.items.length} issues`);
    assert.equal(all.hits, 1000);
  } finally {
    await sim.close();
  }
});
