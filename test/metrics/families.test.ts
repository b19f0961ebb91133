import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import pino from 'pino';
import type { Collector, Family, ProjectInfo } from '../../src/collectors/collector.js';
import { createCollectors } from '../../src/collectors/index.js';
import type { IssueData } from '../../src/collectors/issue-families.js';
import type { MonitorRow } from '../../src/collectors/monitors.js';
import type { OutcomeData } from '../../src/collectors/outcomes.js';
import type { QuotaData } from '../../src/collectors/quota.js';
import type { RateLimitRow } from '../../src/collectors/rate-limits.js';
import type { ReleaseHealthData } from '../../src/collectors/release-health.js';
import { loadExporterConfig as loadConfig } from '../../src/collectors/index.js';
import { renderFamilies, renderFamilyBytes } from '../../src/metrics/exposition.js';
import { SelfMetrics } from '../../src/metrics/self-metrics.js';
import { ServingMetrics } from '../../src/metrics/serving-metrics.js';
import { createSentryClient } from '../../src/sentry/client.js';
import { PROMTOOL, testNeeding } from '../helpers/tools.js';

const promtoolTest = testNeeding([PROMTOOL]);

const issues: IssueData = {
  windows: [
    { project: 'checkout-api', environment: 'production', h1: 3, h24: 10, d14: 42 },
    { project: 'checkout-api', environment: 'staging', h1: 0, h24: 0, d14: 7 },
    { project: 'legacy-cron', environment: null, h1: 1, h24: 1, d14: 1 },
  ],
  openIssues: [
    {
      issueId: '4711',
      project: 'checkout-api',
      environment: 'production',
      count: 3,
      logger: null,
      level: 'error',
      status: 'unresolved',
      platform: 'python',
      release: 'checkout-api@1.4.2',
      isUnhandled: true,
      firstSeen: '2026-11-25T12:40:00.000Z',
      lastSeen: '2026-11-25T12:59:00.000Z',
    },
    {
      issueId: '4712',
      project: 'legacy-cron',
      environment: null,
      count: 1,
      logger: 'cron "nightly"\\job',
      level: 'warning',
      status: 'unresolved',
      platform: null,
      release: null,
      isUnhandled: false,
      firstSeen: null,
      lastSeen: null,
    },
  ],
  openIssuesDropped: 0,
};
/** received = 100 + 15 + 5 = 120, rejected = 5, blacklisted = 15: the Python exporter's error stats. */
const outcomes: OutcomeData = {
  projects: ['checkout-api'],
  outcomes: [
    {
      project: 'checkout-api',
      category: 'attachment',
      outcome: 'accepted',
      reason: 'none',
      quantity: 1048576,
    },
    { project: 'checkout-api', category: 'error', outcome: 'accepted', reason: 'none', quantity: 100 },
    {
      project: 'checkout-api',
      category: 'error',
      outcome: 'client_discard',
      reason: 'sample_rate',
      quantity: 40,
    },
    {
      project: 'checkout-api',
      category: 'error',
      outcome: 'filtered',
      reason: 'browser-extensions',
      quantity: 15,
    },
    { project: 'checkout-api', category: 'error', outcome: 'invalid', reason: 'duplicate', quantity: 3 },
    {
      project: 'checkout-api',
      category: 'error',
      outcome: 'rate_limited',
      reason: 'usage_exceeded',
      quantity: 5,
    },
    {
      project: 'checkout-api',
      category: 'profile_duration',
      outcome: 'accepted',
      reason: 'none',
      quantity: 3000,
    },
    {
      project: 'checkout-api',
      category: 'span',
      outcome: 'filtered',
      reason: 'Sampled:1000,1004',
      quantity: 7,
    },
    {
      project: 'checkout-api',
      category: 'transaction',
      outcome: 'rate_limited',
      reason: 'spike_protection',
      quantity: 12,
    },
  ],
};
const limits: RateLimitRow[] = [
  { project: 'checkout-api', eventsPerSecond: 0.016667 },
  { project: 'legacy-cron', eventsPerSecond: 0 },
];
const monitors: MonitorRow[] = [
  {
    project: 'checkout-api',
    monitor: 'nightly-backup',
    environment: 'production',
    status: 'error',
    muted: false,
    lastCheckIn: 1795996800.25,
    nextCheckInLatest: 1796083500,
  },
  {
    project: 'legacy-cron',
    monitor: 'cleanup',
    environment: 'None',
    status: 'active',
    muted: true,
    lastCheckIn: null,
    nextCheckInLatest: null,
  },
];

const releaseHealth: ReleaseHealthData = {
  sessions: [
    { project: 'checkout-api', environment: 'production', status: 'abnormal', sessions: 0 },
    { project: 'checkout-api', environment: 'production', status: 'crashed', sessions: 3 },
    { project: 'checkout-api', environment: 'production', status: 'errored', sessions: 12 },
    { project: 'checkout-api', environment: 'production', status: 'healthy', sessions: 1185 },
    { project: 'checkout-api', environment: 'production', status: 'unhandled', sessions: 1 },
    { project: 'legacy-cron', environment: '', status: 'healthy', sessions: 7 },
  ],
  crashFree: [
    { project: 'checkout-api', environment: 'production', sessions: 0.9975, users: 0.98 },
    { project: 'legacy-cron', environment: '', sessions: 1, users: null },
  ],
  releases: [
    {
      project: 'checkout-api',
      environment: 'production',
      release: 'checkout-api@1.4.2',
      sessions: 0.8333333333333334,
      users: 1,
    },
  ],
  releasesDropped: 2,
};

/** Usage this cycle (November 2026, the default SENTRY_BILLING_CYCLE_DAY); budgets from the settings below. */
const quota: QuotaData = {
  cycle: { start: Date.parse('2026-11-01T00:00:00Z'), end: Date.parse('2026-12-01T00:00:00Z') },
  usage: [
    { category: 'attachment', quantity: 734_003_200 },
    { category: 'error', quantity: 4_200_000 },
    { category: 'profile_duration', quantity: 9_000_000 },
  ],
};

const projectList: ProjectInfo[] = [
  {
    id: '4505281256090000',
    slug: 'checkout-api',
    environments: ['production'],
    platform: 'python',
    teams: ['payments', 'platform'],
  },
  { id: '4505281256090013', slug: 'legacy-cron', environments: [], platform: null, teams: [] },
];

interface RenderOptions {
  legacy?: boolean;
  buckets?: { h1: boolean; h24: boolean; d14: boolean };
}

/** The collectors of a configuration, as the exporter builds them (their Sentry client is never called). */
function collectors(o: RenderOptions): Map<string, Collector> {
  const b = o.buckets ?? { h1: true, h24: true, d14: true };
  const config = loadConfig({
    env: {
      SENTRY_AUTH_TOKEN: 'unused',
      SENTRY_EXPORTER_ORG: 'acme',
      SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
      SENTRY_RELEASE_HEALTH_RELEASES: '3',
      SENTRY_ISSUES_1H: String(b.h1),
      SENTRY_ISSUES_24H: String(b.h24),
      SENTRY_ISSUES_14D: String(b.d14),
      SENTRY_QUOTA_BUDGETS: 'error=5M,attachment=1GB,profile_duration=10h',
    },
  });
  const logger = pino({ level: 'silent' });
  const api = createSentryClient({ ...config.sentry, timeout: 1, logger });
  const { metadata, metrics } = createCollectors(config, api, logger);
  return new Map<string, Collector>([...metrics.map((c) => [c.name, c] as const), ['metadata', metadata]]);
}

function families(o: RenderOptions = {}, data: { issues?: IssueData } = {}): Family[] {
  const c = collectors(o);
  const ctx = { legacy: o.legacy ?? true, now: new Date('2026-11-25T13:00:00Z') };
  return [
    ...(c.get('issues')?.render(data.issues ?? issues, ctx) ?? []),
    ...(c.get('outcomes')?.render(outcomes, ctx) ?? []),
    ...(c.get('quota')?.render(quota, ctx) ?? []),
    ...(c.get('rate_limits')?.render(limits, ctx) ?? []),
    ...(c.get('monitors')?.render(monitors, ctx) ?? []),
    ...(c.get('release_health')?.render(releaseHealth, ctx) ?? []),
    ...(c.get('metadata')?.render(projectList, ctx) ?? []),
  ];
}

function render(o: RenderOptions = {}): string {
  return renderFamilies(families(o));
}

/** Golden files pin names, types, label names, label order and spellings; UPDATE_GOLDEN=1 rewrites them. */
function golden(name: string, actual: string): void {
  const file = new URL(`./golden/${name}`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'));
}

test('legacy exposition matches the Python exporter (golden file)', () => {
  const text = render();
  golden('legacy.prom', text);
  // the spellings dashboards depend on, asserted on their own as well
  assert.match(text, /^# TYPE sentry_issues histogram$/m);
  assert.match(
    text,
    /^sentry_issues_bucket\{project_slug="checkout-api",environment="production",le="1h"\} 3$/m,
  );
  assert.match(
    text,
    /^sentry_issues_bucket\{project_slug="checkout-api",environment="production",le="\+Inf"\} 42$/m,
  );
  assert.match(text, /^sentry_issues_gcount\{project_slug="checkout-api",environment="production"\} 42$/m);
  assert.match(text, /^sentry_issues_gsum\{project_slug="checkout-api",environment="production"\} 55$/m);
  assert.match(text, /environment="None"/);
  assert.match(
    text,
    /logger="None".*release="checkout-api@1\.4\.2",isUnhandled="True",firstSeen="2026-11-25",lastSeen="2026-11-25"\} 3$/m,
  );
  assert.match(
    text,
    /logger="cron \\"nightly\\"\\\\job".*platform="None".*release="None",isUnhandled="False"/,
  );
  assert.match(text, /^sentry_events_total\{project_slug="checkout-api",stat="blacklisted"\} 15$/m);
  assert.match(text, /^sentry_rate_limit_events_sec\{project_slug="checkout-api"\} 0\.016667$/m);
  assert.match(text, /^# TYPE sentry_sessions_total counter$/m);
  assert.match(
    text,
    /^sentry_sessions_total\{project_slug="checkout-api",environment="production",status="crashed"\} 3$/m,
  );
  assert.match(
    text,
    /^sentry_sessions_total\{project_slug="legacy-cron",environment="None",status="healthy"\} 7$/m,
  );
  assert.match(
    text,
    /^sentry_release_crash_free_sessions_ratio\{project_slug="checkout-api",environment="production",release="checkout-api@1\.4\.2"\} 0\.8333333333333334$/m,
  );
  // null: no series
  assert.doesNotMatch(text, /^sentry_crash_free_users_ratio\{project_slug="legacy-cron"/m);
});

test('disabled windows drop their bucket; gcount is the last bucket, gsum the enabled ones', () => {
  const text = render({ buckets: { h1: false, h24: true, d14: false } });
  assert.doesNotMatch(text, /^sentry_issues_bucket\{.*le="1h"/m);
  assert.doesNotMatch(text, /^sentry_issues_bucket\{.*le="\+Inf"/m);
  assert.match(text, /^sentry_issues_bucket\{.*le="24h"/m);
  assert.match(text, /^sentry_issues_gcount\{project_slug="checkout-api",environment="production"\} 10$/m);
  assert.match(text, /^sentry_issues_gsum\{project_slug="checkout-api",environment="production"\} 10$/m);
});

test('strict (non-legacy) exposition is lint-clean for promtool (golden file)', () => {
  const text = render({ legacy: false });
  golden('strict.prom', text);
  assert.doesNotMatch(text, /sentry_issues_bucket/);
  assert.match(
    text,
    /^sentry_unresolved_issue_events\{project_slug="checkout-api",environment="production",window="14d"\} 42$/m,
  );
  assert.match(text, /is_unhandled="True",first_seen="2026-11-25"/);
});

promtoolTest(
  'promtool check metrics accepts the strict exposition with the self-metrics, rejects the legacy one',
  async () => {
    const self = new SelfMetrics({ pollInterval: 60, version: '0.0.0-test' });
    self.observeRequest({
      endpoint: '/organizations/{org}/issues/',
      status: 200,
      durationMs: 3,
      rateLimitRemaining: 39,
    });
    self.tokenReloads.inc();
    self.duplicateItems.inc({ endpoint: '/organizations/{org}/issues/' }, 20);
    self.skippedItems.inc({ endpoint: '/organizations/{org}/issues/' });
    const serving = new ServingMetrics();
    serving.authFailed();
    const full =
      render({ legacy: false }) + (await self.render()) + (await serving.current()).text.toString();
    serving.close();
    const check = (input: string) => spawnSync('promtool', ['check', 'metrics'], { input, encoding: 'utf8' });
    const strict = check(full);
    if (strict.error) throw strict.error;
    assert.equal(strict.status, 0, `promtool: ${strict.stdout}${strict.stderr}`);
    const legacy = check(render({ legacy: true }));
    assert.notEqual(legacy.status, 0, 'the legacy names are the reason for the switch');
  },
);

test('the sliced renderer writes exactly what the plain one does', async () => {
  const many: IssueData = {
    ...issues,
    windows: Array.from({ length: 3000 }, (_, i) => ({
      project: `p-${i}`,
      environment: 'production',
      h1: i,
      h24: 2 * i,
      d14: 3 * i,
    })),
  };
  const all = families({}, { issues: many });
  const bytes = await Promise.all(all.map((f) => renderFamilyBytes(f)));
  assert.equal(
    Buffer.concat(bytes).toString('utf8'),
    renderFamilies(all),
    'the sliced bytes are the same text',
  );
});
