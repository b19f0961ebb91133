/**
 * The performance targets of the exporter, each printed beside a baseline measured in the same run:
 *
 *   npm run bench      (about 12 minutes; BENCH_ONLY=latency,memory,large,startup runs some parts)
 *
 * latency  1,000 projects x 5 environments x 12 issues, a collection cycle every 5 s at up to 80 requests/s.
 *          Open-loop gzip scrapes at 20/s for 30 s, interleaved with the same load on the baseline: a bare
 *          node:http server (a process of its own, like the exporter) answering the exporter's gzip bytes.
 *          Then saturation: 8 connections with wrk (autocannon when wrk is not installed) on each, in
 *          alternating 3 s slices (4 each, medians), with the serving thread's CPU a scrape. Also the Sentry
 *          requests of a steady cycle.
 * memory   The same organization from a cold start: peak RSS (VmHWM) over 90 s of 5 s cycles with 2 gzip
 *          scrapes/s; baseline: the same exporter against a one-project organization, run alongside.
 * large    5,000 projects x 3 environments x 10 issues: whether it works (values exact), peak RSS, requests
 *          per cycle.
 * startup  A fresh exporter at the default SENTRY_API_RATE (3/s) against a Sentry allowing 3 requests/s:
 *          20 x 2 x 60 and 200 x 3 x 20 (also with a 60 s cycle deadline, shorter than the first run needs):
 *          time to /healthz 200 and to every value exact, beside the floor the rate limit sets.
 *
 * BENCH_EXPORTER_ENV adds exporter settings (`NAME=value` pairs separated by spaces) to every run.
 *
 * The exporter runs as its own process (the built dist/), the simulator too (bench/sim-process.ts) except in
 * `startup`, where it answers 3 requests a second. Figures are medians or percentiles of one run on a shared
 * machine: compare them with the baseline printed beside them, not with another run's.
 */
import { availableParallelism, loadavg } from 'node:os';
import { exportedNumbers, expectedNumbers } from '../test/helpers/truth.js';
import {
  benchExporterEnv,
  benchOrgSize,
  benchSimOptions,
  forkSimulator,
  metricValue,
  openLoop,
  quantile,
  rawGet,
  rssOf,
  saturate,
  spawnExporter,
  startBareServer,
  waitForSteadyState,
  waitUntil,
} from './lib.js';
import type { OrgSize, Saturation, SimProcess } from './lib.js';
import { measureStartup, startupLine } from './startup.js';
import type { StartupResult } from './startup.js';

const only = new Set((process.env.BENCH_ONLY ?? 'latency,memory,large,startup').split(','));
const GZIP = { 'accept-encoding': 'gzip' };
const SCRAPES_PER_S = 20;
const OPEN_LOOP_S = Number(process.env.BENCH_OPEN_LOOP_SECONDS ?? 30);
const SLICE_S = Number(process.env.BENCH_SLICE_SECONDS ?? 3);
const SLICES = Number(process.env.BENCH_SLICES ?? 4);
const MEMORY_S = Number(process.env.BENCH_MEMORY_SECONDS ?? 90);
const CONNECTIONS = 8;

interface Verdict {
  goal: string;
  target: string;
  measured: string;
  baseline: string;
  met: boolean;
}
const verdicts: Verdict[] = [];
const ms = (v: number) => `${v.toFixed(1)} ms`;
const mb = (v: number) => `${v.toFixed(0)} MB`;
const pct = (v: number) => `${(v * 100).toFixed(0)} %`;
const secs = (v: number) => (Number.isNaN(v) ? 'never' : `${v.toFixed(1)} s`);

const size = benchOrgSize();
const label = (s: OrgSize) => `${s.projects} x ${s.environments} x ${s.issues}`;
console.log(
  `sentry-prometheus-exporter benchmark; CPUs ${availableParallelism()}, node ${process.version}, ` +
    `load average ${loadavg()[0]!.toFixed(1)} at the start` +
    (process.env.BENCH_EXPORTER_ENV ? `; exporter settings ${process.env.BENCH_EXPORTER_ENV}` : ''),
);

async function cyclesOf(url: string): Promise<number> {
  return metricValue(await (await fetch(`${url}/metrics`)).text(), 'sentry_exporter_cycles_total');
}

/** Sentry requests per cycle over `n` whole cycles (counted by the simulator). */
async function requestsPerCycle(sim: SimProcess, url: string, n: number): Promise<number> {
  const start = await cyclesOf(url);
  await waitUntil('a cycle boundary', async () => (await cyclesOf(url)) > start, 120_000);
  const before = (await sim.counters()).total;
  const from = await cyclesOf(url);
  await waitUntil(`${n} more cycles`, async () => (await cyclesOf(url)) >= from + n, 600_000);
  const to = await cyclesOf(url);
  return ((await sim.counters()).total - before) / (to - from);
}

async function latency(): Promise<void> {
  console.log(`\nlatency: ${label(size)}, a cycle every 5 s at up to 80 requests/s`);
  const sim = await forkSimulator(benchSimOptions(size));
  const exporter = await spawnExporter(benchExporterEnv(sim));
  try {
    await waitForSteadyState(exporter.url);
    const perCycle = await requestsPerCycle(sim, exporter.url, 3);
    const truth = await sim.truth();
    // Python exporter, per scrape: org + project list, then per project 1 environments call, 3 issue
    // queries per environment (one page each), 1 release call per issue of the last hour, 3 stats calls.
    const python =
      2 + size.projects + 3 * truth.issueWindows.length + truth.openIssues.length + 3 * size.projects;
    console.log(
      `  Sentry requests per steady cycle: ${perCycle.toFixed(1)} (budget 200; the Python exporter would send ` +
        `~${python} per scrape)`,
    );
    verdicts.push({
      goal: `Sentry requests per steady cycle, ${label(size)}`,
      target: '<= 200',
      measured: perCycle.toFixed(1),
      baseline: `Python exporter ~${python} per scrape`,
      met: perCycle <= 200,
    });

    const sample = await rawGet(`${exporter.url}/metrics`, GZIP);
    const plainBytes = (await rawGet(`${exporter.url}/metrics`)).body.length;
    const bare = await startBareServer(sample.body, {
      'content-type': sample.headers['content-type'] ?? 'text/plain',
      'content-encoding': 'gzip',
      vary: 'Accept-Encoding',
      'cache-control': 'no-store',
    });
    try {
      console.log(
        `  exposition ${(plainBytes / 1024).toFixed(0)} KiB, ${(sample.body.length / 1024).toFixed(0)} KiB gzip; ` +
          `baseline: bare node:http answering those gzip bytes, in a process of its own`,
      );
      const [ours, base] = await openLoop(
        [`${exporter.url}/metrics`, bare.url],
        SCRAPES_PER_S,
        OPEN_LOOP_S,
        GZIP,
      );
      const self = await (await fetch(`${exporter.url}/metrics`)).text();
      const loopP99 = metricValue(self, 'sentry_exporter_event_loop_delay_p99_seconds') * 1000;
      const line = (name: string, r: { ms: number[]; failed: number }) =>
        console.log(
          `    ${name.padEnd(10)} p50 ${ms(quantile(r.ms, 0.5)).padStart(8)}  p99 ${ms(quantile(r.ms, 0.99)).padStart(8)}  ` +
            `max ${ms(Math.max(...r.ms)).padStart(8)}  ${r.ms.length} ok, ${r.failed} failed`,
        );
      console.log(`  open-loop gzip scrapes, ${SCRAPES_PER_S}/s each for ${OPEN_LOOP_S} s, cycles running:`);
      line('exporter', ours!);
      line('baseline', base!);
      console.log(
        `    exporter's own event-loop delay p99 (sentry_exporter_event_loop_delay_p99_seconds): ${ms(loopP99)}`,
      );
      const p99 = quantile(ours!.ms, 0.99);
      verdicts.push({
        goal: `scrape p99, open loop ${SCRAPES_PER_S}/s gzip during 5 s cycles`,
        target: '<= 5 ms',
        measured: `${ms(p99)} (max ${ms(Math.max(...ours!.ms))})`,
        baseline: `${ms(quantile(base!.ms, 0.99))} (bare node:http)`,
        met: p99 <= 5 && ours!.failed === 0,
      });
      const baseP99 = quantile(base!.ms, 0.99);
      verdicts.push({
        goal: `scrape p99 beside the bare server, open loop ${SCRAPES_PER_S}/s gzip`,
        target: '<= 1.25 x baseline',
        measured: `${ms(p99)} (${(p99 / baseP99).toFixed(2)} x)`,
        baseline: `${ms(baseP99)} (bare node:http, same time)`,
        met: p99 <= 1.25 * baseP99 && ours!.failed === 0,
      });

      const { client, results } = await saturate(
        [
          { url: `${exporter.url}/metrics`, pid: exporter.child.pid! },
          { url: bare.url, pid: bare.child.pid! },
        ],
        { connections: CONNECTIONS, seconds: SLICE_S, slices: SLICES, headers: GZIP },
      );
      const [oursSat, baseSat] = results as [Saturation, Saturation];
      const ratio = oursSat.perSecond / baseSat.perSecond;
      console.log(
        `  saturated, ${CONNECTIONS} connections, gzip, ${client}` +
          (client === 'autocannon'
            ? ' (wrk is not installed; a JavaScript client, often the limit here)'
            : '') +
          `: ${SLICES} slices of ${SLICE_S} s each, alternating; medians`,
      );
      const satLine = (name: string, r: Saturation) =>
        console.log(
          `    ${name.padEnd(10)} ${r.perSecond.toFixed(0).padStart(6)} scrapes/s  p50 ${ms(r.p50Ms)}  p99 ${ms(r.p99Ms)}  ` +
            `serving thread ${pct(r.busy)} busy, ${r.cpuUsPerRequest.toFixed(0)} µs CPU a scrape (${r.userUsPerRequest.toFixed(0)} in user space)  errors ${r.errors}  ` +
            `(slices ${r.slices.map((x) => x.perSecond.toFixed(0)).join(', ')}; load ${r.slices.map((x) => x.load.toFixed(1)).join(', ')})`,
        );
      satLine('exporter', oursSat);
      satLine('baseline', baseSat);
      // A server whose serving thread has CPU to spare was held back by the client or by the machine.
      const limit = (r: Saturation) =>
        r.busy >= 0.85 ? 'the server' : `the ${client} client or the machine`;
      // What a scrape costs the serving thread, against the bare server's: the throughput ratio that a machine
      // with CPU to spare (serving threads the limit) would show is about its inverse.
      const cpuRatio = oursSat.cpuUsPerRequest / baseSat.cpuUsPerRequest;
      console.log(
        `    ratio exporter/baseline ${ratio.toFixed(2)}; limited by: exporter ${limit(oursSat)}, baseline ${limit(baseSat)}\n` +
          `    CPU a scrape exporter/baseline ${cpuRatio.toFixed(2)} (serving-thread-bound throughput ratio ~${(1 / cpuRatio).toFixed(2)})`,
      );
      verdicts.push({
        goal: `throughput, ${CONNECTIONS} connections gzip (${client})`,
        target: '>= 0.5 x baseline',
        measured: `${oursSat.perSecond.toFixed(0)}/s (${ratio.toFixed(2)} x; CPU a scrape ${cpuRatio.toFixed(2)} x)`,
        baseline: `${baseSat.perSecond.toFixed(0)}/s (bare node:http)`,
        met: ratio >= 0.5 && oursSat.errors === 0,
      });
    } finally {
      await bare.close();
    }
  } finally {
    await exporter.stop();
    await sim.close();
  }
}

/** Runs an exporter from a cold start for `seconds` with 2 gzip scrapes/s; its peak and last RSS. */
async function memoryRun(
  s: OrgSize,
  seconds: number,
  env: NodeJS.ProcessEnv = {},
): Promise<{ peakMb: number; currentMb: number; sim: SimProcess; stop(): Promise<void>; url: string }> {
  const sim = await forkSimulator(benchSimOptions(s));
  const exporter = await spawnExporter({ ...benchExporterEnv(sim), ...env });
  const end = performance.now() + seconds * 1000;
  for (let i = 0; performance.now() < end; i++) {
    await rawGet(`${exporter.url}/metrics`, GZIP).catch(() => undefined);
    const wait = Math.min(500, end - performance.now());
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const rss = rssOf(exporter.child.pid!);
  return {
    ...rss,
    sim,
    url: exporter.url,
    async stop() {
      await exporter.stop();
      await sim.close();
    },
  };
}

async function memory(): Promise<void> {
  console.log(`\nmemory: ${label(size)} from a cold start, ${MEMORY_S} s of 5 s cycles, 2 gzip scrapes/s`);
  const tiny = { projects: 1, environments: 1, issues: 1 };
  const [big, floor] = await Promise.all([memoryRun(size, MEMORY_S), memoryRun(tiny, MEMORY_S)]);
  try {
    console.log(
      `  exporter                      peak RSS ${mb(big.peakMb)}, at the end ${mb(big.currentMb)}`,
    );
    console.log(
      `  baseline (1 x 1 x 1 org)      peak RSS ${mb(floor.peakMb)}, at the end ${mb(floor.currentMb)}: Node.js and the exporter's libraries`,
    );
    verdicts.push({
      goal: `peak RSS, ${label(size)}, ${MEMORY_S} s`,
      // The peak of a 1,000 × 5 organization (docs/performance.md, "Where the memory goes").
      target: '<= 140 MB',
      measured: mb(big.peakMb),
      baseline: `${mb(floor.peakMb)} (same exporter, 1 x 1 x 1)`,
      met: big.peakMb <= 140,
    });
  } finally {
    await Promise.all([big.stop(), floor.stop()]);
  }
}

async function large(): Promise<void> {
  const s = { projects: 5000, environments: 3, issues: 10 };
  console.log(`\nlarge: ${label(s)}, a cycle every 5 s at up to 80 requests/s, 2 gzip scrapes/s`);
  const sim = await forkSimulator(benchSimOptions(s));
  const exporter = await spawnExporter(benchExporterEnv(sim));
  let scraping = true;
  const scraper = (async () => {
    while (scraping) {
      await rawGet(`${exporter.url}/metrics`, GZIP).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  try {
    const t0 = performance.now();
    await waitForSteadyState(exporter.url);
    const readyS = (performance.now() - t0) / 1000;
    const perCycle = await requestsPerCycle(sim, exporter.url, 2);
    const text = await (await fetch(`${exporter.url}/metrics`)).text();
    const got = exportedNumbers(text);
    const want = expectedNumbers(await sim.truth());
    const exact =
      [...want.buckets].every(([k, v]) => got.buckets.get(k) === v) &&
      [...want.events].every(([k, v]) => got.events.get(k) === v);
    const rss = rssOf(exporter.child.pid!);
    const duration = metricValue(text, 'sentry_exporter_collection_duration_seconds', 'collector="issues"');
    console.log(
      `  steady after ${secs(readyS)}; windows and events ${exact ? 'exact' : 'NOT exact'}; ` +
        `${(Buffer.byteLength(text) / 1024 / 1024).toFixed(1)} MiB exposition; requests per cycle ${perCycle.toFixed(0)}; ` +
        `issues run ${duration.toFixed(1)} s; peak RSS ${mb(rss.peakMb)}`,
    );
    verdicts.push({
      goal: `${label(s)} works`,
      target: 'values exact',
      measured: `${exact ? 'exact' : 'NOT exact'}; peak RSS ${mb(rss.peakMb)}; ${perCycle.toFixed(0)} requests/cycle`,
      baseline: '-',
      met: exact,
    });
  } finally {
    scraping = false;
    await scraper;
    await exporter.stop();
    await sim.close();
  }
}

async function startup(): Promise<void> {
  console.log('\nstartup: a fresh exporter, default SENTRY_API_RATE (3/s), Sentry allowing 3 requests/s');
  const small = { projects: 20, environments: 2, issues: 60 };
  const mid = { projects: 200, environments: 3, issues: 20 };
  const [a, b, c] = await Promise.all([
    measureStartup({ size: small, sentryRate: 3, limitS: 300 }),
    measureStartup({ size: mid, sentryRate: 3, limitS: 400 }),
    measureStartup({ size: mid, sentryRate: 3, limitS: 400, env: { SENTRY_CYCLE_DEADLINE: '60' } }),
  ]);
  console.log(`  ${startupLine(label(small), a)}`);
  console.log(`  ${startupLine(label(mid), b)}`);
  console.log(`  ${startupLine(`${label(mid)}, deadline 60 s`, c)}`);
  const push = (goal: string, r: StartupResult, readyS: number, allS: number) =>
    verdicts.push({
      goal,
      target: `ready <= ${readyS} s, all exact <= ${allS} s`,
      measured: `ready ${secs(r.readyS)}, windows ${secs(r.windowsS)}, all ${secs(r.allS)}, ${r.wrongReleases} wrong releases`,
      baseline: `rate floor: ready ${secs(r.floorReadyS)}, all ${secs(r.floorAllS)}`,
      met: r.readyS <= readyS && r.allS <= allS && r.wrongReleases === 0,
    });
  push(`start-up, ${label(small)}`, a, 15, 150);
  push(`start-up, ${label(mid)}`, b, 30, 300);
  push(`start-up, ${label(mid)}, 60 s deadline`, c, 30, 300);
}

if (only.has('latency')) await latency();
if (only.has('memory')) await memory();
if (only.has('large')) await large();
if (only.has('startup')) await startup();

console.log(`\nsummary (load average ${loadavg()[0]!.toFixed(1)} at the end)`);
const widths = [48, 32, 44, 44, 4];
const row = (cells: string[]) => console.log(cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | '));
row(['goal', 'target', 'measured', 'baseline, same run', 'met']);
for (const v of verdicts) row([v.goal, v.target, v.measured, v.baseline, v.met ? 'yes' : 'NO']);
