import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { buildUrl, fetchUrl, get } from './helpers.js';

let sim: SentrySimulator;
before(async () => {
  sim = await startSimulator({ projects: 3, token: 'secret-token', org: 'initech' });
});
after(() => sim.close());

test('a missing or wrong token answers 401', async () => {
  const none = await get(sim, 'organizations/initech/projects/', {}, null);
  assert.equal(none.status, 401);
  assert.deepEqual(none.json, { detail: 'Authentication credentials were not provided.' });
  const wrong = await get(sim, 'organizations/initech/projects/', {}, 'sim-token');
  assert.equal(wrong.status, 401);
  assert.deepEqual(wrong.json, { detail: 'Invalid token' });
  assert.equal((await get(sim, 'organizations/initech/projects/')).status, 200);
});

test('revoked and under-scoped tokens answer 401 and 403', async () => {
  try {
    sim.setTokenStatus('revoked');
    const revoked = await get(sim, 'organizations/initech/issues/');
    assert.equal(revoked.status, 401);
    assert.deepEqual(revoked.json, { detail: 'Invalid token' });
    sim.setTokenStatus('missing-scope');
    const scope = await get(sim, 'organizations/initech/stats_v2/', {
      field: 'sum(quantity)',
      groupBy: 'project',
    });
    assert.equal(scope.status, 403);
    assert.deepEqual(scope.json, { detail: 'You do not have permission to perform this action.' });
  } finally {
    sim.setTokenStatus('valid');
  }
  assert.equal((await get(sim, 'organizations/initech/issues/')).status, 200);
});

test('unknown organizations, projects, issues and paths answer 404 JSON; other methods 405', async () => {
  const notFound = { detail: 'The requested resource does not exist' };
  for (const path of [
    'organizations/acme/projects/',
    'projects/initech/nope/keys/',
    'projects/initech/nope/environments/',
    'issues/42/current-release/',
    'organizations/initech/releases/',
    'organizations/initech/projects',
  ]) {
    const reply = await get(sim, path);
    assert.equal(reply.status, 404, path);
    assert.deepEqual(reply.json, notFound, path);
  }
  const post = await fetchUrl(buildUrl(sim, 'organizations/initech/projects/'), sim.token, {
    method: 'POST',
  });
  assert.equal(post.status, 405);
  const counters = sim.counters();
  assert.ok(
    (counters.byEndpoint['(unmatched)'] ?? 0) >= 2,
    `unmatched paths are counted as (unmatched): ${JSON.stringify(counters.byEndpoint)}`,
  );
  assert.ok(
    (counters.byStatus['404'] ?? 0) >= 6,
    `at least 6 answers were 404: ${JSON.stringify(counters.byStatus)}`,
  );
});

test('the organization id works like its slug; projects resolve by id or slug', async () => {
  const projects = (await get(sim, 'organizations/initech/projects/')).json as Array<{
    id: string;
    slug: string;
  }>;
  const p = projects[0];
  assert.ok(p, 'the initech organization has a project');
  const bySlug = await get(sim, `projects/initech/${p.slug}/keys/`);
  const byId = await get(sim, `projects/initech/${p.id}/keys/`);
  assert.equal(bySlug.status, 200);
  assert.deepEqual(byId.json, bySlug.json);
});
