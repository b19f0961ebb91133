/**
 * The simulator's events endpoint against what Sentry's code does (docs/sentry-api.md, Part 4): the dataset
 * each modelled release knows and its 400, meta with fields, units and the dataset used, sort rules in the
 * words of each path, pages of at most 100 with Link cursors, the empty 404 without the performance
 * features, the window of a `statsPeriod` over an hour, and what extrapolation does to counts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import type { EventsRelease, SentrySimulator } from '../../sim/index.js';
import { quantizeTime } from '../../sim/events.js';
import { FIRST_FAILURE_STATUS, SPAN_STATUSES, quantile } from '../../sim/spans.js';
import { get, parseLink } from './helpers.js';
import type { Query } from './helpers.js';

const NOW = Date.parse('2026-03-02T10:17:42.250Z');
const sims = new Map<EventsRelease, SentrySimulator>();
before(async () => {
  for (const release of ['current', 'spans-without-eap', 'before-spans', 'before-transactions'] as const) {
    sims.set(
      release,
      await startSimulator({
        seed: 7,
        projects: 8,
        rateLimit: false,
        now: () => NOW,
        eventsRelease: release,
      }),
    );
  }
});
after(() => Promise.all([...sims.values()].map((s) => s.close())));

function sim(release: EventsRelease): SentrySimulator {
  const s = sims.get(release);
  assert.ok(s, 'found');
  return s;
}

const SPANS: Query = {
  dataset: 'spans',
  field: ['project', 'transaction', 'count()', 'epm()', 'failure_rate()', 'p95(span.duration)'],
  query: 'is_transaction:true',
  statsPeriod: '15m',
  project: -1,
  sort: ['-count()', 'project', 'transaction'],
  disableAggregateExtrapolation: 1,
};
const TRANSACTIONS: Query = {
  ...SPANS,
  dataset: 'transactions',
  field: ['project', 'transaction', 'count()', 'epm()', 'failure_rate()', 'p95(transaction.duration)'],
  query: '',
};

interface Table {
  data: Array<Record<string, unknown>>;
  meta: Record<string, unknown>;
  confidence?: unknown;
}

async function table(release: EventsRelease, query: Query): Promise<Table> {
  const reply = await get(sim(release), 'organizations/acme/events/', query);
  assert.equal(reply.status, 200, reply.text);
  return reply.json as Table;
}

async function refusal(release: EventsRelease, query: Query): Promise<{ status: number; detail: unknown }> {
  const reply = await get(sim(release), 'organizations/acme/events/', query);
  return { status: reply.status, detail: (reply.json as { detail?: unknown } | undefined)?.detail };
}

test('events: each release knows its datasets; an unknown one is a 400 naming DATASET_OPTIONS in order', async () => {
  // src/sentry/api/bases/organization_events.py get_dataset; src/sentry/snuba/utils.py DATASET_OPTIONS
  const older =
    'discover, errors, metricsEnhanced, metrics, profiles, issuePlatform, profileFunctions, spansIndexed, spansMetrics';
  assert.deepEqual(await refusal('before-spans', SPANS), {
    status: 400,
    detail: `dataset must be one of: ${older}, transactions`,
  });
  assert.deepEqual(await refusal('before-transactions', TRANSACTIONS), {
    status: 400,
    detail: `dataset must be one of: ${older}`,
  });
  assert.deepEqual(await refusal('current', { ...SPANS, dataset: 'span' }), {
    status: 400,
    detail:
      'dataset must be one of: discover, errors, metricsEnhanced, metrics, ourlogs, logs, uptimeChecks, uptime_results, profiles, issuePlatform, profileFunctions, spans, spansIndexed, spansMetrics, transactions',
  });
  // No dataset parameter is discover, on every release.
  for (const release of ['current', 'before-spans', 'before-transactions'] as const) {
    const { dataset: _, ...discover } = TRANSACTIONS;
    const answer = await table(release, { ...discover, query: 'event.type:transaction' });
    assert.equal(answer.meta.dataset, 'discover');
    assert.ok(answer.data.length > 0, 'the answer has rows');
  }
});

test('events: meta names fields, units and the dataset used; spans rows carry a confidence', async () => {
  const spans = await table('current', SPANS);
  assert.deepEqual(spans.meta.fields, {
    project: 'string',
    transaction: 'string',
    'count()': 'integer',
    'epm()': 'rate',
    'failure_rate()': 'percentage',
    'p95(span.duration)': 'duration',
  });
  assert.deepEqual(spans.meta.units, {
    project: null,
    transaction: null,
    'count()': null,
    'epm()': '1/minute',
    'failure_rate()': null,
    'p95(span.duration)': 'millisecond',
  });
  assert.equal(spans.meta.dataset, 'spans');
  assert.equal(spans.meta.datasetReason, 'unchanged');
  assert.ok(
    Array.isArray(spans.confidence) && spans.confidence.length === spans.data.length,
    'one confidence per row',
  );
  assert.deepEqual(Object.keys(spans.data[0] ?? {}), SPANS.field);

  const transactions = await table('before-spans', TRANSACTIONS);
  assert.equal(transactions.meta.dataset, 'transactions');
  assert.equal(
    (transactions.meta.units as Record<string, unknown>)['p95(transaction.duration)'],
    'millisecond',
  );
  assert.equal(transactions.confidence, undefined, 'SnQL answers have no confidence');
});

test('events: a release that knows spans but stores none answers it empty, with its meta', async () => {
  const spans = await table('spans-without-eap', SPANS);
  assert.deepEqual(spans.data, []);
  assert.equal(spans.meta.dataset, 'spans');
  assert.ok((await table('spans-without-eap', TRANSACTIONS)).data.length > 0, 'transactions answer rows');
});

test('events: sort fields must be selected, in the words of each path', async () => {
  // SnQL: src/sentry/search/events/builder/base.py resolve_orderby
  assert.deepEqual(await refusal('current', { ...TRANSACTIONS, sort: '-p99(transaction.duration)' }), {
    status: 400,
    detail: 'Cannot sort by a field that is not selected.',
  });
  // RPC: src/sentry/snuba/rpc_dataset_common.py get_table_rpc_request; function aliases are accepted
  assert.deepEqual(await refusal('current', { ...SPANS, sort: 'environment' }), {
    status: 400,
    detail: 'orderby must also be in the selected columns or groupby',
  });
  const byAlias = await table('current', { ...SPANS, sort: ['-count', 'project', 'transaction'] });
  const byField = await table('current', SPANS);
  assert.deepEqual(byAlias.data, byField.data);
  const counts = byField.data.map((r) => r['count()'] as number);
  assert.deepEqual(
    counts,
    [...counts].sort((a, b) => b - a),
  );
});

test('events: offset pages of at most 100, Link cursors 0:<offset>:<is_prev>, every row once', async () => {
  const all = await table('current', { ...SPANS, statsPeriod: '1h' });
  assert.ok(all.data.length > 25, `${all.data.length} rows`);
  const rows: unknown[] = [];
  let cursor: string | undefined;
  const cursors: string[] = [];
  for (;;) {
    const reply = await get(sim('current'), 'organizations/acme/events/', {
      ...SPANS,
      statsPeriod: '1h',
      per_page: 10,
      ...(cursor === undefined ? {} : { cursor }),
    });
    rows.push(...(reply.json as Table).data);
    const next = parseLink(reply.headers.get('link')).find((l) => l.rel === 'next');
    assert.ok(next, 'a next link');
    if (!next.results) break;
    cursor = next.cursor;
    cursors.push(cursor);
  }
  assert.deepEqual(rows, all.data);
  assert.deepEqual(cursors.slice(0, 2), ['0:10:0', '0:20:0']);
  // per_page outside 1..100: src/sentry/utils/pagination_factory.py clamp_pagination_per_page
  assert.deepEqual(await refusal('current', { ...SPANS, per_page: 101 }), {
    status: 400,
    detail: 'Invalid per_page value. Must be between 1 and 100.',
  });
});

test('events: without Discover or Performance the answer is a 404 with no body', async () => {
  const s = await startSimulator({ seed: 7, projects: 2, rateLimit: false, performanceView: false });
  try {
    const reply = await get(s, 'organizations/acme/events/', SPANS);
    assert.equal(reply.status, 404);
    assert.equal(reply.text, '');
  } finally {
    await s.close();
  }
});

test('events: limits and refusals of the request itself', async () => {
  const fields = Array.from({ length: 21 }, (_, i) => `p${i}`);
  assert.deepEqual(await refusal('current', { ...SPANS, field: fields }), {
    status: 400,
    detail: 'You can view up to 20 fields at a time. Please delete some and try again.',
  });
  assert.deepEqual(await refusal('current', { ...SPANS, sampling: 'BEST_EFFORT' }), {
    status: 400,
    detail: 'sampling mode: BEST_EFFORT is not supported',
  });
  assert.deepEqual(await refusal('current', { ...SPANS, project: 'checkout-api' }), {
    status: 400,
    detail: 'Invalid project parameter. Values must be numbers.',
  });
  assert.deepEqual(await refusal('current', { ...SPANS, field: ['transaction', 'p95_duration()'] }), {
    status: 400,
    detail: 'p95_duration is not a valid function',
  });
  assert.equal((await refusal('current', { ...SPANS, environment: 'nowhere' })).status, 404);
  const single = await startSimulator({ seed: 7, projects: 3, rateLimit: false, multiProjectStream: false });
  try {
    const reply = await get(single, 'organizations/acme/events/', SPANS);
    assert.equal(reply.status, 400);
    assert.deepEqual(reply.json, { detail: 'You cannot view events from multiple projects.' });
  } finally {
    await single.close();
  }
});

test('events: spans counts are extrapolated by sampling weight unless disableAggregateExtrapolation=1', async () => {
  const { disableAggregateExtrapolation: _, ...extrapolated } = SPANS;
  const plain = await table('current', { ...SPANS, statsPeriod: '6h' });
  const weighted = await table('current', { ...extrapolated, statsPeriod: '6h' });
  const key = (r: Record<string, unknown>) => `${String(r.project)}/${String(r.transaction)}`;
  const stored = new Map(plain.data.map((r) => [key(r), r['count()'] as number]));
  let larger = 0;
  for (const r of weighted.data) {
    const count = r['count()'] as number;
    const s = stored.get(key(r));
    assert.ok(s !== undefined && count >= s, `${count} at least the stored ${String(s)}`);
    // weights are 1 ÷ a sample rate of 1, 0.5, 0.25 or 0.1 per project
    assert.ok([1, 2, 4, 10].includes(count / s), `${count} / ${s}`);
    if (count > s) larger++;
  }
  assert.ok(larger > 0, 'some project samples its transactions');
  // is_transaction:true keeps the segment spans: without it, child spans count too
  const { query: __, ...allSpans } = SPANS;
  const withChildren = await table('current', { ...allSpans, statsPeriod: '6h' });
  const total = (t: Table) => t.data.reduce((n, r) => n + (r['count()'] as number), 0);
  assert.ok(total(withChildren) > total(plain), 'child spans add to the total');
});

test('events: a statsPeriod over an hour covers whole minutes on the organization grid; epm counts per minute of it', async () => {
  // The example of quantize_time's docstring (src/sentry/utils/snuba.py): 17:02:00, key 30, 5 minutes.
  const at = Date.parse('2024-01-01T17:02:00Z');
  assert.equal(new Date(quantizeTime(at, 30, 300, false)).toISOString(), '2024-01-01T17:00:30.000Z');
  assert.equal(new Date(quantizeTime(at, 30, 300, true)).toISOString(), '2024-01-01T17:05:30.000Z');
  assert.equal(new Date(quantizeTime(at, 60, 300, false)).toISOString(), '2024-01-01T17:01:00.000Z');
  // The simulated organization's id 4504765715316736 ≡ 16 (mod 60): NOW = 10:17:42.25 becomes
  // [08:17:16, 10:18:16) for 2h, 7,260 s; for 15 minutes the window is exact: 900 s.
  for (const [period, seconds] of [
    ['2h', 7260],
    ['15m', 900],
  ] as const) {
    const answer = await table('current', { ...SPANS, statsPeriod: period });
    for (const r of answer.data) {
      const perMinute = (r['count()'] as number) / (seconds / 60);
      assert.ok(Math.abs((r['epm()'] as number) - perMinute) < 1e-12, `${period}: ${String(r['epm()'])}`);
    }
  }
});

test("ClickHouse's quantile on few values, worked by hand: linear between the two nearest ranks", () => {
  const values = [10, 20, 30, 40];
  assert.equal(quantile(values, 0.5), 25); // index 1.5
  assert.equal(quantile(values, 0.75), 32.5); // index 2.25
  assert.ok(Math.abs((quantile(values, 0.95) ?? 0) - 38.5) < 1e-12, 'interpolated at index 2.85');
  assert.equal(quantile([7], 0.99), 7);
  assert.equal(quantile([], 0.5), null);
});

test('failure statuses: every one but ok, cancelled and unknown (NON_FAILURE_STATUS)', () => {
  // src/sentry/search/events/constants.py NON_FAILURE_STATUS; src/sentry/search/eap/spans/formulas.py failure_rate
  assert.deepEqual(SPAN_STATUSES.slice(0, FIRST_FAILURE_STATUS), ['ok', 'cancelled', 'unknown']);
  assert.ok(
    SPAN_STATUSES.slice(FIRST_FAILURE_STATUS).includes('internal_error'),
    'internal_error is a failure',
  );
});
