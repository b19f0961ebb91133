/**
 * Start-up: how soon a freshly started exporter is ready and how soon every value it publishes is exact,
 * against a Sentry that allows 3 requests per second, with the exporter's default SENTRY_API_RATE (3/s).
 *
 * The baseline is the floor the rate limit sets: the requests the exporter needed until that moment, divided
 * by the rate. /healthz and /metrics are polled every 250 ms and compared with the simulator's ground truth:
 * windows and event totals, every open issue's value and its `release` label. An open-issue series shown with
 * a release other than the true one (a placeholder that changes later: churn for Prometheus) is counted.
 */
import { parseExposition } from '../test/helpers/exporter.js';
import { exportedNumbers, expectedNumbers } from '../test/helpers/truth.js';
import { startSimulator } from '../sim/index.js';
import type { OrgSize } from './lib.js';
import { spawnExporter } from './lib.js';

export interface StartupOptions {
  size: OrgSize;
  /** Requests per second Sentry allows per endpoint (the simulator's fixed one-second windows). */
  sentryRate: number;
  /** Extra exporter settings (the defaults otherwise: SENTRY_API_RATE 3, poll interval 60 s). */
  env?: NodeJS.ProcessEnv;
  /** Give up after this many seconds. */
  limitS: number;
  seed?: number;
}

export interface StartupResult {
  /** Seconds from spawn to /healthz 200. */
  readyS: number;
  /** Seconds to every window and event total exact. */
  windowsS: number;
  /** Seconds to every value exact, releases included; NaN when not reached within the limit. */
  allS: number;
  /** Sentry requests made until every value was exact (or until the limit). */
  requests: number;
  /** Requests made until /healthz turned 200. */
  requestsAtReady: number;
  /** Current-release lookups made, and the open issue series (issue x environment) that need one. */
  lookups: number;
  openSeries: number;
  /** Open-issue series shown with a release other than the true one, ever. */
  wrongReleases: number;
  /** The floor the rate limit sets on `allS` and `readyS`: requests / rate. */
  floorAllS: number;
  floorReadyS: number;
  /** SENTRY_API_RATE in force. */
  rate: number;
}

const POLL_MS = 250;

export async function measureStartup(o: StartupOptions): Promise<StartupResult> {
  const sim = await startSimulator({
    seed: o.seed ?? 1,
    projects: o.size.projects,
    environmentsPerProject: o.size.environments,
    issuesPerProject: o.size.issues,
    rateLimit: { perSecond: o.sentryRate, concurrent: 25 },
  });
  const rate = Number(o.env?.SENTRY_API_RATE ?? 3);
  const t0 = performance.now();
  const exporter = await spawnExporter({
    SENTRY_BASE_URL: sim.url,
    SENTRY_AUTH_TOKEN: sim.token,
    SENTRY_EXPORTER_ORG: sim.org,
    ...o.env,
  });
  const seconds = () => (performance.now() - t0) / 1000;
  const result: StartupResult = {
    readyS: NaN,
    windowsS: NaN,
    allS: NaN,
    requests: 0,
    requestsAtReady: 0,
    lookups: 0,
    openSeries: 0,
    wrongReleases: 0,
    floorAllS: NaN,
    floorReadyS: NaN,
    rate,
  };
  const wrong = new Set<string>();
  try {
    let lastText = '';
    while (seconds() < o.limitS) {
      const health = await fetch(`${exporter.url}/healthz`);
      await health.arrayBuffer();
      if (health.ok && Number.isNaN(result.readyS)) {
        result.readyS = seconds();
        result.requestsAtReady = sim.counters().total;
      }
      const text = await (await fetch(`${exporter.url}/metrics`)).text();
      if (text !== lastText) {
        lastText = text;
        const truth = sim.truth();
        const releases = new Map(truth.openIssues.map((i) => [`${i.issueId}/${i.environment}`, i.release]));
        for (const r of parseExposition(text)) {
          if (r.name !== 'sentry_open_issue_events') continue;
          const key = `${r.labels.issue_id}/${r.labels.environment}`;
          if (r.labels.release !== (releases.get(key) ?? 'None')) wrong.add(key);
        }
        const got = exportedNumbers(text);
        const want = expectedNumbers(truth);
        const same = (a: Map<string, number>, b: Map<string, number>) =>
          a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
        if (Number.isNaN(result.windowsS) && same(got.buckets, want.buckets) && same(got.events, want.events))
          result.windowsS = seconds();
        if (
          !Number.isNaN(result.windowsS) &&
          !Number.isNaN(result.readyS) &&
          same(got.open, want.open) &&
          wrong.size === 0
        ) {
          result.allS = seconds();
          break;
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const counters = sim.counters();
    const truth = sim.truth();
    result.requests = counters.total;
    result.lookups = counters.byEndpoint['/organizations/{org}/issues/{issue_id}/current-release/'] ?? 0;
    result.openSeries = truth.openIssues.length;
    result.wrongReleases = wrong.size;
    result.floorAllS = result.requests / rate;
    result.floorReadyS = result.requestsAtReady / rate;
    return result;
  } finally {
    await exporter.stop();
    await sim.close();
  }
}

export function startupLine(name: string, r: StartupResult): string {
  const s = (v: number) => (Number.isNaN(v) ? 'never' : `${v.toFixed(1)} s`);
  return (
    `${name}: /healthz 200 after ${s(r.readyS)} (floor ${s(r.floorReadyS)}), windows and events exact after ` +
    `${s(r.windowsS)}, every value exact after ${s(r.allS)} (floor ${s(r.floorAllS)}: ${r.requests} requests ` +
    `at ${r.rate}/s); ${r.lookups} release lookups for ${r.openSeries} open issue series; ` +
    `${r.wrongReleases} series shown with a wrong release`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const size = {
    projects: Number(process.env.BENCH_PROJECTS ?? 20),
    environments: Number(process.env.BENCH_ENVIRONMENTS ?? 2),
    issues: Number(process.env.BENCH_ISSUES ?? 60),
  };
  const env: NodeJS.ProcessEnv = {};
  if (process.env.SENTRY_CYCLE_DEADLINE) env.SENTRY_CYCLE_DEADLINE = process.env.SENTRY_CYCLE_DEADLINE;
  const r = await measureStartup({ size, sentryRate: 3, env, limitS: Number(process.env.LIMIT_S ?? 400) });
  console.log(startupLine(`${size.projects} x ${size.environments} x ${size.issues}`, r));
}
