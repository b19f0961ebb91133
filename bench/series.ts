/**
 * What the exporter costs in Prometheus and in memory, by organization size:
 *
 *   npm run bench:series      (about 6 minutes)
 *
 * For 20 projects x 2 environments, 200 x 3 and 1,000 x 5 (12 issues a project, the simulator's monitors,
 * every category of outcome it generates, the 50 busiest transactions), each with every family on (release health per release too with
 * BENCH_EXPORTER_ENV): the series of each family in the exposition once every collector has published, and
 * the exporter's peak RSS (VmHWM) over BENCH_SERIES_SECONDS (default 60) of 5 s cycles with 2 gzip scrapes a
 * second. Beside each, the same exporter against a one-project organization, run alongside, as the floor.
 * docs/metrics.md ("What it costs") records the figures.
 */
import { exportedFamilySeries } from '../test/helpers/series.js';
import {
  benchExporterEnv,
  benchSimOptions,
  forkSimulator,
  rawGet,
  rssOf,
  spawnExporter,
  waitUntil,
} from './lib.js';
import type { OrgSize } from './lib.js';

const SECONDS = Number(process.env.BENCH_SERIES_SECONDS ?? 60);
const SIZES: OrgSize[] = [
  { projects: 20, environments: 2, issues: 12 },
  { projects: 200, environments: 3, issues: 12 },
  { projects: 1000, environments: 5, issues: 12 },
];
const GZIP = { 'accept-encoding': 'gzip' };
const EVERY = ['issues', 'outcomes', 'quota', 'monitors', 'release_health', 'performance'];

interface Measured {
  size: OrgSize;
  monitors: number;
  series: Map<string, number>;
  peakMb: number;
  floorMb: number;
}

/** Runs the exporter against `size` until every collector has published, then scrapes it for a while. */
async function measure(size: OrgSize): Promise<Measured> {
  const sim = await forkSimulator(benchSimOptions(size, 11));
  const floorSim = await forkSimulator(benchSimOptions({ projects: 1, environments: 1, issues: 1 }, 12));
  const env = { SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True', SENTRY_PERFORMANCE_TRANSACTIONS: '50' };
  const exporter = await spawnExporter({ ...benchExporterEnv(sim), ...env });
  const floor = await spawnExporter({ ...benchExporterEnv(floorSim), ...env });
  try {
    const published = async (url: string) => {
      const text = (await rawGet(`${url}/metrics`)).body.toString('utf8');
      return EVERY.every((c) =>
        text.includes(`sentry_exporter_last_success_timestamp_seconds{collector="${c}"}`),
      );
    };
    await waitUntil('every collector published', () => published(exporter.url), 600_000);
    await waitUntil('every collector published (floor)', () => published(floor.url), 60_000);
    const end = Date.now() + SECONDS * 1000;
    while (Date.now() < end) {
      await Promise.all([rawGet(`${exporter.url}/metrics`, GZIP), rawGet(`${floor.url}/metrics`, GZIP)]);
      await new Promise((r) => setTimeout(r, 500));
    }
    const text = (await rawGet(`${exporter.url}/metrics`)).body.toString('utf8');
    const truth = await sim.truth();
    return {
      size,
      monitors: truth.monitors.length,
      series: exportedFamilySeries(text),
      peakMb: rssOf(exporter.child.pid ?? 0).peakMb,
      floorMb: rssOf(floor.child.pid ?? 0).peakMb,
    };
  } finally {
    await exporter.stop();
    await floor.stop();
    await sim.close();
    await floorSim.close();
  }
}

const results: Measured[] = [];
for (const size of SIZES) {
  process.stderr.write(`measuring ${size.projects} x ${size.environments} ...\n`);
  results.push(await measure(size));
}
const families = [...new Set(results.flatMap((r) => [...r.series.keys()]))].sort();
const header = results.map((r) => `${r.size.projects} × ${r.size.environments}`);
const lines = [
  `| Family | ${header.join(' | ')} |`,
  `| --- | ${header.map(() => '---').join(' | ')} |`,
  ...families.map((f) => `| \`${f}\` | ${results.map((r) => r.series.get(f) ?? 0).join(' | ')} |`),
  `| all series | ${results.map((r) => [...r.series.values()].reduce((a, b) => a + b, 0)).join(' | ')} |`,
  `| cron monitors | ${results.map((r) => r.monitors).join(' | ')} |`,
  `| peak RSS, MB | ${results.map((r) => r.peakMb.toFixed(0)).join(' | ')} |`,
  `| peak RSS of the same exporter for 1 × 1, MB (run alongside) | ${results.map((r) => r.floorMb.toFixed(0)).join(' | ')} |`,
];
process.stdout.write(`${lines.join('\n')}\n`);
