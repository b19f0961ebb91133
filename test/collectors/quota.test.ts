/**
 * The billing cycle (SENTRY_BILLING_CYCLE_DAY), the organization's quota usage and budgets
 * (SENTRY_SCRAPE_QUOTA_METRICS, SENTRY_QUOTA_BUDGETS), and the links alerts carry (sentry_organization_info).
 *
 * What Sentry does, from its code (docs/sentry-api.md, Part 2 §8):
 * - a stats_v2 query with no `project` (or exactly `project=-1`) whose last `groupBy` does not name project
 *   is organization-wide: snuba filters on the organization alone, so every project counts, those the
 *   caller is not a member of and deleted ones too (src/sentry/api/endpoints/organization_stats_v2.py
 *   `_is_org_total_query`; src/sentry/snuba/outcomes.py `QueryDefinition.get_conditions`; pinned by
 *   tests/snuba/api/endpoints/test_organization_stats_v2.py `test_user_org_total_all_accessible`: a member
 *   of no project with data gets the total 7);
 * - what counts against a quota is what Sentry accepted: filtered, rate-limited (quota, spike protection,
 *   rate limits) and discarded data is not charged (docs.sentry.io "What counts toward my quota";
 *   src/sentry/utils/outcomes.py `Outcome.is_billing` only routes accepted and rate_limited outcomes to the
 *   billing topic).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { billingCycle, cycleSoFar, cycleWording } from '../../src/collectors/billing-cycle.js';
import { loadExporterConfig } from '../../src/collectors/index.js';
import { organizationPages } from '../../src/collectors/metadata.js';
import { QuotaCollector } from '../../src/collectors/quota.js';
import { ConfigError } from '../../src/config/errors.js';
import { renderFamilies } from '../../src/metrics/exposition.js';
import { parseExposition, startExporterAgainst } from '../helpers/exporter.js';
import { runContext } from '../helpers/collect.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { makeClient, sendJson, startServer } from '../sentry/helpers.js';

const silent = pino({ level: 'silent' });
const STATS = '/organizations/{org}/stats_v2/';
const iso = (ms: number) => new Date(ms).toISOString();

test('the billing cycle: from its day of the month at 00:00 UTC to the same day a month later, one range across a month end', () => {
  const at = (text: string, day: number) => {
    const c = billingCycle(Date.parse(text), day);
    return [iso(c.start), iso(c.end)];
  };
  // day 15 on 6 December: since 15 November
  assert.deepEqual(at('2026-12-06T10:30:00Z', 15), ['2026-11-15T00:00:00.000Z', '2026-12-15T00:00:00.000Z']);
  // the first instant of the 15th starts the next cycle; the last millisecond of the 14th is the old one
  assert.deepEqual(at('2026-12-15T00:00:00Z', 15), ['2026-12-15T00:00:00.000Z', '2027-01-15T00:00:00.000Z']);
  assert.deepEqual(at('2026-12-14T23:59:59.999Z', 15), [
    '2026-11-15T00:00:00.000Z',
    '2026-12-15T00:00:00.000Z',
  ]);
  // across a year end, and day 28 in February
  assert.deepEqual(at('2027-01-03T00:00:00Z', 15), ['2026-12-15T00:00:00.000Z', '2027-01-15T00:00:00.000Z']);
  assert.deepEqual(at('2027-03-01T12:00:00Z', 28), ['2027-02-28T00:00:00.000Z', '2027-03-28T00:00:00.000Z']);
  // day 1 is the calendar month
  assert.deepEqual(at('2026-02-28T23:59:59Z', 1), ['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']);
  assert.deepEqual(at('2026-03-01T00:00:00Z', 1), ['2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z']);
  // What the stats_v2 questions ask: the cycle so far; at its very first instant, its first second (Sentry
  // refuses start >= end).
  const soFar = (text: string, day: number) => {
    const r = cycleSoFar(Date.parse(text), day);
    return [r.start.toISOString(), r.end.toISOString()];
  };
  assert.deepEqual(soFar('2026-12-06T10:30:00Z', 15), [
    '2026-11-15T00:00:00.000Z',
    '2026-12-06T10:30:00.000Z',
  ]);
  assert.deepEqual(soFar('2026-12-15T00:00:00Z', 15), [
    '2026-12-15T00:00:00.000Z',
    '2026-12-15T00:00:01.000Z',
  ]);
  // HELP texts: day 1 keeps the calendar-month wording
  assert.equal(cycleWording(1).period, 'this calendar month (UTC)');
  assert.equal(cycleWording(15).period, 'this billing cycle (since the 15th of the month, 00:00 UTC)');
  assert.equal(cycleWording(22).reset, 'Resets when the next cycle starts, on the 22nd.');
  assert.equal(cycleWording(11).reset, 'Resets when the next cycle starts, on the 11th.');
});

test('SENTRY_BILLING_CYCLE_DAY: 1 to 28, a whole number; anything else is a configuration error', () => {
  const load = (day: string) =>
    loadExporterConfig({
      env: { SENTRY_AUTH_TOKEN: 't', SENTRY_EXPORTER_ORG: 'acme', SENTRY_BILLING_CYCLE_DAY: day },
    });
  assert.equal(load('15').billing.cycleDay, 15);
  assert.equal(load('28').billing.cycleDay, 28);
  for (const bad of ['0', '29', '31', '1.5', 'fifteenth']) {
    assert.throws(
      () => load(bad),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) =>
          p.startsWith('SENTRY_BILLING_CYCLE_DAY: must be a whole number from 1 to 28'),
        ),
      bad,
    );
  }
});

const BUDGETS = 'error=5M,transaction=10M,replay=50k,attachment=1GB,profile_duration=10h';

test('SENTRY_QUOTA_BUDGETS: counts with k, M, G; bytes with KB..TB (1,000) or KiB..TiB (1,024); durations in seconds', () => {
  const load = (budgets: string) =>
    loadExporterConfig({
      env: { SENTRY_AUTH_TOKEN: 't', SENTRY_EXPORTER_ORG: 'acme', SENTRY_QUOTA_BUDGETS: budgets },
    }).collectors.quota.budgets;
  assert.deepEqual(load(BUDGETS), {
    error: 5_000_000,
    transaction: 10_000_000,
    replay: 50_000,
    attachment: 1_000_000_000,
    profile_duration: 36_000,
  });
  assert.deepEqual(load(' span = 1.5G , log_byte=2GiB, monitor_seat=12, profile_duration_ui=1h30m '), {
    span: 1_500_000_000,
    log_byte: 2_147_483_648,
    monitor_seat: 12,
    profile_duration_ui: 5400,
  });
  assert.deepEqual(load('attachment=500MB,profile_duration=7200'), {
    attachment: 500_000_000,
    profile_duration: 7200,
  });
  assert.deepEqual(load(''), {});
  const problem = (budgets: string) => {
    try {
      load(budgets);
    } catch (err) {
      assert.ok(err instanceof ConfigError, `a ConfigError for ${budgets}`);
      const lines = err.problems.filter((p) => p.startsWith('SENTRY_QUOTA_BUDGETS'));
      assert.equal(lines.length, 1, err.message);
      return lines[0];
    }
    assert.fail(`${budgets} was accepted`);
  };
  assert.match(problem('errors=5M')!, /"errors=5M": errors is not a data category this exporter knows/);
  assert.match(problem('error=5M,attachment=1G')!, /"attachment=1G": .*bytes, e\.g\. 1GB/);
  assert.match(problem('error=5MB')!, /"error=5MB": .*a count, e\.g\. 50000, 50k, 5M/);
  assert.match(problem('profile_duration=10d')!, /"profile_duration=10d": .*a duration, e\.g\. 10h/);
  assert.match(problem('replay=0')!, /"replay=0": the amount must be greater than 0/);
  assert.match(problem('replay=0.5')!, /"replay=0.5": /);
  assert.match(problem('error')!, /"error" is not data category=amount/);
  assert.match(problem('error=1k,error=2k')!, /"error=2k": error is given twice/);
  assert.match(problem('default=1k')!, /"default=1k": Sentry's usage stats count default events as error/);
});

test('SENTRY_QUOTA_BUDGETS in a settings file: a map of category to amount', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(tmpdir(), 'quota-budgets-'));
  try {
    const file = path.join(dir, 'settings.yaml');
    writeFileSync(file, 'collectors:\n  quota:\n    budgets:\n      error: 5M\n      replay: 50000\n');
    const config = loadExporterConfig({
      env: { SENTRY_AUTH_TOKEN: 't', SENTRY_EXPORTER_ORG: 'acme' },
      configFile: file,
    });
    assert.deepEqual(config.collectors.quota.budgets, { error: 5_000_000, replay: 50_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("Sentry's test data, organization-wide: one request with no project, the accepted quantities per category, the budgets and the cycle", async () => {
  // test_org_simple's data (tests/snuba/api/endpoints/test_organization_stats_v2.py) as an organization-wide
  // answer filtered by outcome=accepted: 5 errors + 1 default event (error: 6) and three profile_duration
  // outcomes of 1,000 ms; the rate-limited attachment and transaction are not accepted, so not in the answer.
  const server = await startServer((_req, res) =>
    sendJson(res, 200, {
      start: '2021-02-15T00:00:00Z',
      end: '2021-03-15T00:00:00Z',
      intervals: ['2021-02-15T00:00:00Z'],
      groups: [
        { by: { category: 'profile_duration' }, totals: { 'sum(quantity)': 3000 }, series: {} },
        { by: { category: 'error' }, totals: { 'sum(quantity)': 6 }, series: {} },
      ],
    }),
  );
  const { client } = makeClient(server.baseUrl);
  try {
    const collector = new QuotaCollector(
      { api: client, logger: silent },
      {
        interval: 60,
        cycleDay: 15,
        budgets: { error: 5_000_000, replay: 50_000, profile_duration: 36_000 },
      },
    );
    const now = Date.parse('2021-03-14T12:27:28.303Z');
    const data = await collector.collect(runContext({ now }));
    const rows = parseExposition(renderFamilies(collector.render(data)));
    assert.deepEqual(
      rows.map((r) => [r.name, r.labels.category ?? '', r.value]),
      [
        ['sentry_quota_usage_total', 'error', 6],
        // 3 × 1,000 ms, in seconds
        ['sentry_quota_usage_total', 'profile_duration', 3],
        // a budgeted category with nothing accepted: 0 of it used
        ['sentry_quota_usage_total', 'replay', 0],
        ['sentry_quota_budget', 'error', 5_000_000],
        ['sentry_quota_budget', 'profile_duration', 36_000],
        ['sentry_quota_budget', 'replay', 50_000],
        // 15 February 2021 and 15 March 2021, 00:00 UTC
        ['sentry_billing_cycle_start_timestamp_seconds', '', 1613347200],
        ['sentry_billing_cycle_end_timestamp_seconds', '', 1615766400],
      ],
    );
    assert.equal(server.hits.length, 1);
    assert.deepEqual(
      [...server.hits[0]!.query],
      [
        ['field', 'sum(quantity)'],
        ['groupBy', 'category'],
        ['outcome', 'accepted'],
        ['start', '2021-02-15T00:00:00.000Z'],
        ['end', '2021-03-14T12:27:28.303Z'],
        ['interval', '1d'],
      ],
      'no project parameter and no project grouping: the whole organization',
    );
  } finally {
    await client.close();
    await server.close();
  }
});

/** A simulator at 6 December 2026, its clock running from there; the exporter's clock the same. */
const DECEMBER_6 = Date.parse('2026-12-06T10:30:00Z');

async function december(sizes: { projects: number; deletedProjects?: number }) {
  const offset = DECEMBER_6 - Date.now();
  return startSimulator({
    seed: 20,
    environmentsPerProject: 2,
    issuesPerProject: 10,
    rateLimit: false,
    now: () => Date.now() + offset,
    ...sizes,
  });
}

async function firstCycle(sim: SentrySimulator, env: NodeJS.ProcessEnv) {
  const { exporter, logs } = await startExporterAgainst(
    sim,
    { SENTRY_POLL_INTERVAL: '3600', SENTRY_API_RATE: '200', SENTRY_API_CONCURRENCY: '4', ...env },
    'info',
    DECEMBER_6,
  );
  const report = await exporter.collection.runCycle();
  return { exporter, logs, report, text: exporter.snapshot.sentryText };
}

test('the quota usage is the whole organization: projects the token user is not a member of and a deleted project count', async () => {
  const sim = await december({ projects: 12, deletedProjects: 2 });
  let run: Awaited<ReturnType<typeof firstCycle>> | undefined;
  try {
    run = await firstCycle(sim, {
      SENTRY_SCRAPE_ISSUE_METRICS: 'False',
      SENTRY_SCRAPE_MONITOR_METRICS: 'False',
      SENTRY_SCRAPE_RELEASE_HEALTH_METRICS: 'False',
      SENTRY_SCRAPE_OUTCOME_METRICS: 'False',
      SENTRY_SCRAPE_EVENT_METRICS: 'False',
      SENTRY_QUOTA_BUDGETS: BUDGETS,
    });
    assert.deepEqual(run.report.failed, []);
    const truth = sim.truth();
    const got = exportedNumbers(run.text);
    const want = expectedNumbers(truth);
    assert.deepEqual(got.quota, new Map([...want.quota].sort(([a], [b]) => (a < b ? -1 : 1))));
    // What the per-project numbers would give instead: member projects only, or every listed project.
    const reply = await fetch(`${sim.url}organizations/acme/projects/`, {
      headers: { Authorization: `Bearer ${sim.token}` },
    });
    const listed = (await reply.json()) as Array<{ slug: string; isMember: boolean }>;
    const members = new Set(listed.filter((p) => p.isMember).map((p) => p.slug));
    assert.ok(
      members.size > 0 && members.size < listed.length,
      'the token user is a member of some projects only',
    );
    const acceptedErrors = (keep: (project: string) => boolean) =>
      truth.outcomes
        .filter((o) => o.category === 'error' && o.outcome === 'accepted' && keep(o.project))
        .reduce((n, o) => n + o.quantity, 0);
    const usage = got.quota.get('error')!;
    assert.ok(usage > acceptedErrors(() => true), 'more than the listed projects: the deleted ones count');
    assert.ok(
      acceptedErrors(() => true) > acceptedErrors((p) => members.has(p)),
      'non-member projects count',
    );
    assert.equal(
      usage,
      truth.organizationOutcomes
        .filter((o) => o.category === 'error' && o.outcome === 'accepted')
        .reduce((n, o) => n + o.quantity, 0),
    );
    // Budgets as configured, in the unit of the usage.
    const budgets = parseExposition(run.text)
      .filter((r) => r.name === 'sentry_quota_budget')
      .map((r) => [r.labels.category, r.value]);
    assert.deepEqual(budgets, [
      ['attachment', 1e9],
      ['error', 5e6],
      ['profile_duration', 36_000],
      ['replay', 50_000],
      ['transaction', 1e7],
    ]);
    // One request per run: the metadata collector's project list, and one stats_v2 question.
    const stats = sim.counters().requests.filter((r) => r.endpoint === STATS);
    assert.equal(stats.length, 1);
    assert.equal(stats[0]!.query.project, undefined);
  } finally {
    await run?.exporter.stop();
    await sim.close();
  }
});

test('SENTRY_BILLING_CYCLE_DAY=15 on 6 December: every outcome, event, session and quota counter counts since 15 November 00:00 UTC, in one range', async () => {
  const sim = await december({ projects: 8 });
  let run: Awaited<ReturnType<typeof firstCycle>> | undefined;
  try {
    run = await firstCycle(sim, {
      SENTRY_BILLING_CYCLE_DAY: '15',
      SENTRY_SCRAPE_ISSUE_METRICS: 'False',
      SENTRY_SCRAPE_MONITOR_METRICS: 'False',
    });
    assert.deepEqual(run.report.failed, []);
    const got = exportedNumbers(run.text);
    const want = expectedNumbers(sim.truth({ billingCycleDay: 15 }));
    for (const family of ['outcomes', 'events', 'sessions', 'quota', 'billingCycle'] as const)
      assert.deepEqual(got[family], want[family], family);
    assert.deepEqual(
      [...got.billingCycle],
      [
        ['start', Date.parse('2026-11-15T00:00:00Z') / 1000],
        ['end', Date.parse('2026-12-15T00:00:00Z') / 1000],
      ],
    );
    // Not the calendar month: since 15 November is more than since 1 December.
    const calendar = expectedNumbers(sim.truth());
    const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    assert.ok(total(got.outcomes) > total(calendar.outcomes) * 1.5, 'three weeks, not six days');
    assert.ok(
      total(got.sessions) > total(calendar.sessions),
      'more sessions since 15 November than in December',
    );
    // Every stats_v2 question starts on 15 November; release health asks the completed days of the cycle
    // (15 November to 5 December) as one range, not one per month.
    const requests = sim.counters().requests;
    const stats = requests.filter((r) => r.endpoint === STATS);
    assert.ok(stats.length >= 2, 'the outcomes and the quota asked stats_v2');
    for (const r of stats) assert.equal(r.query.start, '2026-11-15T00:00:00.000Z');
    const sessions = requests.filter(
      (r) => r.endpoint === '/organizations/{org}/sessions/' && r.query.interval === '1d',
    );
    const past = sessions.filter((r) => r.query.start === '2026-11-15T00:00:00.000Z');
    assert.equal(past.length, 1, JSON.stringify(sessions.map((r) => r.query.start)));
    assert.equal(past[0]!.query.end, '2026-12-05T23:59:59.000Z');
    // The HELP texts say so.
    assert.match(
      run.text,
      /# HELP sentry_outcomes_total Items Sentry recorded this billing cycle \(since the 15th/,
    );
    assert.match(run.text, /# HELP sentry_sessions_total .*this billing cycle \(since the 15th of the month/);
  } finally {
    await run?.exporter.stop();
    await sim.close();
  }
});

test('the pages alerts link to: sentry.io (also a region) in the path form, a self-hosted Sentry where its API is', () => {
  assert.deepEqual(organizationPages('https://sentry.io/api/0/', 'acme'), {
    quota: 'https://sentry.io/settings/acme/billing/overview/',
    spikeProtection: 'https://sentry.io/settings/acme/spike-protection/',
    stats: 'https://sentry.io/organizations/acme/stats/',
  });
  assert.deepEqual(
    organizationPages('https://us.sentry.io/api/0/', 'acme'),
    organizationPages('https://sentry.io/api/0/', 'acme'),
  );
  assert.deepEqual(organizationPages('https://errors.example.com/sentry/api/0/', 'acme'), {
    quota: 'https://errors.example.com/sentry/settings/acme/rate-limits/',
    spikeProtection: 'https://errors.example.com/sentry/settings/acme/rate-limits/',
    stats: 'https://errors.example.com/sentry/organizations/acme/stats/',
  });
  // A proxy's user name and password in the base URL never reach the exported links.
  assert.deepEqual(
    organizationPages('https://user:secret@errors.example.com/sentry/api/0/', 'acme'),
    organizationPages('https://errors.example.com/sentry/api/0/', 'acme'),
  );
});
