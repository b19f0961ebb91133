import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { get, getAll } from './helpers.js';

interface StatsGroup {
  by: Record<string, string | number>;
  totals: Record<string, number>;
  /** Absent when grouped by project (sentry.io). */
  series?: Record<string, number[]>;
}
interface Stats {
  start: string;
  end: string;
  intervals: string[];
  groups: StatsGroup[];
}

let sim: SentrySimulator;
let projects: Array<{ id: string; slug: string }>;
before(async () => {
  sim = await startSimulator({ projects: 12, rateLimit: false });
  projects = (await getAll<{ id: string; slug: string }>(sim, 'organizations/acme/projects/')).items;
});
after(() => sim.close());

function monthStart(): Date {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

test('error outcomes of this month grouped by project and outcome equal the ground truth', async () => {
  const reply = await get(sim, 'organizations/acme/stats_v2/', {
    field: 'sum(quantity)',
    groupBy: ['project', 'outcome'],
    category: 'error',
    start: monthStart().toISOString(),
    end: new Date().toISOString(),
    interval: '1d',
  });
  assert.equal(reply.status, 200, reply.text);
  const stats = reply.json as Stats;
  const truth = sim.truth().events;
  for (const row of truth) {
    const id = Number(projects.find((p) => p.slug === row.project)?.id);
    const sum = (outcome: string) =>
      stats.groups
        .filter((g) => g.by.project === id && g.by.outcome === outcome)
        .reduce((s, g) => s + (g.totals['sum(quantity)'] ?? 0), 0);
    assert.equal(sum('accepted') + sum('filtered') + sum('rate_limited'), row.received, row.project);
    assert.equal(sum('rate_limited'), row.rejected, row.project);
    assert.equal(sum('filtered'), row.blacklisted, row.project);
  }
  assert.ok(truth.every((r) => r.received > 0));
  assert.ok(
    // grouped by project, sentry.io sends no series at all (docs/sentry-api.md, stats_v2)
    stats.groups.every((g) => typeof g.by.project === 'number' && !('series' in g)),
  );
  assert.deepEqual(
    new Set(stats.groups.map((g) => g.by.outcome)),
    new Set(['accepted', 'filtered', 'rate_limited', 'invalid', 'client_discard']),
  );
});

test('the category filter, epoch-second ranges and series', async () => {
  const end = Math.floor(Date.now() / 1000);
  const start = end - 40 * 86400;
  const query = { field: 'sum(quantity)', groupBy: 'outcome', start, end, interval: '1d' };
  const errors = (await get(sim, 'organizations/acme/stats_v2/', { ...query, category: 'error' }))
    .json as Stats;
  const transactions = (await get(sim, 'organizations/acme/stats_v2/', { ...query, category: 'transaction' }))
    .json as Stats;
  const both = (await get(sim, 'organizations/acme/stats_v2/', query)).json as Stats;
  const total = (s: Stats) => s.groups.reduce((n, g) => n + (g.totals['sum(quantity)'] ?? 0), 0);
  assert.ok(total(errors) > 0 && total(transactions) > 0);
  assert.notEqual(total(errors), total(transactions));
  assert.equal(total(both), total(errors) + total(transactions));
  assert.ok(errors.intervals.length >= 40 && errors.intervals.length <= 42);
  for (const g of errors.groups) {
    const series = g.series?.['sum(quantity)'] ?? [];
    assert.equal(series.length, errors.intervals.length);
    assert.equal(
      series.reduce((a, b) => a + b, 0),
      g.totals['sum(quantity)'],
    );
  }
  const timesSeen = (await get(sim, 'organizations/acme/stats_v2/', { ...query, field: 'sum(times_seen)' }))
    .json as Stats;
  assert.ok(timesSeen.groups.every((g) => (g.totals['sum(times_seen)'] ?? 0) > 0));
  const oneProject = (
    await get(sim, 'organizations/acme/stats_v2/', {
      ...query,
      groupBy: 'project',
      project: projects[0]?.id ?? '',
    })
  ).json as Stats;
  assert.deepEqual(
    oneProject.groups.map((g) => g.by.project),
    [Number(projects[0]?.id)],
  );
});

test('stats_v2 refuses missing field or groupBy and sub-hour intervals', async () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ groupBy: 'project' }, /field/],
    [{ field: 'sum(quantity)' }, /groupBy/],
    [{ field: 'count()', groupBy: 'project' }, /field/],
    [{ field: 'sum(quantity)', groupBy: 'team' }, /groupBy/],
    [{ field: 'sum(quantity)', groupBy: 'project', interval: '30m' }, /interval/],
    [{ field: 'sum(quantity)', groupBy: 'project', category: 'bananas' }, /category/],
    [{ field: 'sum(quantity)', groupBy: 'project', start: '2024-01-01T00:00:00Z' }, /end/],
  ];
  for (const [query, detail] of cases) {
    const reply = await get(sim, 'organizations/acme/stats_v2/', query);
    assert.equal(reply.status, 400, JSON.stringify(query));
    assert.match((reply.json as { detail: string }).detail, detail);
  }
});

test("keys: the first active key's rate limit is the ground truth; status filters", async () => {
  const truth = sim.truth().rateLimits;
  for (const project of projects) {
    const keys = (await get(sim, `projects/acme/${project.slug}/keys/`)).json as Array<{
      isActive: boolean;
      projectId: number;
      rateLimit: { window: number; count: number } | null;
    }>;
    assert.ok(keys.length >= 1 && keys.length <= 2);
    assert.ok(keys.every((k) => k.projectId === Number(project.id)));
    const active = keys.find((k) => k.isActive);
    const eps = active?.rateLimit
      ? Math.round((active.rateLimit.count / active.rateLimit.window) * 1e6) / 1e6
      : 0;
    assert.equal(truth.find((t) => t.project === project.slug)?.eventsPerSecond, eps, project.slug);
  }
  const all = await getAll<{ isActive: boolean; projectId: number }>(sim, 'organizations/acme/project-keys/');
  const active = await getAll<{ isActive: boolean }>(sim, 'organizations/acme/project-keys/', {
    status: 'active',
  });
  const inactive = await getAll<{ isActive: boolean }>(sim, 'organizations/acme/project-keys/', {
    status: 'inactive',
  });
  assert.ok(inactive.items.length > 0, 'some first keys are inactive');
  assert.equal(active.items.length + inactive.items.length, all.items.length);
  assert.ok(active.items.every((k) => k.isActive) && inactive.items.every((k) => !k.isActive));
  assert.equal(new Set(all.items.map((k) => k.projectId)).size, projects.length);
});
