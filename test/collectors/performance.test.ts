/**
 * The performance collector: label values of transaction names and Sentry's statsPeriod worked by hand;
 * unit conversions and the choice of dataset against small scripted Sentry answers; then the whole exporter
 * against the simulator in its releases, every value of the busiest transactions compared with the ground
 * truth, the requests counted, and the exposition of a 10,000-character name checked by promtool.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, test } from 'node:test';
import type { ProjectInfo } from '../../src/collectors/collector.js';
import {
  DATASET_REPROBE_MS,
  PerformanceCollector,
  TRANSACTION_LABEL_MAX,
  statsPeriod,
  transactionLabel,
} from '../../src/collectors/performance.js';
import type { PerformanceOptions } from '../../src/collectors/performance.js';
import { renderFamilies } from '../../src/metrics/exposition.js';
import { SentryApiError } from '../../src/sentry/errors.js';
import { startSimulator } from '../../sim/index.js';
import type { SimOptions, TransactionTruth } from '../../sim/index.js';
import { runContext } from '../helpers/collect.js';
import { parseExposition, startExporterAgainst } from '../helpers/exporter.js';
import { PROMTOOL, testNeeding } from '../helpers/tools.js';
import {
  makeClient,
  rejection,
  sendJson,
  startServer,
  type Hit,
  type TestServer,
} from '../sentry/helpers.js';

const promtoolTest = testNeeding([PROMTOOL]);
const servers: TestServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

const NOW = Date.parse('2026-03-02T10:17:42.250Z');

test('a transaction name is its own label up to 200 characters; longer, it is cut with a hash of the whole', () => {
  assert.equal(TRANSACTION_LABEL_MAX, 200);
  const exact = `GET /${'a'.repeat(195)}`;
  assert.deepEqual(transactionLabel(exact), { value: exact, cut: false });
  // 201 characters: the first 183, "~", the first 16 hex digits of SHA-256("GET /aaa…a") = 20ccdb69899139ad
  const long = `GET /${'a'.repeat(196)}`;
  const cut = transactionLabel(long);
  assert.deepEqual(cut, { value: `GET /${'a'.repeat(178)}~20ccdb69899139ad`, cut: true });
  assert.equal(cut.value.length, 200);
  // 300 emoji are 600 UTF-16 units but 311 characters: cut at a character, never inside a surrogate pair
  const emoji = `GET /emoji/${'\u{1F680}'.repeat(300)}`;
  const e = transactionLabel(emoji);
  assert.equal(e.value, `GET /emoji/${'\u{1F680}'.repeat(172)}~35b9cf0142fe2d99`);
  assert.equal(Array.from(e.value).length, 200);
  // 150 emoji (311 units, 161 characters) stay whole
  assert.equal(transactionLabel(`GET /${'\u{1F680}'.repeat(150)}`).cut, false);
  // two names alike for their first 250 characters differ after the cut; the same name always gives the same
  const prefix = 'x'.repeat(250);
  const a = transactionLabel(`${prefix}orders`).value;
  const b = transactionLabel(`${prefix}refunds`).value;
  assert.notEqual(a, b);
  assert.equal(a.slice(0, 183), b.slice(0, 183));
  assert.equal(transactionLabel(`${prefix}orders`).value, a);
  // a lone surrogate (JSON allows one) becomes U+FFFD, which UTF-8 output would make of it anyway
  assert.deepEqual(transactionLabel('GET /\uD800x'), { value: 'GET /\uFFFDx', cut: false });
});

test("Sentry's statsPeriod of a window: the largest whole unit", () => {
  assert.equal(statsPeriod(900), '15m');
  assert.equal(statsPeriod(3600), '1h');
  assert.equal(statsPeriod(5400), '90m');
  assert.equal(statsPeriod(86_400), '1d');
  assert.equal(statsPeriod(90), '90s');
  assert.equal(statsPeriod(7200.4), '2h');
});

const PROJECTS: ProjectInfo[] = [
  { id: '1', slug: 'backend', environments: ['production'] },
  { id: '2', slug: 'frontend', environments: [] },
];

const OPTIONS: PerformanceOptions = {
  interval: 60,
  transactions: 50,
  window: 900,
  query: '',
  environments: [],
  restrictedSelection: false,
};

type Answer = { status: number; body: unknown } | ((hit: Hit) => { status: number; body: unknown });

/** A Sentry that answers the events endpoint per dataset asked (`discover` when none). */
async function eventsServer(answers: Partial<Record<string, Answer>>): Promise<TestServer> {
  const server = await startServer((_req, res, hit) => {
    const dataset = hit.query.get('dataset') ?? 'discover';
    const answer = answers[dataset];
    const a = typeof answer === 'function' ? answer(hit) : answer;
    if (a === undefined) return sendJson(res, 500, { detail: `no answer for ${dataset}` });
    if (a.body === undefined) {
      res.writeHead(a.status);
      res.end();
      return;
    }
    sendJson(res, a.status, a.body);
  });
  servers.push(server);
  return server;
}

function collectorFor(server: TestServer, over: Partial<PerformanceOptions> = {}) {
  const { client, log } = makeClient(server.baseUrl);
  const collector = new PerformanceCollector({ api: client, logger: log.logger }, { ...OPTIONS, ...over });
  return {
    collector,
    log,
    async run(now = NOW) {
      const rows = await collector.collect(runContext({ now, projects: PROJECTS }));
      return { rows, text: renderFamilies(collector.render(rows)) };
    },
    close: () => client.close(),
  };
}

/** Exposition rows keyed `name{labels}` for short comparisons. */
function values(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of parseExposition(text)) {
    const labels = Object.entries(r.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    out[`${r.name}{${labels}}`] = r.value;
  }
  return out;
}

const SPAN_FIELDS = ['p50(span.duration)', 'p75(span.duration)', 'p95(span.duration)', 'p99(span.duration)'];
const TX_FIELDS = [
  'p50(transaction.duration)',
  'p75(transaction.duration)',
  'p95(transaction.duration)',
  'p99(transaction.duration)',
];

function table(
  dataset: string | undefined,
  rows: Array<Record<string, unknown>>,
  meta: Record<string, unknown> = {},
): { status: number; body: unknown } {
  return { status: 200, body: { data: rows, meta: { ...(dataset ? { dataset } : {}), ...meta } } };
}

test('conversions worked by hand: milliseconds to seconds, per minute to per second, ratio as is', async () => {
  const server = await eventsServer({
    spans: table(
      'spans',
      [
        {
          project: 'backend',
          transaction: 'GET /orders',
          'count()': 120,
          'epm()': 8,
          'failure_rate()': 0.025,
          'p50(span.duration)': 1234.5,
          'p75(span.duration)': 2000,
          'p95(span.duration)': 12.25,
          'p99(span.duration)': null,
        },
      ],
      {
        fields: { 'p50(span.duration)': 'duration', 'epm()': 'rate' },
        units: {
          'count()': null,
          'epm()': '1/minute',
          'p50(span.duration)': 'millisecond',
          'p75(span.duration)': 'millisecond',
          'p95(span.duration)': 'millisecond',
          'p99(span.duration)': 'millisecond',
        },
      },
    ),
  });
  const c = collectorFor(server);
  try {
    const { text } = await c.run();
    const labels = 'project_slug=backend,transaction=GET /orders';
    assert.deepEqual(values(text), {
      [`sentry_transaction_duration_seconds{${labels},quantile=0.5}`]: 1.2345,
      [`sentry_transaction_duration_seconds{${labels},quantile=0.75}`]: 2,
      [`sentry_transaction_duration_seconds{${labels},quantile=0.95}`]: 0.01225,
      // p99 null: no series, never 0
      [`sentry_transaction_failure_ratio{${labels}}`]: 0.025,
      // 8 per minute = 0.1333… per second
      [`sentry_transaction_throughput_per_second{${labels}}`]: 8 / 60,
      [`sentry_transactions_in_window{${labels}}`]: 120,
      'sentry_transaction_names_truncated{}': 0,
    });
  } finally {
    await c.close();
  }
});

test('units from the answer, not assumed: meta.units, a field type that is a unit, a bare "duration"; none is an error', async () => {
  const row = (d: Record<string, unknown>) => ({
    project: 'backend',
    transaction: 't',
    'count()': 3,
    'epm()': 3,
    'failure_rate()': 0,
    ...Object.fromEntries(SPAN_FIELDS.map((f) => [f, 2])),
    ...d,
  });
  const cases: Array<[string, Record<string, unknown>, number, number]> = [
    // [what, meta, seconds of a duration of 2, per second of an epm() of 3]
    [
      'microseconds',
      { units: { ...Object.fromEntries(SPAN_FIELDS.map((f) => [f, 'microsecond'])), 'epm()': '1/minute' } },
      0.000002,
      0.05,
    ],
    [
      'seconds, per second',
      { units: { ...Object.fromEntries(SPAN_FIELDS.map((f) => [f, 'second'])), 'epm()': '1/second' } },
      2,
      3,
    ],
    // units {} and the field types naming the unit (a reading of the newest handle_unit_meta)
    [
      'types naming units',
      {
        units: {},
        fields: { ...Object.fromEntries(SPAN_FIELDS.map((f) => [f, 'minute'])), 'epm()': 'rate' },
      },
      120,
      0.05,
    ],
    // no units at all: "duration" is milliseconds (get_unit_and_type)
    [
      'bare duration',
      { fields: { ...Object.fromEntries(SPAN_FIELDS.map((f) => [f, 'duration'])), 'epm()': 'rate' } },
      0.002,
      0.05,
    ],
  ];
  for (const [what, meta, seconds, perSecond] of cases) {
    const server = await eventsServer({ spans: table('spans', [row({})], meta) });
    const c = collectorFor(server);
    try {
      const { rows } = await c.run();
      assert.deepEqual(rows.rows[0]?.seconds, [seconds, seconds, seconds, seconds], what);
      assert.equal(rows.rows[0]?.perSecond, perSecond, what);
    } finally {
      await c.close();
    }
  }
  const server = await eventsServer({
    spans: table('spans', [row({})], { units: { 'p50(span.duration)': 'fortnight', 'epm()': '1/minute' } }),
  });
  const c = collectorFor(server);
  try {
    const err = await rejection(c.run());
    assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
    assert.equal(err.kind, 'parse');
    assert.match(err.message, /meta\.units\.p50\(span\.duration\) should be a duration unit/);
  } finally {
    await c.close();
  }
});

const spansRow = { project: 'backend', transaction: 'GET /a', 'count()': 5, 'epm()': 1, 'failure_rate()': 0 };
const txRow = { project: 'backend', transaction: 'GET /a', 'count()': 7, 'epm()': 1, 'failure_rate()': 0 };
const UNITS = { units: { 'epm()': '1/minute' } };
const OLD_400 = {
  status: 400,
  body: {
    detail:
      'dataset must be one of: discover, errors, metricsEnhanced, metrics, profiles, issuePlatform, profileFunctions, spansIndexed, spansMetrics, transactions',
  },
};

test('an older server refusing spans: transactions, kept for the next runs, spans asked again after 6 hours', async () => {
  const server = await eventsServer({ spans: OLD_400, transactions: table('transactions', [txRow], UNITS) });
  const c = collectorFor(server);
  try {
    const first = await c.run();
    assert.equal(first.rows.rows[0]?.count, 7);
    assert.equal(c.collector.dataset, 'transactions');
    const asked = () => server.hitsOn('/organizations/acme/events/').map((h) => h.query.get('dataset'));
    assert.deepEqual(asked(), ['spans', 'transactions']);
    // the transactions query asks transaction.duration, without the spans-only parameters
    const tx = server.hits[1]!.query;
    assert.deepEqual(tx.getAll('field').slice(-4), TX_FIELDS);
    assert.equal(tx.get('query'), null);
    assert.equal(tx.get('sampling'), null);
    assert.equal(tx.get('disableAggregateExtrapolation'), null);
    assert.match(c.log.text(), /transactions are read from Sentry's transactions dataset/);
    assert.match(c.log.text(), /Sentry refused the spans dataset: dataset must be one of/);

    await c.run(NOW + 60_000);
    assert.deepEqual(asked(), ['spans', 'transactions', 'transactions']);
    await c.run(NOW + DATASET_REPROBE_MS);
    assert.deepEqual(asked(), ['spans', 'transactions', 'transactions', 'spans', 'transactions']);
    // still refused: transactions stands, and the change is not logged again
    assert.equal(c.log.text().match(/transactions are read from/g)?.length, 1);
  } finally {
    await c.close();
  }
});

test('a server that ignores dataset (meta.dataset says discover) is asked discover itself', async () => {
  const server = await eventsServer({
    spans: table('discover', [spansRow], UNITS),
    discover: table('discover', [txRow], UNITS),
  });
  const c = collectorFor(server);
  try {
    const { rows } = await c.run();
    assert.equal(rows.rows[0]?.count, 7);
    assert.equal(c.collector.dataset, 'discover');
    const discover = server.hits[1]!.query;
    assert.equal(discover.get('dataset'), null, 'discover is asked without the parameter');
    assert.equal(discover.get('query'), 'event.type:transaction');
  } finally {
    await c.close();
  }
});

test('spans answering nothing while transactions has rows (self-hosted without EAP): transactions', async () => {
  const server = await eventsServer({
    spans: table('spans', [], {}),
    transactions: table('transactions', [txRow], UNITS),
  });
  const c = collectorFor(server);
  try {
    assert.equal((await c.run()).rows.rows[0]?.count, 7);
    assert.equal(c.collector.dataset, 'transactions');
  } finally {
    await c.close();
  }
  // Both empty (no traffic): spans stands, nothing exported but the truncation count.
  const quiet = await eventsServer({ spans: table('spans', []), transactions: table('transactions', []) });
  const q = collectorFor(quiet);
  try {
    const { rows, text } = await q.run();
    assert.deepEqual(rows.rows, []);
    assert.equal(q.collector.dataset, 'spans');
    assert.deepEqual(values(text), { 'sentry_transaction_names_truncated{}': 0 });
  } finally {
    await q.close();
  }
});

test('a query timeout, a 404 without the performance features, a refusal everywhere: errors, no fallback kept', async () => {
  const timeout = await eventsServer({
    spans: {
      status: 400,
      body: {
        detail:
          '\nQuery timeout. Please try again. If the problem persists try a smaller date range or fewer projects.',
      },
    },
  });
  const t = collectorFor(timeout);
  try {
    const err = await rejection(t.run());
    assert.ok(err instanceof SentryApiError && err.status === 400, `expected the 400, got ${String(err)}`);
    assert.equal(timeout.hits.length, 1, 'a timeout is not a reason to ask another dataset');
  } finally {
    await t.close();
  }
  const missing = await eventsServer({ spans: { status: 404, body: undefined } });
  const m = collectorFor(missing);
  try {
    const err = await rejection(m.run());
    assert.ok(err instanceof SentryApiError && err.status === 404, `expected the 404, got ${String(err)}`);
    assert.match(
      err.message,
      /answered HTTP 404 \(no body: the organization has neither Discover nor Performance/,
    );
    assert.equal(missing.hits.length, 1);
  } finally {
    await m.close();
  }
  const bad = { status: 400, body: { detail: 'Invalid query. Argument to function is wrong type.' } };
  const refusing = await eventsServer({ spans: bad, transactions: bad, discover: bad });
  const r = collectorFor(refusing, { query: 'transaction.op:[' });
  try {
    const err = await rejection(r.run());
    assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
    assert.equal(err.detail, 'Invalid query. Argument to function is wrong type.');
    assert.deepEqual(
      refusing.hits.map((h) => [h.query.get('dataset'), h.query.get('query')]),
      [
        ['spans', 'is_transaction:true transaction.op:['],
        ['transactions', 'transaction.op:['],
        [null, 'event.type:transaction transaction.op:['],
      ],
    );
    assert.equal(r.collector.dataset, 'spans', 'a run that failed everywhere changes nothing');
  } finally {
    await r.close();
  }
});

test('the request: fields, sort with tie-breakers, the window, project=-1 or the listed ids, environments', async () => {
  const server = await eventsServer({ spans: table('spans', [{ ...spansRow, environment: null }], UNITS) });
  const c = collectorFor(server, {
    environments: ['production', 'staging'],
    query: 'transaction.op:http.server',
    window: 3600,
  });
  try {
    const { text } = await c.run();
    assert.deepEqual(
      [...server.hits[0]!.query],
      [
        ['dataset', 'spans'],
        ['field', 'project'],
        ['field', 'transaction'],
        ['field', 'environment'],
        ['field', 'count()'],
        ['field', 'epm()'],
        ['field', 'failure_rate()'],
        ...SPAN_FIELDS.map((f) => ['field', f]),
        ['query', 'is_transaction:true transaction.op:http.server'],
        ['statsPeriod', '1h'],
        ['project', '-1'],
        ['environment', 'production'],
        ['environment', 'staging'],
        ['sort', '-count()'],
        ['sort', 'project'],
        ['sort', 'transaction'],
        ['sort', 'environment'],
        ['per_page', '50'],
        ['sampling', 'HIGHEST_ACCURACY'],
        ['disableAggregateExtrapolation', '1'],
      ],
    );
    // an event without an environment is environment="None", as in every other family
    assert.match(
      text,
      /sentry_transactions_in_window\{project_slug="backend",transaction="GET \/a",environment="None"\} 5/,
    );
  } finally {
    await c.close();
  }
  const restricted = await eventsServer({ spans: table('spans', [spansRow], UNITS) });
  const r = collectorFor(restricted, { restrictedSelection: true });
  try {
    await r.run();
    assert.deepEqual(restricted.hits[0]!.query.getAll('project'), ['1', '2']);
  } finally {
    await r.close();
  }
});

/** The label a transaction name gets, by the documented rule (written here, not taken from the exporter). */
function expectedLabel(name: string): string {
  const whole = name.replace(
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '\uFFFD',
  );
  const chars = Array.from(whole);
  if (chars.length <= 200) return whole;
  return `${chars.slice(0, 183).join('')}~${createHash('sha256').update(whole).digest('hex').slice(0, 16)}`;
}

/** What the families should hold for the truth: `family|project|transaction|environment|quantile` -> value. */
function expected(truth: readonly TransactionTruth[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of truth) {
    const base = `${t.project}|${expectedLabel(t.transaction)}|${t.environment === undefined ? '' : (t.environment ?? 'None')}`;
    ['0.5', '0.75', '0.95', '0.99'].forEach((q, i) =>
      out.set(`sentry_transaction_duration_seconds|${base}|${q}`, t.seconds[i]!),
    );
    out.set(`sentry_transaction_failure_ratio|${base}|`, t.failureRatio);
    out.set(`sentry_transaction_throughput_per_second|${base}|`, t.perSecond);
    out.set(`sentry_transactions_in_window|${base}|`, t.count);
  }
  return out;
}

function exported(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of parseExposition(text)) {
    if (!r.name.startsWith('sentry_transaction')) continue;
    if (r.name === 'sentry_transaction_names_truncated') continue;
    const l = r.labels;
    out.set(
      `${r.name}|${l.project_slug}|${l.transaction}|${l.environment ?? ''}|${l.quantile ?? ''}`,
      r.value,
    );
  }
  return out;
}

/** Equal keys; equal values, but the throughput (epm ÷ 60 against count ÷ seconds) to 1e-12 relative. */
function assertSameValues(got: Map<string, number>, want: Map<string, number>): void {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [key, value] of want) {
    const g = got.get(key)!;
    if (key.startsWith('sentry_transaction_throughput_per_second'))
      assert.ok(Math.abs(g - value) <= 1e-12 * Math.abs(value), `${key}: ${g} vs ${value}`);
    else assert.equal(g, value, key);
  }
}

const QUIET = {
  SENTRY_SCRAPE_ISSUE_METRICS: 'False',
  SENTRY_SCRAPE_OUTCOME_METRICS: 'False',
  SENTRY_SCRAPE_EVENT_METRICS: 'False',
  SENTRY_SCRAPE_MONITOR_METRICS: 'False',
  SENTRY_SCRAPE_RELEASE_HEALTH_METRICS: 'False',
};

async function exporterRun(simOpts: SimOptions, env: NodeJS.ProcessEnv) {
  const sim = await startSimulator({ now: () => NOW, ...simOpts });
  const { exporter, logs } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_METADATA_INTERVAL: '36000',
    SENTRY_API_RATE: '40',
    ...QUIET,
    ...env,
  });
  return {
    sim,
    exporter,
    logs,
    events: () => sim.counters().byEndpoint['/organizations/{org}/events/'] ?? 0,
    async close() {
      await exporter.stop();
      await sim.close();
    },
  };
}

const CASES: Array<{
  name: string;
  sim: SimOptions;
  n: number;
  /** events requests of the first cycle and of the next one. */
  requests: [number, number];
}> = [
  {
    name: 'sentry.io (spans), N=50',
    sim: { mode: 'sentry.io', seed: 21, projects: 20 },
    n: 50,
    requests: [1, 1],
  },
  {
    name: 'sentry.io (spans), N=150',
    sim: { mode: 'sentry.io', seed: 22, projects: 30 },
    n: 150,
    requests: [2, 2],
  },
  {
    name: 'self-hosted refusing spans (transactions), N=50',
    sim: { mode: 'self-hosted', seed: 21, projects: 20 },
    n: 50,
    requests: [2, 1],
  },
  {
    name: 'self-hosted refusing spans (transactions), N=150',
    sim: { mode: 'self-hosted', seed: 22, projects: 30 },
    n: 150,
    requests: [3, 2],
  },
  {
    name: 'self-hosted with an empty spans dataset (transactions), N=50',
    sim: { mode: 'self-hosted', seed: 23, projects: 20, eventsRelease: 'spans-without-eap' },
    n: 50,
    requests: [2, 1],
  },
  {
    name: 'self-hosted before the transactions dataset (discover), N=50',
    sim: { mode: 'self-hosted', seed: 24, projects: 20, eventsRelease: 'before-transactions' },
    n: 50,
    requests: [3, 1],
  },
];

for (const c of CASES) {
  test(`${c.name}: every value of the busiest transactions equals the ground truth; ⌈N/100⌉ requests a cycle`, async () => {
    const run = await exporterRun(c.sim, { SENTRY_PERFORMANCE_TRANSACTIONS: String(c.n) });
    try {
      const report = await run.exporter.collection.runCycle();
      assert.deepEqual(report.failed, []);
      const truth = run.sim.performanceTruth({ top: c.n, windowSeconds: 900 });
      assert.equal(truth.length, c.n, 'the data has more transactions than N');
      assertSameValues(exported(run.exporter.snapshot.sentryText), expected(truth));
      assert.equal(run.events(), c.requests[0]);

      // What the data covers, so that the equality means something.
      const names = truth.map((t) => t.transaction);
      assert.ok(
        names.some((n) => n.length === 10_000),
        'the 10,000-character name is among them',
      );
      assert.ok(
        truth.some((t) => t.failureRatio > 0) && truth.some((t) => t.failureRatio === 0),
        'failing and clean transactions both',
      );
      assert.ok(
        truth.some((t, i) => i > 0 && truth[i - 1]!.count === t.count),
        'ties in count',
      );
      const truncated = names.filter((n) => Array.from(n).length > 200).length;
      assert.ok(truncated >= 3, `${truncated} names cut (at least 3)`);
      assert.match(
        run.exporter.snapshot.sentryText,
        new RegExp(`^sentry_transaction_names_truncated ${truncated}$`, 'm'),
      );

      run.sim.resetCounters();
      await run.exporter.collection.runCycle();
      assert.equal(run.events(), c.requests[1]);
      assert.equal(run.sim.counters().rateLimited, 0);
    } finally {
      await run.close();
    }
  });
}

test('SENTRY_PERFORMANCE_ENVIRONMENTS: one series per environment, only those; the query adds its terms', async () => {
  const run = await exporterRun(
    { mode: 'sentry.io', seed: 25, projects: 20 },
    {
      SENTRY_PERFORMANCE_TRANSACTIONS: '40',
      SENTRY_PERFORMANCE_ENVIRONMENTS: 'production,staging',
      SENTRY_PERFORMANCE_QUERY: 'transaction.op:http.server',
      SENTRY_PERFORMANCE_WINDOW: '2h',
    },
  );
  try {
    const report = await run.exporter.collection.runCycle();
    assert.deepEqual(report.failed, []);
    const truth = run.sim.performanceTruth({
      top: 40,
      windowSeconds: 7200,
      environments: ['production', 'staging'],
      op: 'http.server',
    });
    assert.equal(truth.length, 40);
    assert.deepEqual(new Set(truth.map((t) => t.environment)), new Set(['production', 'staging']));
    assertSameValues(exported(run.exporter.snapshot.sentryText), expected(truth));
  } finally {
    await run.close();
  }
});

test('SENTRY_PERFORMANCE_TRANSACTIONS=0 (the default): no events request, no family', async () => {
  const sim = await startSimulator({ seed: 26, projects: 4 });
  const { exporter } = await startExporterAgainst(sim, { SENTRY_POLL_INTERVAL: '3600' });
  try {
    const report = await exporter.collection.runCycle();
    assert.deepEqual(report.failed, []);
    assert.ok(sim.counters().total > 0, 'the other collectors asked Sentry');
    assert.equal(sim.counters().byEndpoint['/organizations/{org}/events/'], undefined);
    assert.doesNotMatch(exporter.snapshot.sentryText, /sentry_transaction/);
  } finally {
    await exporter.stop();
    await sim.close();
  }
});

promtoolTest(
  'a 10,000-character name with quotes, backslashes and newlines: valid exposition, no collision',
  async () => {
    const run = await exporterRun(
      { mode: 'sentry.io', seed: 21, projects: 20 },
      { SENTRY_PERFORMANCE_TRANSACTIONS: '50' },
    );
    try {
      await run.exporter.collection.runCycle();
      const text = run.exporter.snapshot.sentryText;
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      if (check.error) throw check.error;
      assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
      const counts = parseExposition(text).filter((r) => r.name === 'sentry_transactions_in_window');
      const labels = counts.map((r) => `${r.labels.project_slug}\u0000${r.labels.transaction}`);
      assert.equal(new Set(labels).size, 50, 'fifty transactions, fifty label sets');
      const huge = counts.find((r) =>
        r.labels.transaction?.startsWith('GET /api/"quoted"\\path\\\nnext line'),
      );
      assert.ok(huge, 'the long name, escaped and read back');
      assert.equal(Array.from(huge.labels.transaction!).length, 200);
      // the two names alike for their first 250 characters: two series
      const twins = counts.filter((r) => r.labels.transaction?.startsWith('POST /api/v2/nested/'));
      assert.equal(twins.length, 2);
    } finally {
      await run.close();
    }
  },
);
