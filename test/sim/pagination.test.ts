import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { get, getAll, parseLink } from './helpers.js';

let sim: SentrySimulator;
before(async () => {
  sim = await startSimulator({ projects: 20, rateLimit: false });
});
after(() => sim.close());

test('projects page through Link cursors, every project exactly once', async () => {
  const { items, pages } = await getAll<{ id: string; slug: string }>(sim, 'organizations/acme/projects/', {
    per_page: 7,
  });
  assert.equal(pages, 3);
  assert.equal(items.length, 20);
  assert.equal(new Set(items.map((p) => p.id)).size, 20);
  const slugs = items.map((p) => p.slug);
  assert.deepEqual(slugs, [...slugs].sort(), 'projects come sorted by slug');
});

test('Link header has a previous and a next entry in Sentry format', async () => {
  const first = await get(sim, 'organizations/acme/projects/', { per_page: 7 });
  const link = first.headers.get('link') ?? '';
  assert.match(
    link,
    /^<http:\/\/127\.0\.0\.1:\d+\/api\/0\/organizations\/acme\/projects\/\?per_page=7&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", <http:\/\/127\.0\.0\.1:\d+\/api\/0\/organizations\/acme\/projects\/\?per_page=7&cursor=0:7:0>; rel="next"; results="true"; cursor="0:7:0"$/,
  );
  const last = await get(sim, 'organizations/acme/projects/', { per_page: 7, cursor: '0:14:0' });
  const entries = parseLink(last.headers.get('link'));
  assert.deepEqual(
    entries.map((e) => [e.rel, e.results, e.cursor]),
    [
      ['previous', true, '0:7:1'],
      ['next', false, '0:21:0'],
    ],
  );
  assert.equal((last.json as unknown[]).length, 6);
});

test('issues of a busy environment need several pages; X-Hits gives the total', async () => {
  const projects = (await get(sim, 'organizations/acme/projects/')).json as Array<{
    id: string;
    slug: string;
    environments: string[];
  }>;
  const busy = projects.find((p) => p.slug === 'checkout-api');
  assert.ok(busy, 'the project checkout-api exists');
  const env = busy.environments[0];
  assert.ok(env, 'checkout-api has an environment');
  const all = await getAll<{ id: string }>(sim, 'organizations/acme/issues/', {
    project: busy.id,
    environment: env,
    query: 'is:unresolved firstSeen:-14d',
  });
  assert.ok(all.items.length > 100, `expected more than 100 issues, got ${all.items.length}`);
  assert.equal(all.pages, 2);
  assert.equal(all.hits, all.items.length);
  assert.equal(new Set(all.items.map((i) => i.id)).size, all.items.length);

  const small = await getAll<{ id: string }>(sim, 'organizations/acme/issues/', {
    project: busy.id,
    environment: env,
    query: 'is:unresolved firstSeen:-14d',
    limit: 25,
  });
  assert.ok(small.pages >= 5, `limit=25 takes at least 5 pages (${small.pages})`);
  assert.deepEqual(
    small.items.map((i) => i.id),
    all.items.map((i) => i.id),
    'page size does not change the order',
  );
});

test('per_page over 100 and bad cursors are refused with 400; the issue search clamps its limit to 100', async () => {
  // docs/sentry-api.md, pagination: src/sentry/utils/pagination_factory.py (per_page), src/sentry/api/paginator.py
  // (the search paginator's max_limit)
  const issues = await get(sim, 'organizations/acme/issues/', { limit: 101 });
  assert.equal(issues.status, 200);
  assert.equal((issues.json as unknown[]).length, 100);
  const word = await get(sim, 'organizations/acme/issues/', { limit: 'ten' });
  assert.equal(word.status, 400);
  assert.deepEqual(word.json, { detail: 'invalid limit' });
  const projects = await get(sim, 'organizations/acme/projects/', { per_page: 101 });
  assert.equal(projects.status, 400);
  assert.deepEqual(projects.json, { detail: 'Invalid per_page value. Must be between 1 and 100.' });
  const keys = await get(sim, 'organizations/acme/project-keys/', { per_page: 0 });
  assert.equal(keys.status, 400);
  const cursor = await get(sim, 'organizations/acme/projects/', { cursor: 'garbage' });
  assert.equal(cursor.status, 400);
  assert.deepEqual(cursor.json, { detail: 'Invalid cursor parameter.' });
  assert.equal((await get(sim, 'organizations/acme/issues/', { limit: 100 })).status, 200);
});

test('a Link without other parameters starts its query with the cursor, as Sentry writes it', async () => {
  const reply = await get(sim, 'organizations/acme/projects/');
  const next = parseLink(reply.headers.get('link')).find((e) => e.rel === 'next');
  assert.match(next?.url ?? '', /\/projects\/\?&cursor=0:100:0$/);
  assert.equal(next?.results, false);
});

test('every paginated list endpoint sends a Link header; project environments (unpaginated in Sentry) do not', async () => {
  const projects = (await get(sim, 'organizations/acme/projects/')).json as Array<{ slug: string }>;
  const slug = projects[0]?.slug ?? '';
  for (const path of [
    'organizations/acme/projects/',
    'organizations/acme/project-keys/',
    `projects/acme/${slug}/keys/`,
    'organizations/acme/issues/',
  ]) {
    const reply = await get(sim, path);
    assert.equal(reply.status, 200, path);
    const rels = parseLink(reply.headers.get('link')).map((e) => e.rel);
    assert.deepEqual(rels, ['previous', 'next'], path);
  }
  const envs = await get(sim, `projects/acme/${slug}/environments/`);
  assert.equal(envs.status, 200);
  assert.equal(envs.headers.get('link'), null);
  const keys = await getAll(sim, 'organizations/acme/project-keys/', { per_page: 5 });
  assert.ok(keys.pages >= 4, `per_page=5 takes at least 4 pages of keys (${keys.pages})`);
  assert.equal(new Set(keys.items.map((k) => k.id)).size, keys.items.length);
});
