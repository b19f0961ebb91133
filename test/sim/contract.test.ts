/**
 * The simulator against Sentry's published OpenAPI spec: its answers validate against the documented 200
 * response schemas, and the query parameters it interprets are ones the spec declares.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACCEPTED_QUERY_PARAMS, startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { get, getAll } from './helpers.js';
import type { Query } from './helpers.js';
import { UNDOCUMENTED_ENDPOINTS } from './deviations.js';
import { declaredQueryParams, describeErrors, loadSpec, responseValidator } from './openapi.js';

/** Simulator endpoint template -> spec path template (current-release is not in the spec). */
const SPEC_PATHS: Record<string, string> = {
  '/organizations/{org}/projects/': '/api/0/organizations/{organization_id_or_slug}/projects/',
  '/projects/{org}/{project}/environments/':
    '/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/environments/',
  '/organizations/{org}/issues/': '/api/0/organizations/{organization_id_or_slug}/issues/',
  '/projects/{org}/{project}/keys/': '/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/keys/',
  '/organizations/{org}/project-keys/': '/api/0/organizations/{organization_id_or_slug}/project-keys/',
  '/organizations/{org}/stats_v2/': '/api/0/organizations/{organization_id_or_slug}/stats_v2/',
};

/**
 * `per_page` is Sentry's generic page-size parameter, honoured by every paginated endpoint though the spec only
 * lists it for some.
 */
const GENERIC_PARAMS = new Set(['per_page']);

let sim: SentrySimulator;
let projects: Array<{ id: string; slug: string; environments: string[] }>;
before(async () => {
  sim = await startSimulator({ projects: 6, environmentsPerProject: 3, rateLimit: false });
  projects = (
    await getAll<{ id: string; slug: string; environments: string[] }>(sim, 'organizations/acme/projects/')
  ).items;
});
after(() => sim.close());

function assertValid(specPath: string, body: unknown, label: string): void {
  const validate = responseValidator(specPath, 'get');
  assert.ok(validate(body), `${label}: ${describeErrors(validate)}`);
}

test('the spec is the OpenAPI 3.0 document and holds every simulated endpoint', () => {
  const spec = loadSpec();
  assert.match(spec.openapi, /^3\.0\./);
  for (const path of Object.values(SPEC_PATHS)) assert.ok(spec.paths[path]?.get, path);
  assert.deepEqual(
    new Set(Object.keys(ACCEPTED_QUERY_PARAMS)),
    new Set([...Object.keys(SPEC_PATHS), ...UNDOCUMENTED_ENDPOINTS.map((d) => d.endpoint)]),
  );
});

test('the validator rejects what the spec forbids (so the checks below can fail)', () => {
  const validate = responseValidator(SPEC_PATHS['/organizations/{org}/issues/'] ?? '', 'get');
  assert.equal(validate([{ id: 1 }]), false);
  assert.equal(validate({}), false);
});

test('project, environment and key listings validate against the spec', async () => {
  const projectList = (await get(sim, 'organizations/acme/projects/')).json;
  assertValid(SPEC_PATHS['/organizations/{org}/projects/'] ?? '', projectList, 'projects');
  for (const p of projects) {
    for (const visibility of ['visible', 'all']) {
      const envs = (await get(sim, `projects/acme/${p.slug}/environments/`, { visibility })).json;
      assertValid(
        SPEC_PATHS['/projects/{org}/{project}/environments/'] ?? '',
        envs,
        `${p.slug} environments`,
      );
    }
    const keys = (await get(sim, `projects/acme/${p.slug}/keys/`)).json;
    assertValid(SPEC_PATHS['/projects/{org}/{project}/keys/'] ?? '', keys, `${p.slug} keys`);
  }
  const orgKeys = (await get(sim, 'organizations/acme/project-keys/')).json;
  assertValid(SPEC_PATHS['/organizations/{org}/project-keys/'] ?? '', orgKeys, 'project-keys');
});

test('issue listings validate against the spec, across filters and stats periods', async () => {
  const withEnv = projects.find((p) => p.environments.length > 0);
  assert.ok(withEnv);
  const queries: Query[] = [
    {},
    { query: '', statsPeriod: '30d', limit: 100 },
    { project: withEnv.id, environment: withEnv.environments[0] ?? '', query: 'is:unresolved age:-24h' },
    { query: 'is:ignored', groupStatsPeriod: '14d', sort: 'new' },
    { query: 'is:resolved', groupStatsPeriod: '', sort: 'freq' },
  ];
  let validated = 0;
  for (const query of queries) {
    const reply = await get(sim, 'organizations/acme/issues/', query);
    assert.equal(reply.status, 200, JSON.stringify(query));
    assert.ok(Array.isArray(reply.json) && reply.json.length > 0, JSON.stringify(query));
    assertValid(SPEC_PATHS['/organizations/{org}/issues/'] ?? '', reply.json, JSON.stringify(query));
    validated += (reply.json as unknown[]).length;
  }
  assert.ok(validated > 100);
});

test('stats_v2 answers validate against the spec, with and without series', async () => {
  for (const groupBy of [['project', 'outcome'], ['outcome', 'category', 'reason'], ['outcome']]) {
    const reply = await get(sim, 'organizations/acme/stats_v2/', {
      field: 'sum(quantity)',
      groupBy,
      statsPeriod: '14d',
      interval: '1d',
    });
    assert.equal(reply.status, 200);
    assertValid(SPEC_PATHS['/organizations/{org}/stats_v2/'] ?? '', reply.json, groupBy.join(','));
  }
});

test('every query parameter the simulator interprets is declared by the spec', () => {
  for (const [template, params] of Object.entries(ACCEPTED_QUERY_PARAMS)) {
    const specPath = SPEC_PATHS[template];
    if (!specPath) continue; // current-release: not in the spec
    const declared = declaredQueryParams(specPath, 'get');
    for (const param of params) {
      assert.ok(declared.has(param) || GENERIC_PARAMS.has(param), `${template} ?${param} is not in the spec`);
    }
  }
  // And the ones an exporter relies on are in both.
  const issues = declaredQueryParams(SPEC_PATHS['/organizations/{org}/issues/'] ?? '', 'get');
  for (const p of ['project', 'environment', 'query', 'statsPeriod', 'sort', 'limit', 'cursor'])
    assert.ok(issues.has(p), p);
});
