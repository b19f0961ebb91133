/**
 * The simulator's stats_v2 answers like Sentry's code (docs/sentry-api.md, Part 2): its checks and their
 * texts (src/sentry/snuba/outcomes.py QueryDefinition, CategoryDimension, OutcomeDimension;
 * src/sentry/snuba/sessions_v2.py get_constrained_date_range), error/default/security folded into `error`
 * and smart_rate_limit shown as spike_protection (_format_rows, ReasonDimension), and the silent 10,000-row
 * cut of run_outcomes_query_totals (Limit(10000), no ORDER BY).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { get } from './helpers.js';

interface Group {
  by: Record<string, string | number>;
  totals: Record<string, number>;
  series?: Record<string, number[]>;
}
interface Stats {
  start: string;
  end: string;
  intervals?: string[];
  groups: Group[];
}

/** Mid-month, so the month already has most of its outcome rows. */
const NOW = Date.parse('2026-06-20T10:30:00Z');
const MONTH = { start: '2026-06-01T00:00:00.000Z', end: new Date(NOW).toISOString(), interval: '1d' };
const ALL = ['project', 'category', 'outcome', 'reason'];

let io: SentrySimulator;
let selfHosted: SentrySimulator;
let ids: Map<number, string>;
before(async () => {
  io = await startSimulator({ projects: 12, rateLimit: false, now: () => NOW });
  selfHosted = await startSimulator({ mode: 'self-hosted', projects: 12, now: () => NOW });
  const projects = (await get(io, 'organizations/acme/projects/')).json as Array<{
    id: string;
    slug: string;
  }>;
  ids = new Map(projects.map((p) => [Number(p.id), p.slug]));
});
after(() => Promise.all([io.close(), selfHosted.close()]));

async function stats(sim: SentrySimulator, query: Record<string, string | string[]>): Promise<Stats> {
  const reply = await get(sim, 'organizations/acme/stats_v2/', { field: 'sum(quantity)', ...query });
  assert.equal(reply.status, 200, reply.text);
  return reply.json as Stats;
}

const key = (g: Group) => `${ids.get(Number(g.by.project))}/${g.by.category}/${g.by.outcome}/${g.by.reason}`;

for (const mode of ['sentry.io', 'self-hosted'] as const) {
  test(`${mode}: the month grouped by project, category, outcome and reason equals the ground truth`, async () => {
    const sim = mode === 'sentry.io' ? io : selfHosted;
    // No `project` and the last groupBy is `reason`: an organization-wide query (_is_org_total_query reads
    // the last groupBy value only), grouped by project all the same: the deleted project's rows come too.
    const answer = await stats(sim, { ...MONTH, groupBy: ALL });
    const listed = answer.groups.filter((g) => ids.has(Number(g.by.project)));
    const got = new Map(listed.map((g) => [key(g), g.totals['sum(quantity)']]));
    const truth = sim.truth().outcomes;
    assert.deepEqual(
      got,
      new Map(truth.map((t) => [`${t.project}/${t.category}/${t.outcome}/${t.reason}`, t.quantity])),
    );
    const deleted = answer.groups.filter((g) => !ids.has(Number(g.by.project)));
    assert.ok(deleted.length > 0, 'the deleted project has outcomes this month');
    assert.equal(new Set(deleted.map((g) => g.by.project)).size, 1, 'one deleted project');
    assert.equal('intervals' in answer, mode === 'self-hosted');
    const reported = new Set(truth.map((t) => t.category));
    for (const c of ['error', 'transaction', 'span', 'attachment', 'log_byte', 'profile_duration', 'monitor'])
      assert.ok(reported.has(c), c);
    assert.ok(!reported.has('default') && !reported.has('security'), 'folded into error');
    const outcomes = new Set(truth.map((t) => t.outcome));
    assert.deepEqual([...outcomes].sort(), [
      'abuse',
      'accepted',
      'cardinality_limited',
      'client_discard',
      'filtered',
      'invalid',
      'rate_limited',
    ]);
    const reasons = new Set(truth.map((t) => t.reason));
    for (const r of ['none', 'spike_protection', 'usage_exceeded', 'browser-extensions', 'sample_rate'])
      assert.ok(reasons.has(r), r);
    assert.ok(
      !reasons.has('smart_rate_limit'),
      'smart_rate_limit is never a reason: Sentry stores it and reports it as spike_protection',
    );
  });
}

test('category=error counts error, default and security, as the error groups of an answer by category do', async () => {
  const filtered = await stats(io, { ...MONTH, category: 'error', groupBy: ['project', 'outcome'] });
  const grouped = await stats(io, { ...MONTH, groupBy: ['project', 'category', 'outcome'] });
  const sum = (groups: Group[]) => groups.reduce((n, g) => n + (g.totals['sum(quantity)'] ?? 0), 0);
  assert.equal(sum(filtered.groups), sum(grouped.groups.filter((g) => g.by.category === 'error')));
  const only = (c: string) =>
    stats(io, { ...MONTH, category: c, groupBy: 'outcome' }).then((s) => sum(s.groups));
  const [error, def, security] = [await only('error'), await only('default'), await only('security')];
  assert.ok(
    def > 0 && security > 0,
    'the default and security categories each have outcomes this month (category=error counts them)',
  );
  assert.equal(error, sum(filtered.groups));
  assert.ok(error > def + security, 'error is error + default + security');
  // The reason filter takes Sentry's spelling: spike_protection means stored smart_rate_limit.
  const spikes = await stats(io, { ...MONTH, reason: 'spike_protection', groupBy: ['category', 'reason'] });
  assert.ok(
    spikes.groups.length > 0 && spikes.groups.every((g) => g.by.reason === 'spike_protection'),
    'reason=spike_protection returns groups, all with reason spike_protection',
  );
});

test('which projects a query counts: the whole organization without project (deleted projects too), member projects, accessible ones, named ones', async () => {
  const sum = (groups: Group[]) => groups.reduce((n, g) => n + (g.totals['sum(quantity)'] ?? 0), 0);
  const truth = io.truth();
  const listed = (await get(io, 'organizations/acme/projects/')).json as Array<{
    id: string;
    slug: string;
    isMember: boolean;
  }>;
  const members = listed.filter((p) => p.isMember);
  assert.ok(members.length > 0 && members.length < listed.length, 'some projects are not the user’s');
  const accepted = (projects?: readonly string[]) =>
    truth.outcomes
      .filter((o) => o.outcome === 'accepted' && o.category === 'error')
      .filter((o) => projects === undefined || projects.includes(o.project))
      .reduce((n, o) => n + o.quantity, 0);
  const orgAccepted = truth.organizationOutcomes
    .filter((o) => o.outcome === 'accepted' && o.category === 'error')
    .reduce((n, o) => n + o.quantity, 0);
  assert.ok(orgAccepted > accepted(), 'the deleted project sent errors this month');
  const q = { ...MONTH, category: 'error', outcome: 'accepted' };
  // test_user_org_total_all_accessible: no project (or exactly -1), no project grouping: every project.
  for (const project of [undefined, '-1']) {
    const whole = await stats(io, { ...q, ...(project === undefined ? {} : { project }) });
    assert.deepEqual(
      whole.groups.map((g) => g.by),
      [{}],
    );
    assert.equal(sum(whole.groups), orgAccepted, `project=${project ?? '(none)'}`);
    const byCategory = await stats(io, {
      ...MONTH,
      outcome: 'accepted',
      groupBy: ['category', 'outcome'],
      ...(project === undefined ? {} : { project }),
    });
    assert.equal(
      byCategory.groups.find((g) => g.by.category === 'error')?.totals['sum(quantity)'],
      orgAccepted,
    );
  }
  // Grouped by project without `project`: the member projects only (get_projects, filter_by_membership).
  const mine = await stats(io, { ...q, groupBy: 'project' });
  assert.deepEqual(mine.groups.map((g) => String(g.by.project)).sort(), members.map((p) => p.id).sort());
  assert.equal(sum(mine.groups), accepted(members.map((p) => p.slug)));
  // project=-1 grouped by project: every project the user can access (open membership: every active one).
  const all = await stats(io, { ...q, project: '-1', groupBy: 'project' });
  assert.equal(all.groups.length, listed.length);
  assert.equal(sum(all.groups), accepted());
  // A deleted project's id: 403, as for any project the caller cannot access.
  const deletedId = String(
    (await stats(io, { ...q, groupBy: ['project', 'outcome'] })).groups
      .map((g) => g.by.project)
      .find((id) => !ids.has(Number(id))),
  );
  const refused = await get(io, 'organizations/acme/stats_v2/', {
    field: 'sum(quantity)',
    ...q,
    project: deletedId,
  });
  assert.equal(refused.status, 403);
  assert.deepEqual(refused.json, { detail: 'You do not have permission to perform this action.' });
});

test("stats_v2 refuses what Sentry's code refuses, with its texts, and allows what it allows", async () => {
  const base = { field: 'sum(quantity)', statsPeriod: '1d', interval: '1d' };
  const cases: Array<[Record<string, string | string[]>, string]> = [
    [{ statsPeriod: '1d', category: 'error' }, 'At least one "field" is required.'],
    [{ ...base, field: 'count()', category: 'error' }, 'Invalid field: "count()"'],
    [{ ...base, groupBy: 'team' }, 'Invalid groupBy: "team"'],
    [{ ...base, groupBy: 'project' }, 'Query must have category as groupby or filter'],
    [
      { ...base, category: ['error', 'attachment'] },
      'if filtering by attachment no other category may be present',
    ],
    [{ ...base, category: 'scoobydoo' }, 'Invalid category: "scoobydoo"'],
    [{ ...base, category: 'error,transaction' }, 'Invalid category: "error,transaction"'],
    [{ ...base, category: 'error', outcome: 'scoobydoo' }, 'Invalid outcome: "scoobydoo"'],
    [
      { ...base, category: 'error', interval: '90s' },
      'The interval has to be a multiple of the minimum interval of one minute.',
    ],
    [{ ...base, category: 'error', interval: '2d' }, 'The interval has to be less than one day.'],
    [
      { ...base, category: 'error', interval: '7m' },
      'The interval should divide one day without a remainder.',
    ],
    [
      { ...base, category: 'error', statsPeriod: '90d', interval: '1h' },
      'Your interval and date range would create too many results. Use a larger interval, or a smaller date range.',
    ],
    [
      { field: 'sum(quantity)', category: 'error', start: '2026-06-01T00:00:00Z' },
      'start and end are both required',
    ],
    [{ ...base, category: 'error', statsPeriod: 'bananas' }, "Invalid statsPeriod: 'bananas'"],
  ];
  for (const [query, detail] of cases) {
    const reply = await get(io, 'organizations/acme/stats_v2/', query);
    assert.equal(reply.status, 400, JSON.stringify(query));
    assert.deepEqual(reply.json, { detail }, JSON.stringify(query));
  }
  // No groupBy (one group `by: {}`), a 30-minute interval, attachment alone, profile_duration with others,
  // an outcome in capitals: all allowed.
  const none = await stats(io, { ...base, category: 'error' });
  assert.equal(none.groups.length, 1);
  assert.deepEqual(none.groups[0]?.by, {});
  await stats(io, { ...base, category: 'error', interval: '30m' });
  await stats(io, { ...base, category: 'attachment', groupBy: 'outcome' });
  for (const category of ['span', 'log_byte', 'feedback', 'user_report_v2', 'trace_metric'])
    await stats(io, { ...base, category, groupBy: ['project', 'category', 'outcome', 'reason'] });
  await stats(io, { ...base, category: ['profile_duration', 'error'], groupBy: 'outcome' });
  await stats(io, { ...base, category: 'error', outcome: 'ACCEPTED' });
});

test('an answer over 10,000 rows is cut without a word, keeping arbitrary rows', async () => {
  const big = await startSimulator({
    projects: 1000,
    environmentsPerProject: 1,
    issuesPerProject: 1,
    rateLimit: false,
    now: () => NOW,
  });
  try {
    const truth = big.truth().outcomes;
    assert.ok(truth.length > 20_000, `${truth.length} rows this month`);
    const projects = (await get(big, 'organizations/acme/projects/', { per_page: 100 })).json as Array<{
      id: string;
      slug: string;
    }>;
    const query = { ...MONTH, groupBy: ALL, project: '-1' };
    const a = await stats(big, query);
    const b = await stats(big, query);
    for (const answer of [a, b]) {
      // 10,000 stored rows, fewer groups once error, default and security are folded together
      assert.ok(
        answer.groups.length <= 10_000 && answer.groups.length > 5_000,
        `${answer.groups.length} groups`,
      );
      const total = answer.groups.reduce((n, g) => n + (g.totals['sum(quantity)'] ?? 0), 0);
      assert.ok(total < truth.reduce((n, t) => n + t.quantity, 0), 'the totals are short');
    }
    const keys = (s: Stats) => s.groups.map((g) => JSON.stringify(g.by));
    assert.notDeepEqual(keys(a), keys(b), 'which rows survive, and their order, are arbitrary');
    // One page of projects asks less than the cap: complete.
    const page = await stats(big, {
      ...MONTH,
      groupBy: ALL,
      project: projects.slice(0, 50).map((p) => p.id),
    });
    const slugs = new Set(projects.slice(0, 50).map((p) => p.slug));
    assert.equal(page.groups.length, truth.filter((t) => slugs.has(t.project)).length);
  } finally {
    await big.close();
  }
});
