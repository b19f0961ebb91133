/**
 * The simulator against Sentry's published OpenAPI spec, in both of its modes: its answers validate against
 * the documented 200 response schemas except where Sentry's code differs from the spec (and only there:
 * the differences listed in deviations.ts, each with its source and a test of its own), and the query
 * parameters it interprets are ones the spec declares or deviations.ts lists.
 */
import { readFileSync } from 'node:fs';
import { after, before, test as plainTest } from 'node:test';
import { OPENAPI_SPEC, testNeeding } from '../helpers/tools.js';
import assert from 'node:assert/strict';
import { ACCEPTED_QUERY_PARAMS, startSimulator } from '../../sim/index.js';
import type { SentrySimulator, SimMode } from '../../sim/index.js';
import { get, getAll } from './helpers.js';
import type { Query } from './helpers.js';
import {
  BEHAVIOUR_DEVIATIONS,
  QUERY_DEVIATIONS,
  RESPONSE_DEVIATIONS,
  UNDOCUMENTED_ENDPOINTS,
} from './deviations.js';
import { declaredQueryParams, loadSpec, responseValidator } from './openapi.js';

/** Tests that read the spec need the shared folder beside the checkout (failing under CI=true without it). */
const test = testNeeding([OPENAPI_SPEC]);

/** Simulator endpoint template -> spec path template (current-release is not in the spec). */
const SPEC_PATHS: Record<string, string> = {
  '/organizations/{org}/projects/': '/api/0/organizations/{organization_id_or_slug}/projects/',
  '/projects/{org}/{project}/environments/':
    '/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/environments/',
  '/organizations/{org}/issues/': '/api/0/organizations/{organization_id_or_slug}/issues/',
  '/projects/{org}/{project}/keys/': '/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/keys/',
  '/organizations/{org}/project-keys/': '/api/0/organizations/{organization_id_or_slug}/project-keys/',
  '/organizations/{org}/stats_v2/': '/api/0/organizations/{organization_id_or_slug}/stats_v2/',
  '/organizations/{org}/monitors/': '/api/0/organizations/{organization_id_or_slug}/monitors/',
  '/organizations/{org}/sessions/': '/api/0/organizations/{organization_id_or_slug}/sessions/',
  '/organizations/{org}/events/': '/api/0/organizations/{organization_id_or_slug}/events/',
};

/**
 * `per_page` is Sentry's generic page-size parameter, honoured by every paginated endpoint though the spec only
 * lists it for some.
 */
const GENERIC_PARAMS = new Set(['per_page']);

const MODES: SimMode[] = ['sentry.io', 'self-hosted'];
const sims = new Map<SimMode, SentrySimulator>();
let projects: Array<{ id: string; slug: string; environments?: string[] }>;
before(async () => {
  for (const mode of MODES) {
    sims.set(mode, await startSimulator({ mode, projects: 6, environmentsPerProject: 3, rateLimit: false }));
  }
  projects = (
    await getAll<{ id: string; slug: string; environments: string[] }>(
      simFor('sentry.io'),
      'organizations/acme/projects/',
    )
  ).items;
});
after(() => Promise.all([...sims.values()].map((s) => s.close())));

function simFor(mode: SimMode): SentrySimulator {
  const sim = sims.get(mode);
  assert.ok(sim, `a simulator runs in ${mode} mode`);
  return sim;
}

/**
 * Validates an answer against the spec; the errors left after removing the documented deviations of this
 * endpoint and mode must be none. Returns the deviations that did apply.
 */
function assertValid(endpoint: string, mode: SimMode, body: unknown, label: string): Set<string> {
  const validate = responseValidator(SPEC_PATHS[endpoint] ?? '', 'get');
  const applied = new Set<string>();
  if (validate(body)) return applied;
  const left = (validate.errors ?? []).filter((e) => {
    const d = RESPONSE_DEVIATIONS.find(
      (x) =>
        x.endpoint === endpoint &&
        (x.mode === undefined || x.mode === mode) &&
        x.keyword === e.keyword &&
        x.instancePath.test(e.instancePath) &&
        (x.missingProperty === undefined ||
          (e.params as { missingProperty?: string }).missingProperty === x.missingProperty),
    );
    if (d) applied.add(d.what);
    return d === undefined;
  });
  assert.deepEqual(
    left.map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`),
    [],
    `${mode} ${label}: not a documented deviation`,
  );
  return applied;
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
  // a deviation of one endpoint does not excuse another endpoint or mode
  assert.throws(() => assertValid('/organizations/{org}/issues/', 'sentry.io', {}, 'not a list'));
  assert.throws(() =>
    assertValid(
      '/organizations/{org}/stats_v2/',
      'self-hosted',
      { start: 'x', end: 'y', groups: [] },
      'no intervals',
    ),
  );
});

for (const mode of MODES) {
  test(`${mode}: project, environment and key listings validate against the spec`, async () => {
    const sim = simFor(mode);
    const projectList = (await get(sim, 'organizations/acme/projects/')).json;
    const applied = assertValid('/organizations/{org}/projects/', mode, projectList, 'projects');
    assert.equal(applied.size, mode === 'self-hosted' ? 1 : 0, [...applied].join('; '));
    for (const p of projects) {
      for (const visibility of ['visible', 'all']) {
        const envs = (await get(sim, `projects/acme/${p.slug}/environments/`, { visibility })).json;
        assertValid('/projects/{org}/{project}/environments/', mode, envs, `${p.slug} environments`);
      }
      const keys = (await get(sim, `projects/acme/${p.slug}/keys/`)).json;
      assertValid('/projects/{org}/{project}/keys/', mode, keys, `${p.slug} keys`);
    }
    const orgKeys = await get(sim, 'organizations/acme/project-keys/');
    if (mode === 'self-hosted') assert.equal(orgKeys.status, 404, 'older releases have no such route');
    else assertValid('/organizations/{org}/project-keys/', mode, orgKeys.json, 'project-keys');
  });

  test(`${mode}: issue listings validate against the spec, across filters and stats periods`, async () => {
    const sim = simFor(mode);
    const withEnv = projects.find((p) => (p.environments ?? []).length > 0);
    assert.ok(withEnv, 'some project has environments');
    const queries: Query[] = [
      {},
      { query: '', statsPeriod: '30d', limit: 100 },
      { project: withEnv.id, environment: withEnv.environments?.[0] ?? '', query: 'is:unresolved age:-24h' },
      { query: 'is:ignored', groupStatsPeriod: '14d', sort: 'new' },
      { query: 'is:resolved', groupStatsPeriod: '', sort: 'freq' },
    ];
    let validated = 0;
    for (const query of queries) {
      const reply = await get(sim, 'organizations/acme/issues/', query);
      assert.equal(reply.status, 200, JSON.stringify(query));
      assert.ok(Array.isArray(reply.json) && reply.json.length > 0, JSON.stringify(query));
      assertValid('/organizations/{org}/issues/', mode, reply.json, JSON.stringify(query));
      validated += (reply.json as unknown[]).length;
    }
    assert.ok(validated > 100, `more than 100 items validated against the spec (${validated})`);
  });

  test(`${mode}: stats_v2 answers validate against the spec but for the documented deviations`, async () => {
    const sim = simFor(mode);
    for (const groupBy of [['project', 'outcome'], ['outcome', 'category', 'reason'], ['outcome']]) {
      const reply = await get(sim, 'organizations/acme/stats_v2/', {
        field: 'sum(quantity)',
        groupBy,
        category: 'error',
        statsPeriod: '14d',
        interval: '1d',
      });
      assert.equal(reply.status, 200);
      const applied = assertValid('/organizations/{org}/stats_v2/', mode, reply.json, groupBy.join(','));
      // sentry.io grouped by project: no intervals and no series, exactly the two documented deviations
      const expected = mode === 'sentry.io' && groupBy.includes('project') ? 2 : 0;
      assert.equal(applied.size, expected, `${groupBy.join(',')}: ${[...applied].join('; ')}`);
    }
  });
}

for (const mode of MODES) {
  test(`${mode}: cron monitor listings validate against the spec but for the documented deviations`, async () => {
    const sim = await startSimulator({
      mode,
      projects: 6,
      environmentsPerProject: 3,
      monitors: 40,
      rateLimit: false,
    });
    try {
      const { items } = await getAll(sim, 'organizations/acme/monitors/', { per_page: 25 });
      assert.equal(items.length, 38, 'two of the 40 are pending deletion');
      const applied = assertValid('/organizations/{org}/monitors/', mode, items, 'monitors');
      // environments as an array, no isUpserting, config without timezone or alert_rule_id, and the owner:
      // null (sentry.io) or absent (older self-hosted releases)
      assert.equal(applied.size, 5, [...applied].join('; '));
    } finally {
      await sim.close();
    }
  });
}

for (const mode of MODES) {
  test(`${mode}: sessions answers validate against the spec, grouped and not, counts and rates`, async () => {
    const sim = simFor(mode);
    const day = { statsPeriod: '1d', interval: '1h' };
    const queries = [
      { ...day, field: 'sum(session)', groupBy: ['project', 'environment', 'session.status'] },
      {
        ...day,
        field: ['crash_free_rate(session)', 'crash_free_rate(user)'],
        groupBy: ['project', 'environment'],
      },
      { ...day, field: ['sum(session)', 'count_unique(user)'], groupBy: ['release'], per_page: 5 },
      { ...day, field: ['sum(session)', 'crash_free_rate(user)'] },
    ];
    for (const query of queries) {
      const reply = await get(sim, 'organizations/acme/sessions/', query);
      assert.equal(reply.status, 200, JSON.stringify(query));
      const applied = assertValid('/organizations/{org}/sessions/', mode, reply.json, JSON.stringify(query));
      assert.equal(applied.size, 0);
    }
  });
}

for (const mode of MODES) {
  test(`${mode}: events tables validate against the spec, from each dataset the release answers`, async () => {
    const sim = simFor(mode);
    const common = {
      statsPeriod: '1h',
      project: -1,
      sort: ['-count()', 'project', 'transaction'],
      per_page: 20,
    };
    const queries: Query[] = [
      {
        ...common,
        dataset: 'spans',
        field: ['project', 'transaction', 'count()', 'epm()', 'failure_rate()', 'p95(span.duration)'],
        query: 'is_transaction:true',
        sampling: 'HIGHEST_ACCURACY',
        disableAggregateExtrapolation: 1,
      },
      {
        ...common,
        dataset: 'transactions',
        field: ['project', 'transaction', 'environment', 'count()', 'p50(transaction.duration)'],
      },
      {
        ...common,
        field: ['project', 'transaction', 'count()', 'failure_rate()'],
        query: 'event.type:transaction',
      },
    ];
    let answered = 0;
    for (const query of queries) {
      const reply = await get(sim, 'organizations/acme/events/', query);
      // the self-hosted release modelled knows no spans dataset (deviations.ts: the 400 is Sentry's)
      if (mode === 'self-hosted' && query.dataset === 'spans') {
        assert.equal(reply.status, 400);
        continue;
      }
      assert.equal(reply.status, 200, reply.text);
      assert.ok(((reply.json as { data: unknown[] }).data ?? []).length > 0, 'the answer has rows');
      const applied = assertValid('/organizations/{org}/events/', mode, reply.json, JSON.stringify(query));
      assert.equal(applied.size, 0);
      answered++;
    }
    assert.equal(answered, mode === 'sentry.io' ? 3 : 2);
  });
}

plainTest('every documented deviation names its source and a test that exists and pins it', () => {
  for (const d of [
    ...RESPONSE_DEVIATIONS,
    ...QUERY_DEVIATIONS,
    ...UNDOCUMENTED_ENDPOINTS,
    ...BEHAVIOUR_DEVIATIONS,
  ]) {
    assert.match(d.source, /src\/sentry\//, `${d.endpoint}: ${d.what}`);
    const m = /^(test\/.+\.test\.ts): (.+)$/.exec(d.pinnedBy);
    assert.ok(m, `${d.endpoint}: ${d.what}: pinnedBy is "file: test name"`);
    const file = readFileSync(new URL(`../../${m[1]}`, import.meta.url), 'utf8');
    assert.ok(file.includes(m[2]!), `${d.pinnedBy}: no such test`);
  }
});

test('every query parameter the simulator interprets is declared by the spec', () => {
  for (const [template, params] of Object.entries(ACCEPTED_QUERY_PARAMS)) {
    const specPath = SPEC_PATHS[template];
    if (!specPath) continue; // current-release: not in the spec
    const declared = declaredQueryParams(specPath, 'get');
    for (const param of params) {
      assert.ok(
        declared.has(param) ||
          GENERIC_PARAMS.has(param) ||
          QUERY_DEVIATIONS.some((d) => d.endpoint === template && d.param === param),
        `${template} ?${param} is not in the spec`,
      );
    }
  }
  // And the ones an exporter relies on are in both.
  const issues = declaredQueryParams(SPEC_PATHS['/organizations/{org}/issues/'] ?? '', 'get');
  for (const p of ['project', 'environment', 'query', 'statsPeriod', 'sort', 'limit', 'cursor'])
    assert.ok(issues.has(p), p);
});
