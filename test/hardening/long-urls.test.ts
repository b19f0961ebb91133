/**
 * URLs that would outgrow HTTP. The issue query for projects without environments names every such project;
 * so does every query when SENTRY_EXPORTER_PROJECTS restricts the export. Sentry repeats the request URL,
 * query and all, twice in its Link header (src/sentry/api/base.py, `build_cursor_link`:
 * `request.GET.urlencode()`), so 600 project ids overflow undici's 16 KiB response-header limit; proxies in
 * front of self-hosted Sentry refuse request lines over 8 KiB. The client splits such lists: every value is
 * exact, and no request URL is longer than 8 KiB (the simulator, in front of which a proxy refuses longer
 * ones, records each request's size).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';

const ISSUES = '/organizations/{org}/issues/';
const LIMIT = 8192;

/** Equal families, or a failure that names the first few differences (not 30,000 values). */
function assertSame(actual: Numbers, expected: Numbers): void {
  for (const family of ['buckets', 'open', 'events', 'rateLimits'] as const) {
    const a = actual[family];
    const e = expected[family];
    const wrong = [...new Set([...a.keys(), ...e.keys()])].filter((k) => a.get(k) !== e.get(k));
    assert.deepEqual(
      wrong.slice(0, 5).map((k) => `${k}: ${a.get(k)} (expected ${e.get(k)})`),
      [],
      `${family}: ${wrong.length} of ${e.size} differ`,
    );
  }
}
type Numbers = ReturnType<typeof exportedNumbers>;

let sim: SentrySimulator;
let projects: Array<{ id: string; slug: string; environments: string[] }>;

before(async () => {
  sim = await startSimulator({
    seed: 61,
    projects: 4200,
    projectsWithoutEnvironments: 600,
    environmentsPerProject: 2,
    issuesPerProject: 3,
    rateLimit: false,
  });
  projects = [];
  for (let page = 0; ; page++) {
    const res = await fetch(`${sim.url}organizations/${sim.org}/projects/?cursor=0:${page * 100}:0`, {
      headers: { authorization: `Bearer ${sim.token}` },
    });
    const items = (await res.json()) as typeof projects;
    projects.push(...items);
    if (items.length < 100) break;
  }
});
after(() => sim.close());

test('the simulator echoes long URLs in Link as Sentry does: 600 project ids overflow the client', async () => {
  const withoutEnv = projects.filter((p) => p.environments.length === 0);
  assert.equal(withoutEnv.length, 600);
  const query = new URLSearchParams([
    ['query', 'is:unresolved'],
    ...withoutEnv.map((p): [string, string] => ['project', p.id]),
  ]);
  const url = `${sim.url}organizations/${sim.org}/issues/?${query.toString()}`;
  assert.ok(url.length > LIMIT && url.length < 16_384, `${url.length} bytes`);
  await assert.rejects(
    request(url, { headers: { authorization: `Bearer ${sim.token}` } }),
    (err: Error & { code?: string }) => err.code === 'UND_ERR_HEADERS_OVERFLOW',
  );
  sim.setFaults({ maxUrlBytes: LIMIT });
  try {
    const res = await request(url, { headers: { authorization: `Bearer ${sim.token}` } });
    assert.equal(res.statusCode, 414, 'a proxy refuses the request line');
    await res.body.dump();
  } finally {
    sim.setFaults({});
  }
});

for (const restricted of [false, true]) {
  test(`4,200 projects, 600 without environment${restricted ? ', 2,100 named in SENTRY_EXPORTER_PROJECTS' : ''}: exact, no URL over 8 KiB`, async (t) => {
    const selected = restricted ? projects.filter((_, i) => i % 2 === 0).map((p) => p.slug) : undefined;
    const { exporter } = await startExporterAgainst(sim, {
      SENTRY_POLL_INTERVAL: '3600',
      SENTRY_METADATA_INTERVAL: '3600',
      SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
      SENTRY_API_RATE: '400',
      SENTRY_API_CONCURRENCY: '4',
      SENTRY_OPEN_ISSUES_MAX: '100000',
      ...(selected === undefined ? {} : { SENTRY_EXPORTER_PROJECTS: selected.join(',') }),
    });
    sim.setFaults({ maxUrlBytes: LIMIT });
    sim.resetCounters();
    try {
      const report = await exporter.collection.runCycle();
      assert.deepEqual(report.failed, []);
      const exported = exportedNumbers(exporter.snapshot.sentryText);
      assertSame(exported, expectedNumbers(sim.truth(), selected));
      assert.equal(exported.buckets.size, 3 * (restricted ? 2100 + 1800 : 600 + 3600 * 2));

      const c = sim.counters();
      assert.equal(c.total, c.byStatus['200'], 'every request answered 200 (no 414)');
      const longest = Math.max(...c.requests.map((r) => r.urlBytes));
      assert.ok(longest <= LIMIT, `longest request URL ${longest} bytes`);
      const issues = c.requests.filter((r) => r.endpoint === ISSUES);
      const named = issues.filter((r) => Array.isArray(r.query.project) && !r.query.environment);
      assert.ok(named.length >= 2, 'the projects without environment are asked in several groups');
      t.diagnostic(
        `${c.total} requests, ${issues.length} for issues (${named.length} for projects without environment); longest URL ${longest} bytes`,
      );
    } finally {
      sim.setFaults({});
      await exporter.stop();
    }
  });
}
