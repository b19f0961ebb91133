import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { get, getAll } from './helpers.js';
import type { Query } from './helpers.js';

interface Project {
  id: string;
  slug: string;
  environments: string[];
}
interface Issue {
  id: string;
  count: string;
  userCount: number;
  status: string;
  level: string;
  logger: string | null;
  platform: string | null;
  isUnhandled: boolean;
  firstSeen: string;
  lastSeen: string;
  title: string;
  project: { id: string; slug: string };
}

let sim: SentrySimulator;
let projects: Project[];
before(async () => {
  sim = await startSimulator({
    projects: 8,
    environmentsPerProject: 3,
    issuesPerProject: 40,
    rateLimit: false,
  });
  projects = (await getAll<Project>(sim, 'organizations/acme/projects/')).items;
});
after(() => sim.close());

const WINDOWS = { h1: 'age:-1h', h24: 'firstSeen:-24h', d14: 'firstSeen:-14d' } as const;

test('per-environment window sums from the API equal the ground truth', async () => {
  const truth = sim.truth();
  let nonZero = 0;
  for (const row of truth.issueWindows) {
    const project = projects.find((p) => p.slug === row.project);
    assert.ok(project, row.project);
    for (const [field, filter] of Object.entries(WINDOWS) as Array<[keyof typeof WINDOWS, string]>) {
      const query: Record<string, string> = { project: project.id, query: `is:unresolved ${filter}` };
      if (row.environment !== 'None') query.environment = row.environment;
      const { items } = await getAll<Issue>(sim, 'organizations/acme/issues/', query);
      const sum = items.reduce((s, i) => s + Number(i.count), 0);
      assert.equal(sum, row[field], `${row.project}/${row.environment} ${field}`);
      if (sum > 0) nonZero++;
    }
  }
  assert.ok(nonZero > truth.issueWindows.length, 'the windows are mostly non-empty');
  const noEnv = truth.issueWindows.filter((r) => r.environment === 'None');
  assert.equal(noEnv.length, 1, 'exactly one project has no environments');
  const windows = truth.issueWindows.reduce(
    (acc, r) => ({ h1: acc.h1 + r.h1, h24: acc.h24 + r.h24, d14: acc.d14 + r.d14 }),
    { h1: 0, h24: 0, d14: 0 },
  );
  assert.ok(windows.h1 > 0 && windows.h1 < windows.h24 && windows.h24 < windows.d14, JSON.stringify(windows));
});

test('recent open issues from the API match the ground truth, including current releases', async () => {
  const truth = sim.truth();
  assert.ok(truth.openIssues.length >= 5, `only ${truth.openIssues.length} open issues`);
  const seen: typeof truth.openIssues = [];
  for (const project of projects) {
    const envs = project.environments.length > 0 ? project.environments : ['None'];
    for (const env of envs) {
      const query: Record<string, string> = { project: project.id, query: 'is:unresolved age:-1h' };
      if (env !== 'None') query.environment = env;
      const { items } = await getAll<Issue>(sim, 'organizations/acme/issues/', query);
      for (const issue of items) {
        const release = await get(
          sim,
          `issues/${issue.id}/current-release/`,
          env === 'None' ? {} : { environment: env },
        );
        assert.equal(release.status, 200);
        const current = (release.json as { currentRelease: { release: { version: string } } | null })
          .currentRelease;
        seen.push({
          issueId: issue.id,
          project: issue.project.slug,
          environment: env,
          count: Number(issue.count),
          logger: issue.logger,
          level: issue.level,
          status: issue.status,
          platform: issue.platform,
          release: current?.release.version ?? null,
          isUnhandled: issue.isUnhandled,
          firstSeen: issue.firstSeen,
          lastSeen: issue.lastSeen,
        });
      }
    }
  }
  const key = (i: { issueId: string; environment: string }) => `${i.issueId}/${i.environment}`;
  const sort = (list: typeof seen) => [...list].sort((a, b) => (key(a) < key(b) ? -1 : 1));
  assert.deepEqual(sort(seen), sort(truth.openIssues));
  assert.ok(
    seen.some((i) => i.release === null) || seen.length < 10,
    'some open issue has no release (or there are fewer than 10 open issues)',
  );
  assert.ok(
    seen.some((i) => i.release !== null),
    'some open issue has a release',
  );
});

test('without an environment, count is the total over all environments', async () => {
  const project = projects.find((p) => p.slug === 'checkout-api');
  assert.ok(project, 'the project checkout-api exists');
  const all = await getAll<Issue>(sim, 'organizations/acme/issues/', { project: project.id, query: '' });
  const perEnv = new Map<string, number>();
  for (const env of project.environments) {
    const { items } = await getAll<Issue>(sim, 'organizations/acme/issues/', {
      project: project.id,
      environment: env,
      query: '',
    });
    for (const i of items) perEnv.set(i.id, (perEnv.get(i.id) ?? 0) + Number(i.count));
  }
  assert.equal(perEnv.size, all.items.length);
  let multi = 0;
  for (const issue of all.items) {
    assert.equal(Number(issue.count), perEnv.get(issue.id), issue.id);
    assert.equal(typeof issue.count, 'string');
  }
  // Some issues have events in two environments; the union query sums both.
  const [a, b] = project.environments;
  assert.ok(a && b, 'checkout-api has two environments');
  const union = await getAll<Issue>(sim, 'organizations/acme/issues/', {
    project: project.id,
    environment: [a, b],
    query: '',
  });
  const inA = await getAll<Issue>(sim, 'organizations/acme/issues/', {
    project: project.id,
    environment: a,
    query: '',
  });
  const inB = await getAll<Issue>(sim, 'organizations/acme/issues/', {
    project: project.id,
    environment: b,
    query: '',
  });
  const ids = new Set([...inA.items, ...inB.items].map((i) => i.id));
  assert.equal(union.items.length, ids.size);
  for (const issue of union.items) {
    const ca = Number(inA.items.find((i) => i.id === issue.id)?.count ?? 0);
    const cb = Number(inB.items.find((i) => i.id === issue.id)?.count ?? 0);
    if (ca > 0 && cb > 0) multi++;
    assert.equal(Number(issue.count), ca + cb);
  }
  assert.ok(multi > 0, 'some issues have events in both environments');
});

test('status, project, level and text filters', async () => {
  const project = projects.find((p) => p.slug === 'web-frontend');
  assert.ok(project, 'the project web-frontend exists');
  for (const status of ['unresolved', 'resolved', 'ignored']) {
    const { items } = await getAll<Issue>(sim, 'organizations/acme/issues/', {
      project: project.id,
      query: `is:${status}`,
    });
    assert.ok(items.length > 0, status);
    assert.ok(
      items.every((i) => i.status === status && i.project.id === project.id),
      `status:${status} returns issues of that status and project only`,
    );
  }
  const defaults = await getAll<Issue>(sim, 'organizations/acme/issues/', { project: project.id });
  assert.ok(
    defaults.items.every((i) => i.status === 'unresolved'),
    'the default query is is:unresolved',
  );
  const errors = await getAll<Issue>(sim, 'organizations/acme/issues/', {
    project: project.id,
    query: 'is:unresolved level:error',
  });
  assert.ok(
    errors.items.length > 0 && errors.items.every((i) => i.level === 'error'),
    'level:error returns issues, all of level error',
  );
  const text = await getAll<Issue>(sim, 'organizations/acme/issues/', {
    project: project.id,
    query: 'TypeError',
  });
  assert.ok(
    text.items.every((i) => i.title.includes('TypeError')),
    'a text query returns only issues whose title contains it',
  );
  const twoProjects = await getAll<Issue>(sim, 'organizations/acme/issues/', {
    project: [projects[0]?.id ?? '', project.id],
    query: '',
  });
  assert.deepEqual(
    new Set(twoProjects.items.map((i) => i.project.id)),
    new Set([projects[0]?.id, project.id]),
  );
  const bad = await get(sim, 'organizations/acme/issues/', { query: 'age:-yesterday' });
  assert.equal(bad.status, 400);
  assert.equal((await get(sim, 'organizations/acme/issues/', { query: 'is:nonsense' })).status, 400);
  assert.equal((await get(sim, 'organizations/acme/issues/', { project: 'checkout-api' })).status, 400);
  assert.equal((await get(sim, 'organizations/acme/issues/', { project: '999' })).status, 403);
  assert.equal((await get(sim, 'organizations/acme/issues/', { environment: 'nowhere' })).status, 404);
});

test('statsPeriod limits results by lastSeen; sorts are stable and correct', async () => {
  const now = Date.now();
  const all = await getAll<Issue>(sim, 'organizations/acme/issues/', { query: '', statsPeriod: '30d' });
  const day = await getAll<Issue>(sim, 'organizations/acme/issues/', { query: '', statsPeriod: '24h' });
  assert.ok(
    day.items.length > 0 && day.items.length < all.items.length,
    `statsPeriod=24h returns some issues but fewer than 30d (${day.items.length} of ${all.items.length})`,
  );
  assert.ok(
    day.items.every((i) => now - Date.parse(i.lastSeen) <= 24 * 3600_000 + 60_000),
    'statsPeriod=24h returns only issues seen in the last 24 hours',
  );
  const defaults = await getAll<Issue>(sim, 'organizations/acme/issues/', { query: '' });
  assert.ok(
    defaults.items.every((i) => now - Date.parse(i.lastSeen) <= 14 * 86400_000 + 60_000),
    'the default statsPeriod returns only issues seen in the last 14 days',
  );
  assert.ok(defaults.items.length < all.items.length, 'the default statsPeriod is 14d');

  const isDescending = (values: number[]) => values.every((v, i) => i === 0 || (values[i - 1] ?? 0) >= v);
  // Sentry sorts by the first/last event time truncated to the second (executors.py aggregation_defs).
  const second = (iso: string) => Math.floor(Date.parse(iso) / 1000);
  const byDate = await getAll<Issue>(sim, 'organizations/acme/issues/', { query: '', sort: 'date' });
  assert.ok(
    isDescending(byDate.items.map((i) => second(i.lastSeen))),
    'sort=date orders by lastSeen, newest first',
  );
  const byNew = await getAll<Issue>(sim, 'organizations/acme/issues/', { query: '', sort: 'new' });
  assert.ok(
    isDescending(byNew.items.map((i) => second(i.firstSeen))),
    'sort=new orders by firstSeen, newest first',
  );
  const byFreq = await getAll<Issue>(sim, 'organizations/acme/issues/', {
    query: '',
    sort: 'freq',
    limit: 33,
  });
  assert.ok(
    isDescending(byFreq.items.map((i) => Number(i.count))),
    'sort=freq orders by count, largest first',
  );
  assert.equal(new Set(byFreq.items.map((i) => i.id)).size, defaults.items.length);
  assert.equal((await get(sim, 'organizations/acme/issues/', { sort: 'random' })).status, 400);
});

test('without the multi project stream feature, cross-project queries answer 400', async () => {
  const single = await startSimulator({ projects: 3, multiProjectStream: false, rateLimit: false });
  try {
    const ps = (await get(single, 'organizations/acme/projects/')).json as Project[];
    const detail = { detail: 'You do not have the multi project stream feature enabled' };
    const queries: Query[] = [{}, { project: -1 }, { project: [ps[0]?.id ?? '', ps[1]?.id ?? ''] }];
    for (const query of queries) {
      const reply = await get(single, 'organizations/acme/issues/', query);
      assert.equal(reply.status, 400, JSON.stringify(query));
      assert.deepEqual(reply.json, detail);
    }
    assert.equal((await get(single, 'organizations/acme/issues/', { project: ps[0]?.id ?? '' })).status, 200);
  } finally {
    await single.close();
  }
});

test('environments endpoint honours visibility; old servers omit environments from project summaries', async () => {
  const withHidden = projects.find((p) => p.slug === 'inventory-worker');
  assert.ok(withHidden, 'the project inventory-worker exists');
  const visible = (await get(sim, `projects/acme/${withHidden.slug}/environments/`)).json as Array<{
    name: string;
    isHidden: boolean;
  }>;
  assert.deepEqual(
    visible.map((e) => e.name),
    [...withHidden.environments].sort(),
    'all visible environments, ordered by name',
  );
  const hidden = (await get(sim, `projects/acme/${withHidden.slug}/environments/`, { visibility: 'hidden' }))
    .json as Array<{ name: string; isHidden: boolean }>;
  assert.ok(
    hidden.length === 1 && hidden[0]?.isHidden === true,
    'visibility=hidden lists the one hidden environment',
  );
  const all = (await get(sim, `projects/acme/${withHidden.id}/environments/`, { visibility: 'all' }))
    .json as unknown[];
  assert.equal(all.length, visible.length + 1);
  assert.equal(
    (await get(sim, `projects/acme/${withHidden.slug}/environments/`, { visibility: 'x' })).status,
    400,
  );

  const old = await startSimulator({ projects: 2, projectSummaryEnvironments: false });
  try {
    const ps = (await get(old, 'organizations/acme/projects/')).json as Array<Record<string, unknown>>;
    assert.ok(
      ps.length === 2 && ps.every((p) => !('environments' in p)),
      'an old server lists 2 projects without an environments key',
    );
  } finally {
    await old.close();
  }
});

test('current release: per environment, null without one, 404 for an unknown issue', async () => {
  const missing = await get(sim, 'issues/1/current-release/');
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json, { detail: 'The requested resource does not exist' });
  const project = projects.find((p) => p.slug === 'checkout-api');
  assert.ok(project, 'the project checkout-api exists');
  const { items } = await getAll<Issue>(sim, 'organizations/acme/issues/', {
    project: project.id,
    environment: project.environments[0] ?? '',
    query: '',
  });
  const versions = new Set<string | null>();
  for (const issue of items.slice(0, 30)) {
    const reply = await get(sim, `issues/${issue.id}/current-release/`, {
      environment: project.environments[0] ?? '',
    });
    const body = reply.json as {
      currentRelease: null | { release: { version: string }; environment: string };
    };
    versions.add(body.currentRelease?.release.version ?? null);
    if (body.currentRelease) {
      assert.equal(body.currentRelease.environment, project.environments[0]);
      assert.ok(
        body.currentRelease.release.version.startsWith(`${project.slug}@`),
        `the current release is one of ${project.slug}: ${body.currentRelease.release.version}`,
      );
    }
  }
  assert.ok(versions.has(null) && versions.size > 1, 'some issues have releases, some none');
  const elsewhere = await get(sim, `issues/${items[0]?.id}/current-release/`, { environment: 'no-such-env' });
  assert.deepEqual(elsewhere.json, { currentRelease: null });
});
