import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { get, getAll } from './helpers.js';

let sim: SentrySimulator;
let projects: Array<{ id: string; slug: string }>;
before(async () => {
  sim = await startSimulator({ projects: 12, rateLimit: false });
  projects = (await getAll<{ id: string; slug: string }>(sim, 'organizations/acme/projects/')).items;
});
after(() => sim.close());

test("keys: the first active key's rate limit is the ground truth; status filters", async () => {
  const truth = sim.truth().rateLimits;
  for (const project of projects) {
    const keys = (await get(sim, `projects/acme/${project.slug}/keys/`)).json as Array<{
      isActive: boolean;
      projectId: number;
      rateLimit: { window: number; count: number } | null;
    }>;
    assert.ok(keys.length >= 1 && keys.length <= 2, `a project has one or two keys (${keys.length})`);
    assert.ok(
      keys.every((k) => k.projectId === Number(project.id)),
      'every key belongs to the project asked for',
    );
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
  assert.ok(
    active.items.every((k) => k.isActive) && inactive.items.every((k) => !k.isActive),
    'status=active lists only active keys, status=inactive only inactive ones',
  );
  assert.equal(new Set(all.items.map((k) => k.projectId)).size, projects.length);
});
