/**
 * Pins the places where the simulator follows Sentry's code rather than its published spec, in the mode
 * where each applies (sentry.io or an older self-hosted release). Each test names the file in
 * getsentry/sentry the behaviour was read from; docs/sentry-api.md has the details.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { get } from './helpers.js';

let io: SentrySimulator;
let selfHosted: SentrySimulator;
before(async () => {
  io = await startSimulator({ projects: 4, environmentsPerProject: 2 });
  selfHosted = await startSimulator({ mode: 'self-hosted', projects: 4, environmentsPerProject: 2 });
});
after(() => Promise.all([io.close(), selfHosted.close()]));

const month = { field: 'sum(quantity)', category: 'error', statsPeriod: '14d', interval: '1d' };

test('stats_v2 grouped by project: sentry.io sends no intervals and no series, older self-hosted both', async () => {
  // src/sentry/api/endpoints/organization_stats_v2.py: result_timeseries = None if "project_id" in
  // query.query_groupby; src/sentry/snuba/outcomes.py massage_outcomes_result: del result["intervals"].
  const a = (await get(io, 'organizations/acme/stats_v2/', { ...month, groupBy: ['project', 'outcome'] }))
    .json as Record<string, unknown> & { groups: Array<Record<string, unknown>> };
  assert.equal('intervals' in a, false);
  assert.ok(a.groups.length > 0, "sentry.io's stats_v2 answer has groups");
  for (const g of a.groups) {
    assert.deepEqual(Object.keys(g).sort(), ['by', 'totals']);
    assert.equal(typeof (g.by as Record<string, unknown>).project, 'number', 'by.project is an integer id');
  }
  const b = (
    await get(selfHosted, 'organizations/acme/stats_v2/', { ...month, groupBy: ['project', 'outcome'] })
  ).json as Record<string, unknown> & { groups: Array<Record<string, unknown>> };
  assert.ok(
    Array.isArray(b.intervals) && b.intervals.length > 0,
    "self-hosted's stats_v2 answer has a non-empty intervals list",
  );
  for (const g of b.groups) assert.ok(g.series, 'older releases filled the series per project');
  // Without project grouping both modes send the time series.
  const c = (await get(io, 'organizations/acme/stats_v2/', { ...month, groupBy: ['outcome'] }))
    .json as Record<string, unknown> & { groups: Array<Record<string, unknown>> };
  assert.ok(
    Array.isArray(c.intervals),
    "sentry.io's stats_v2 answer grouped by outcome has an intervals list",
  );
  for (const g of c.groups) assert.ok(g.series, 'every group grouped by outcome has a series');
});

test('organization project-keys: sentry.io serves it (10 a page by default); older self-hosted answers 404', async () => {
  // src/sentry/api/endpoints/organization_project_keys.py (default_per_page=10), added December 2025.
  const page = await get(io, 'organizations/acme/project-keys/', { project: '-1' });
  assert.equal(page.status, 200);
  assert.ok(Array.isArray(page.json), 'project-keys with project=-1 answers a list');
  const missing = await get(selfHosted, 'organizations/acme/project-keys/');
  assert.equal(missing.status, 404);
});

test('self-hosted: no rate limiter and no X-Sentry-Rate-Limit headers; sentry.io sends them', async () => {
  // src/sentry/conf/server.py: SENTRY_RATELIMITER_ENABLED = False; src/sentry/middleware/ratelimit.py.
  const a = await get(io, 'organizations/acme/projects/');
  assert.ok(a.headers.get('x-sentry-rate-limit-limit') !== null, 'sentry.io sends X-Sentry-Rate-Limit-Limit');
  const b = await get(selfHosted, 'organizations/acme/projects/');
  assert.equal(b.headers.get('x-sentry-rate-limit-limit'), null);
  assert.equal(b.headers.get('x-sentry-rate-limit-remaining'), null);
});

test('self-hosted (older releases): project summaries without environments; sentry.io lists them', async () => {
  // src/sentry/api/serializers/models/project.py (ProjectSummarySerializer)
  const a = (await get(io, 'organizations/acme/projects/')).json as Array<Record<string, unknown>>;
  assert.ok(
    a.every((p) => Array.isArray(p.environments)),
    'sentry.io lists environments in every project summary',
  );
  const b = (await get(selfHosted, 'organizations/acme/projects/')).json as Array<Record<string, unknown>>;
  assert.ok(
    b.every((p) => !('environments' in p)),
    'self-hosted (older) project summaries have no environments key',
  );
});
