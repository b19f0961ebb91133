/**
 * Scrape latency, Sentry requests per cycle and peak memory, for a large organization.
 *
 *   npm run bench            (1,000 projects x 5 environments x 12 issues; BENCH_PROJECTS etc. to change)
 *
 * The exporter runs as its own process (the built dist/) against the simulator, polling every 5 s so
 * collection cycles run during the load. Scrapes go through autocannon. The baseline, measured in the same
 * run with the same load, is a bare node:http server answering the same bytes from memory: the floor that
 * any exporter serving this exposition pays. Requests per cycle are compared with what the Python exporter
 * would send for the same organization (counted from its code: it asks per project, environment and window).
 */
import { createServer } from 'node:http';
import autocannon from 'autocannon';
import { startSimulator } from '../sim/index.js';
import {
  benchExporterEnv,
  benchOrgSize,
  benchSimOptions,
  metricValue,
  rssOf,
  spawnExporter,
  waitUntil,
} from './lib.js';

const size = benchOrgSize();
const { projects, environments, issues } = size;
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);

const sim = await startSimulator(benchSimOptions(size));
const exporter = await spawnExporter(benchExporterEnv(sim));
const metrics = async () => (await fetch(`${exporter.url}/metrics`)).text();

try {
  const t0 = Date.now();
  await waitUntil('the first cycle', async () => (await fetch(`${exporter.url}/healthz`)).ok, 600_000);
  const firstCycleMs = Date.now() - t0;

  // Steady state: count Sentry requests of whole cycles after the first.
  const cycles = async () => metricValue(await metrics(), 'sentry_exporter_cycles_total');
  const startCycles = await cycles();
  await waitUntil('a cycle boundary', async () => (await cycles()) > startCycles, 60_000);
  sim.resetCounters();
  const from = await cycles();
  await waitUntil('two more cycles', async () => (await cycles()) >= from + 2, 120_000);
  const perCycle = sim.counters().total / ((await cycles()) - from);

  const body = Buffer.from(await metrics());
  const baseline = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(body);
  });
  await new Promise<void>((r) => baseline.listen(0, '127.0.0.1', () => r()));
  const baseAddr = baseline.address();
  const baseUrl = `http://127.0.0.1:${typeof baseAddr === 'object' && baseAddr ? baseAddr.port : 0}/metrics`;

  const idle = rssOf(exporter.child.pid!);
  const gzipHeader = { 'accept-encoding': 'gzip' };
  const load = (url: string, conns: number, headers: Record<string, string> = {}) =>
    autocannon({ url, connections: conns, duration: seconds, headers });
  // Like Prometheus: one scrape at a time, gzip accepted; then plain text; then many scrapers at once.
  const oursSerialGzip = await load(`${exporter.url}/metrics`, 1, gzipHeader);
  const oursSerial = await load(`${exporter.url}/metrics`, 1);
  const baseSerial = await load(baseUrl, 1);
  const afterSerial = rssOf(exporter.child.pid!);
  const base = await load(baseUrl, connections);
  const ours = await load(`${exporter.url}/metrics`, connections);
  baseline.close();
  const mem = rssOf(exporter.child.pid!);

  const truth = sim.truth();
  const openIssues = truth.openIssues.length;
  const envPairs = truth.issueWindows.length;
  // Python exporter, per scrape: org + project list, then per project 1 environments call, 3 issue
  // queries per environment (one page each), 1 release call per issue of the last hour, 3 stats calls.
  const pythonPerScrape = 2 + projects + 3 * envPairs + openIssues + 3 * projects;

  console.log(
    `\nsentry-prometheus-exporter benchmark: ${projects} projects x ${environments} environments x ${issues} issues`,
  );
  console.log(
    `  exposition size               ${(body.length / 1024).toFixed(0)} KiB, ${
      body
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('sentry_')).length
    } sentry series`,
  );
  console.log(`  first cycle (cold, at 80 req/s) ${(firstCycleMs / 1000).toFixed(1)} s`);
  console.log(
    `  Sentry requests per steady cycle ${perCycle.toFixed(1)}   (Python exporter, same org: ~${pythonPerScrape} per scrape; ratio ${(pythonPerScrape / perCycle).toFixed(0)}x)`,
  );
  const line = (name: string, r: Awaited<ReturnType<typeof load>>) =>
    console.log(
      `    ${name.padEnd(34)} p50 ${String(r.latency.p50).padStart(3)} ms  p99 ${String(r.latency.p99).padStart(3)} ms  max ${String(r.latency.max).padStart(4)} ms  ${r.requests.average.toFixed(0).padStart(5)} req/s  errors ${r.errors + r.non2xx}`,
    );
  console.log(`  scrape latency, ${seconds} s each, collection cycles running every 5 s meanwhile:`);
  line('exporter, 1 scraper, gzip', oursSerialGzip);
  line('exporter, 1 scraper, plain', oursSerial);
  line('baseline, 1 scraper, plain', baseSerial);
  line(`exporter, ${connections} scrapers, plain`, ours);
  line(`baseline, ${connections} scrapers, plain`, base);
  console.log(
    `    p99 ratio exporter/baseline: 1 scraper ${(oursSerial.latency.p99 / Math.max(baseSerial.latency.p99, 1)).toFixed(2)}, ${connections} scrapers ${(ours.latency.p99 / Math.max(base.latency.p99, 1)).toFixed(2)}   (baseline: bare node:http, same bytes from memory)`,
  );
  console.log(
    `  exporter RSS: after the cycles ${idle.currentMb.toFixed(0)} MB (peak so far ${idle.peakMb.toFixed(0)} MB); after the 1-scraper runs ${afterSerial.currentMb.toFixed(0)} MB (peak ${afterSerial.peakMb.toFixed(0)} MB); after ${connections} scrapers ${mem.currentMb.toFixed(0)} MB (peak ${mem.peakMb.toFixed(0)} MB)`,
  );
  console.log(`  targets: p99 <= 5 ms (1 scraper), RSS <= 120 MB, <= 200 requests per steady cycle`);
} finally {
  const code = await exporter.stop();
  await sim.close();
  if (code !== 0) console.error(`exporter exited with ${code}`);
}
