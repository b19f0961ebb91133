/**
 * The simulator's release health endpoint against what Sentry's code does (docs/sentry-api.md Part 3 §1):
 * src/sentry/api/endpoints/organization_sessions.py (SessionsDataSeriesPaginator),
 * src/sentry/release_health/metrics_sessions_v2.py (run_sessions_query, Field, SimpleForwardingField),
 * src/sentry/snuba/sessions_v2.py (QueryDefinition, get_constrained_date_range) and
 * src/sentry/snuba/metrics/query.py (DeprecatingMetricsQuery: default limit and validate_limit).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { get, parseLink } from './helpers.js';
import type { Query } from './helpers.js';

interface Group {
  by: Record<string, string | number>;
  totals: Record<string, number | null>;
  series: Record<string, Array<number | null>>;
}
interface Answer {
  start: string;
  end: string;
  intervals: string[];
  groups: Group[];
  query: string;
}

let io: SentrySimulator;
let selfHosted: SentrySimulator;
before(async () => {
  io = await startSimulator({ seed: 7, projects: 20, environmentsPerProject: 3, rateLimit: false });
  selfHosted = await startSimulator({
    mode: 'self-hosted',
    seed: 7,
    projects: 20,
    environmentsPerProject: 3,
  });
});
after(() => Promise.all([io.close(), selfHosted.close()]));

const PATH = 'organizations/acme/sessions/';

async function sessions(sim: SentrySimulator, query: Query) {
  const reply = await get(sim, PATH, query);
  return { ...reply, answer: reply.json as Answer, detail: (reply.json as { detail?: string }).detail };
}

const day = { statsPeriod: '1d', interval: '1d' };

test('sessions: by.project is an integer id; every status of a group is there, zero-filled (five on sentry.io, four on older self-hosted)', async () => {
  // metrics_sessions_v2.py: GroupKey.to_output_dict (project id), Field.ensure_status_groups, SessionStatus
  // (the newest has `unhandled`; older releases had four statuses).
  for (const [sim, statuses] of [
    [io, ['abnormal', 'crashed', 'errored', 'healthy', 'unhandled']],
    [selfHosted, ['abnormal', 'crashed', 'errored', 'healthy']],
  ] as const) {
    const { status, answer } = await sessions(sim, {
      ...day,
      field: 'sum(session)',
      groupBy: ['project', 'environment', 'session.status'],
    });
    assert.equal(status, 200);
    const byGroup = new Map<string, string[]>();
    let zeros = 0;
    for (const g of answer.groups) {
      assert.equal(typeof g.by.project, 'number');
      const key = `${g.by.project}/${g.by.environment}`;
      byGroup.set(key, [...(byGroup.get(key) ?? []), String(g.by['session.status'])]);
      if (g.totals['sum(session)'] === 0) zeros++;
      assert.equal(g.series['sum(session)']?.length, answer.intervals.length);
    }
    assert.ok(byGroup.size > 10, `more than 10 groups (got ${byGroup.size})`);
    for (const list of byGroup.values()) assert.deepEqual(list, statuses);
    assert.ok(zeros > 0, 'statuses without sessions are there with 0');
  }
});

test('sessions: rate fields cannot be grouped or filtered by session.status (400 naming the field)', async () => {
  // metrics_sessions_v2.py SimpleForwardingField.__init__; tests test_crash_rate, test_anr_rate.
  const grouped = await sessions(io, {
    ...day,
    field: ['sum(session)', 'crash_free_rate(session)'],
    groupBy: ['project', 'session.status'],
  });
  assert.equal(grouped.status, 400);
  assert.equal(grouped.detail, 'Cannot group field crash_free_rate(session) by session.status');
  const filtered = await sessions(io, {
    ...day,
    field: 'crash_free_rate(user)',
    query: 'session.status:crashed',
  });
  assert.equal(filtered.status, 400);
  assert.equal(filtered.detail, 'Cannot filter field crash_free_rate(user) by session.status');
  const ok = await sessions(io, {
    ...day,
    field: ['crash_free_rate(session)', 'crash_free_rate(user)'],
    groupBy: 'project',
  });
  assert.equal(ok.status, 200);
  for (const g of ok.answer.groups) {
    const rate = g.totals['crash_free_rate(session)'];
    assert.ok(
      rate !== null && rate !== undefined && rate >= 0 && rate <= 1,
      `crash_free_rate(session) is a number in [0, 1]: ${rate}`,
    );
  }
});

test("sessions: Sentry's 400 texts for fields, groupBy, intervals, dates and orderBy", async () => {
  const cases: Array<[Query, string]> = [
    // sessions_v2.py QueryDefinition; tests test_empty_request, test_unknown_field, test_unknown_groupby
    [{ ...day }, 'Request is missing a "field"'],
    [{ ...day, field: 'sum(sessions)' }, 'Invalid field: "sum(sessions)"'],
    [{ ...day, field: 'sum(session)', groupBy: 'user' }, 'Invalid groupBy: "user"'],
    // sessions_v2.py get_constrained_date_range (ten-second resolution in the newest QueryDefinition)
    [
      { field: 'sum(session)', statsPeriod: '1d', interval: '15s' },
      'The interval has to be a multiple of the minimum interval of ten seconds.',
    ],
    [
      { field: 'sum(session)', statsPeriod: '4d', interval: '2d' },
      'The interval has to be less than one day.',
    ],
    [
      { field: 'sum(session)', statsPeriod: '4d', interval: '5h' },
      'The interval should divide one day without a remainder.',
    ],
    [
      { field: 'sum(session)', interval: '1h' },
      'Your interval and date range would create too many results. Use a larger interval, or a smaller date range.',
    ],
    // api/utils.py get_date_range_from_params, wrapped by get_filter_params
    [
      { field: 'sum(session)', start: '2024-05-01T00:00:00Z', interval: '1d' },
      'Invalid date range: start and end are both required',
    ],
    [
      { field: 'sum(session)', start: '2024-05-02T00:00:00Z', end: '2024-05-01T00:00:00Z', interval: '1d' },
      'Invalid date range: start must be before end',
    ],
    // metrics_sessions_v2.py _parse_orderby; test test_orderby
    [
      { ...day, field: 'sum(session)', orderBy: ['sum(session)', '-sum(session)'] },
      'Cannot order by multiple fields',
    ],
    [
      { ...day, field: 'sum(session)', orderBy: 'count_unique(user)' },
      "'orderBy' must be one of the provided 'fields'",
    ],
    [
      { ...day, field: 'sum(session)', groupBy: 'session.status', orderBy: 'sum(session)' },
      "Cannot use 'orderBy' when grouping by sessions.status",
    ],
    // api/base.py get_per_page with max_per_page=SNUBA_LIMIT
    [{ ...day, field: 'sum(session)', per_page: 5001 }, 'Invalid per_page value. Cannot exceed 5000.'],
  ];
  for (const [query, detail] of cases) {
    const reply = await sessions(io, query);
    assert.equal(reply.status, 400, JSON.stringify(query));
    assert.equal(reply.detail, detail, JSON.stringify(query));
  }
  // An interval Sentry cannot parse is one hour (parse_stats_period gives None).
  const fallback = await sessions(io, { field: 'sum(session)', statsPeriod: '6h', interval: 'hourly' });
  assert.equal(fallback.status, 200);
  assert.equal(
    Date.parse(fallback.answer.intervals[1]!) - Date.parse(fallback.answer.intervals[0]!),
    3_600_000,
  );
});

test('sessions: start is floored and end ceiled to the interval, counted from the epoch', async () => {
  // snuba/metrics/utils.py to_intervals; test test_timeseries_interval (1d at 12:27 gives yesterday 00:00
  // to tomorrow 00:00, two intervals).
  const { answer } = await sessions(io, { field: 'sum(session)', ...day });
  const now = Date.now();
  const today = Math.floor(now / 86_400_000) * 86_400_000;
  assert.equal(answer.start, new Date(today - 86_400_000).toISOString().replace('.000', ''));
  assert.equal(answer.end, new Date(today + 86_400_000).toISOString().replace('.000', ''));
  assert.equal(answer.intervals.length, 2);
  assert.equal(answer.groups.length, 1);
  assert.deepEqual(answer.groups[0]!.by, {});
  const hourly = await sessions(io, {
    field: 'sum(session)',
    start: '2024-05-01T10:30:00Z',
    end: '2024-05-01T12:10:00Z',
    interval: '1h',
  });
  assert.deepEqual(hourly.answer.intervals, [
    '2024-05-01T10:00:00Z',
    '2024-05-01T11:00:00Z',
    '2024-05-01T12:00:00Z',
  ]);
  assert.equal(hourly.answer.end, '2024-05-01T13:00:00Z');
});

test('sessions: without data, one group without groupBy (0 and null) and none with a groupBy', async () => {
  // metrics_sessions_v2.py run_sessions_query ("Generate default groups"); test test_groupby_no_data
  const none = await sessions(io, {
    ...day,
    field: ['sum(session)', 'crash_free_rate(session)'],
    query: 'release:"no-such@1.0"',
  });
  assert.deepEqual(none.answer.groups, [
    {
      by: {},
      totals: { 'sum(session)': 0, 'crash_free_rate(session)': null },
      series: { 'sum(session)': [0, 0], 'crash_free_rate(session)': [null, null] },
    },
  ]);
  const grouped = await sessions(io, {
    ...day,
    field: 'sum(session)',
    groupBy: 'project',
    query: 'release:"no-such@1.0"',
  });
  assert.deepEqual(grouped.answer.groups, []);
});

test('sessions: without per_page the groups beyond ⌊10,000 ÷ intervals⌋ are dropped without a word', async () => {
  // metrics/query.py get_default_limit (MAX_POINTS // intervals_len); the paginator only announces more
  // pages at 5,001 groups; test test_snuba_limit_exceeded.
  const all = await sessions(io, {
    statsPeriod: '30d',
    interval: '1d',
    field: 'sum(session)',
    groupBy: ['project', 'environment'],
  });
  assert.ok(all.answer.groups.length > 13, `${all.answer.groups.length} groups in all`);
  io.resetCounters();
  const cut = await sessions(io, {
    statsPeriod: '30d',
    interval: '1h',
    field: 'sum(session)',
    groupBy: ['project', 'environment'],
  });
  assert.equal(io.counters().sessionsCut, 1, 'the simulator counts the answers it cut (tests only)');
  assert.equal(cut.status, 200);
  assert.equal(cut.answer.intervals.length, 721);
  assert.equal(cut.answer.groups.length, Math.floor(10_000 / 721));
  assert.equal(parseLink(cut.headers.get('link')).find((e) => e.rel === 'next')?.results, false);
  // the biggest groups (ordered by sum(session), descending) are the ones kept
  const sums = cut.answer.groups.map((g) => g.totals['sum(session)'] ?? 0);
  assert.deepEqual(
    sums,
    [...sums].sort((a, b) => b - a),
  );
});

test('sessions: grouped by session.status the limit counts metric groups and the paginator never sees a next page', async () => {
  // organization_sessions.py SessionsDataSeriesPaginator: has_more = len(groups) == limit + 1, where groups
  // are output groups (one per status) but the metrics query was limited to per_page + 1 metric groups.
  const reply = await sessions(io, {
    ...day,
    field: 'sum(session)',
    groupBy: ['project', 'environment', 'session.status'],
    per_page: 3,
  });
  assert.equal(reply.status, 200);
  const metricGroups = new Set(reply.answer.groups.map((g) => `${g.by.project}/${g.by.environment}`));
  assert.equal(metricGroups.size, 4, 'per_page + 1 metric groups');
  assert.equal(reply.answer.groups.length, 20, 'five statuses each');
  assert.equal(parseLink(reply.headers.get('link')).find((e) => e.rel === 'next')?.results, false);
});

test('sessions: without session.status, per_page pages through Link cursors (cursor is not in the spec)', async () => {
  // SessionsDataSeriesPaginator (GenericOffsetPaginator cursors); test test_pagination.
  const query = { ...day, field: 'sum(session)', groupBy: ['project', 'environment'] };
  const whole = (await sessions(io, query)).answer.groups;
  const seen: Group[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const reply = await sessions(io, { ...query, per_page: 7, ...(cursor === undefined ? {} : { cursor }) });
    assert.equal(reply.status, 200);
    seen.push(...reply.answer.groups);
    pages++;
    const next = parseLink(reply.headers.get('link')).find((e) => e.rel === 'next');
    cursor = next?.results ? next.cursor : undefined;
  } while (cursor !== undefined);
  assert.equal(pages, Math.ceil(whole.length / 7));
  assert.deepEqual(
    seen.map((g) => JSON.stringify(g.by)).sort(),
    whole.map((g) => JSON.stringify(g.by)).sort(),
  );
});

test('sessions: (per_page + 1) × intervals above 10,000 is a 400', async () => {
  // metrics/query.py DeprecatingMetricsQuery.validate_limit
  const reply = await sessions(io, {
    statsPeriod: '30d',
    interval: '1h',
    field: 'sum(session)',
    groupBy: 'project',
    per_page: 14,
  });
  assert.equal(reply.status, 400);
  assert.equal(
    reply.detail,
    'Requested intervals (721) of timedelta of 1:00:00 with statsPeriod timedelta of 30 days, 1:00:00 is too granular for a per_page of 15 elements. Increase your interval, decrease your statsPeriod, or decrease your per_page parameter.',
  );
  const fits = await sessions(io, {
    statsPeriod: '30d',
    interval: '1h',
    field: 'sum(session)',
    groupBy: 'project',
    per_page: 12,
  });
  assert.equal(fits.status, 200);
});

test('sessions: crash-free rates are 1 − crashed ÷ sessions and 1 − crashed users ÷ users, null without users', async () => {
  // release_health/metrics_sessions_v2.py SimpleForwardingField; snuba/metrics/fields/base.py
  // CRASH_FREE_RATE = complement(CRASH_RATE), CRASH_RATE = division_float(CRASHED, ALL).
  const counts = await sessions(io, {
    ...day,
    field: ['sum(session)', 'count_unique(user)'],
    groupBy: ['project', 'session.status'],
  });
  const rates = await sessions(io, {
    ...day,
    field: ['crash_free_rate(session)', 'crash_free_rate(user)', 'sum(session)', 'count_unique(user)'],
    groupBy: 'project',
  });
  let withoutUsers = 0;
  for (const g of rates.answer.groups) {
    const ofProject = counts.answer.groups.filter((c) => c.by.project === g.by.project);
    const total = ofProject.reduce((s, c) => s + (c.totals['sum(session)'] ?? 0), 0);
    const crashed = ofProject.find((c) => c.by['session.status'] === 'crashed')?.totals['sum(session)'] ?? 0;
    assert.equal(total, g.totals['sum(session)']);
    assert.equal(g.totals['crash_free_rate(session)'], 1 - crashed / total);
    if (g.totals['count_unique(user)'] === 0) {
      assert.equal(g.totals['crash_free_rate(user)'], null);
      withoutUsers++;
    }
  }
  assert.ok(withoutUsers > 0, 'some projects send sessions without users');
});
