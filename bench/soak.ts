/**
 * Soak: the exporter's memory and scrape latency over a long run against a large organization whose data
 * keeps changing.
 *
 *   npm run bench:soak     (SOAK_MINUTES=30, SOAK_WARMUP_MINUTES=5; BENCH_PROJECTS etc. as in bench/scrape.ts)
 *
 * The simulator (1,000 projects x 5 environments x 12 issues) runs in a process of its own and is generated
 * again from a new seed every SOAK_RESEED_SECONDS (60; 0 = never): new issue ids, event counts, releases,
 * first/last-seen times and some projects' environments, an issue list turning over much faster than a real
 * one does. The built exporter runs as its own process (its memory is measured alone, its log goes to
 * SOAK_EXPORTER_LOG), polls every 5 s and refreshes metadata (projects, environments, issue releases) every
 * SOAK_METADATA_INTERVAL (60) s. A scraper reads /metrics every second with gzip, like Prometheus, and each
 * minute at :30 a burst of SOAK_BURST (5) concurrent scrapers reads it 3 times each.
 *
 * Every scrape also samples memory: RSS from /proc (VmRSS), heap and external memory from the exporter's
 * nodejs_* self-metrics in the scraped body (those of the collection thread, where the data is). Every minute one row: memory at the end of the minute and the
 * lowest heapUsed in it, cycles so far, GC time, scrape latency of that minute. At the end, against the
 * baseline of the same run (medians over the last warm-up minute): medians of the first and the last third
 * after the warm-up, least-squares slopes over all samples after the warm-up, scrape latency overall, and
 * the verdict. The exit status is 1 only on hard failure: the exporter or the simulator died, no cycle
 * succeeded after the warm-up, or every scrape after it failed.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  benchExporterEnv,
  benchOrgSize,
  benchSimOptions,
  forkSimulator,
  median,
  metricValue,
  quantile,
  rssOf,
  slope,
  spawnExporter,
  waitUntil,
} from './lib.js';

function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

const minutes = intEnv('SOAK_MINUTES', 30, 2);
const warmup = intEnv('SOAK_WARMUP_MINUTES', 5, 1);
if (warmup >= minutes) throw new Error('SOAK_WARMUP_MINUTES must be less than SOAK_MINUTES');
const reseedSeconds = intEnv('SOAK_RESEED_SECONDS', 60, 0);
const burstScrapers = intEnv('SOAK_BURST', 5, 0);
const metadataInterval = intEnv('SOAK_METADATA_INTERVAL', 60, 1);
const BURST_SCRAPES = 3;
const SCRAPE_TIMEOUT_MS = 10_000;
/** A scrape slower than this is counted in its minute's row. */
const SLOW_SCRAPE_MS = 50;
/** Verdict "no growth trend": RSS and heapUsed both grow less than this per minute after the warm-up ... */
const MAX_SLOPE_MB_PER_MIN = 0.5;
/** ... and the median of the last third is below this multiple of the first third's. */
const MAX_LAST_FIRST_RATIO = 1.1;
const MB = 1024 * 1024;
/** pino's level numbers. */
const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

interface ScrapeResult {
  ms: number;
  ok: boolean;
  /** The decoded exposition. */
  text?: string;
}

/** One GET /metrics with gzip accepted, like Prometheus; the time is to the last byte, before decoding. */
function scrape(url: string, agent: Agent, keepBody: boolean): Promise<ScrapeResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const headers = { 'accept-encoding': 'gzip' };
    const req = request(url, { agent, headers, timeout: SCRAPE_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        if (keepBody) chunks.push(chunk);
      });
      res.on('end', () => {
        const ms = performance.now() - t0;
        const ok = res.statusCode === 200;
        if (!ok || !keepBody) return resolve({ ms, ok });
        const body = Buffer.concat(chunks);
        const gzipped = res.headers['content-encoding'] === 'gzip';
        resolve({ ms, ok, text: (gzipped ? gunzipSync(body) : body).toString('utf8') });
      });
      res.on('error', () => resolve({ ms: performance.now() - t0, ok: false }));
    });
    req.on('timeout', () => req.destroy(new Error('scrape timeout')));
    req.on('error', () => resolve({ ms: performance.now() - t0, ok: false }));
    req.end();
  });
}

/** What the exporter says about itself in one exposition. */
interface SelfReport {
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  cyclesOk: number;
  cyclesPartial: number;
  cyclesFailed: number;
  cyclesSkipped: number;
  gcMs: number;
  gcMajor: number;
  /** GC pauses of 0.1 s or longer, all kinds. */
  gcOver100ms: number;
  apiRequests: number;
  apiNoAnswer: number;
  /**
   * Longest event-loop delay of the collection thread since its previous self-metrics rendering
   * (prom-client resets it at every rendering).
   */
  loopMaxMs: number;
  /** p99 of the event-loop delay of the thread that serves /metrics, over the last minute. */
  servingP99Ms: number;
}

function selfReport(exposition: string): SelfReport {
  // Only the self-metrics, so that the lookups below do not each scan ~30,000 Sentry series.
  const text = exposition
    .split('\n')
    .filter((l) => l.startsWith('nodejs_') || l.startsWith('sentry_exporter_'))
    .join('\n');
  const gcCount = metricValue(text, 'nodejs_gc_duration_seconds_count');
  return {
    heapUsedMb: metricValue(text, 'nodejs_heap_size_used_bytes') / MB,
    heapTotalMb: metricValue(text, 'nodejs_heap_size_total_bytes') / MB,
    externalMb: metricValue(text, 'nodejs_external_memory_bytes') / MB,
    cyclesOk: metricValue(text, 'sentry_exporter_cycles_total', 'result="success"'),
    cyclesPartial: metricValue(text, 'sentry_exporter_cycles_total', 'result="partial"'),
    cyclesFailed: metricValue(text, 'sentry_exporter_cycles_total', 'result="failure"'),
    cyclesSkipped: metricValue(text, 'sentry_exporter_cycles_skipped_total'),
    gcMs: metricValue(text, 'nodejs_gc_duration_seconds_sum') * 1000,
    gcMajor: metricValue(text, 'nodejs_gc_duration_seconds_count', 'kind="major"'),
    gcOver100ms: gcCount - metricValue(text, 'nodejs_gc_duration_seconds_bucket', 'le="0.1"'),
    apiRequests: metricValue(text, 'sentry_exporter_api_requests_total'),
    apiNoAnswer: metricValue(text, 'sentry_exporter_api_requests_total', 'code="error"'),
    loopMaxMs: metricValue(text, 'nodejs_eventloop_lag_max_seconds') * 1000,
    servingP99Ms: metricValue(text, 'sentry_exporter_event_loop_delay_p99_seconds') * 1000,
  };
}

interface Sample {
  /** Minutes since the exporter became ready. */
  t: number;
  rssMb: number;
  self: SelfReport | undefined;
}

interface Minute {
  serial: number[];
  serialErrors: number;
  burst: number[];
  burstErrors: number;
  /** Lowest heapUsed sampled in the minute: close to the live heap after a major GC. */
  heapFloorMb: number;
  /** Longest event-loop delay the collection thread reported in the minute. */
  loopMaxMs: number;
  /** The serving thread's event-loop delay p99 at the end of the minute. */
  servingP99Ms: number;
  reseedGapsMs: number[];
}

const maxOf = (v: number[]) => (v.length === 0 ? NaN : Math.max(...v));
const minOf = (v: number[]) => (v.length === 0 ? NaN : Math.min(...v));
const fmt = (v: number | undefined, digits = 1) =>
  v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits);

/** Right-aligned cells, each padded to its column's width. */
function tableLine(widths: number[], cells: string[]): string {
  return cells.map((c, i) => c.padStart(widths[i] ?? 0)).join(' ');
}

const size = benchOrgSize();
const sim = await forkSimulator(benchSimOptions(size));
let simDied = false;
sim.child.once('exit', () => (simDied = true));
const exporterLog = process.env.SOAK_EXPORTER_LOG ?? join(tmpdir(), `soak-exporter-${process.pid}.log`);
const exporter = await spawnExporter(
  { ...benchExporterEnv(sim), SENTRY_METADATA_INTERVAL: String(metadataInterval) },
  { logFile: exporterLog },
);
let exporterExit: string | undefined;
exporter.child.once('exit', (code, signal) => (exporterExit = String(code ?? signal)));
let interrupted = false;
process.once('SIGINT', () => (interrupted = true));
process.once('SIGTERM', () => (interrupted = true));

const metricsUrl = `${exporter.url}/metrics`;
const serialAgent = new Agent({ keepAlive: true, maxSockets: 1 });
const samples: Sample[] = [];
const rows: Array<{ minute: number; sample: Sample }> = [];
const buckets: Minute[] = [];
let hardFailure: string | undefined;
let stopCode: number | null = 0;

const COLUMNS: Array<[string, number]> = [
  ['min', 3],
  ['RSS MB', 7],
  ['heapUsed', 8],
  ['heapTotal', 9],
  ['external', 8],
  ['heapFloor', 9],
  ['|', 1],
  ['cycles ok', 9],
  ['partial', 7],
  ['failed', 6],
  ['skipped', 7],
  ['|', 1],
  ['GC ms', 5],
  ['major', 5],
  ['loop max ms', 6],
  ['serve p99', 9],
  ['|', 1],
  ['scrapes', 7],
  ['err', 3],
  ['p50 ms', 6],
  ['p99 ms', 6],
  ['max ms', 6],
  [`>${SLOW_SCRAPE_MS}ms`, 5],
  ['|', 1],
  ['burst', 5],
  ['err', 3],
  ['p99 ms', 6],
  ['|', 1],
  ['api req', 7],
  ['no answer', 9],
  ['|', 1],
  ['load', 4],
  ['|', 1],
  ['note', 0],
];
const widths = COLUMNS.map(([title, width]) => Math.max(title.length, width));

try {
  const tReady = performance.now();
  await waitUntil('the first cycle', async () => (await fetch(`${exporter.url}/healthz`)).ok, 600_000);
  const firstCycleS = (performance.now() - tReady) / 1000;
  let plain = '';
  await waitUntil(
    'the Sentry families on /metrics',
    async () => (plain = await (await fetch(metricsUrl)).text()).includes('\nsentry_issues'),
    60_000,
  );
  const familiesLagS = (performance.now() - tReady) / 1000 - firstCycleS;
  const series = plain.split('\n').filter((l) => l.startsWith('sentry_')).length;

  console.log(
    `soak: ${size.projects} projects x ${size.environments} environments x ${size.issues} issues; ` +
      `exporter polls every 5 s at up to 80 requests/s, metadata every ${metadataInterval} s`,
  );
  console.log(
    `  simulator data generated again from a new seed ${reseedSeconds > 0 ? `every ${reseedSeconds} s` : 'never'}; ` +
      `scraper every 1 s (gzip)` +
      (burstScrapers > 0
        ? ` + each minute at :30 ${burstScrapers} concurrent scrapers x ${BURST_SCRAPES}`
        : ''),
  );
  console.log(
    `  ${minutes} minutes, warm-up ${warmup}; CPUs ${availableParallelism()}; node ${process.version}; ` +
      `first cycle ${firstCycleS.toFixed(1)} s to /healthz 200, Sentry families on /metrics ` +
      `${familiesLagS.toFixed(1)} s later; exposition ${(Buffer.byteLength(plain) / 1024).toFixed(0)} KiB, ` +
      `${series} sentry series; exporter log ${exporterLog}`,
  );
  console.log(
    `\nmemory in MB at the end of each minute (heapFloor: lowest heapUsed sampled in the minute); cycles so far; ` +
      `GC, the collection thread's longest event-loop delay and the serving thread's p99 (last minute), ` +
      `scrapes and Sentry requests in the minute; the machine's 1-minute load average`,
  );
  console.log(
    tableLine(
      widths,
      COLUMNS.map(([title]) => title),
    ),
  );

  const t0 = performance.now();
  let seed = 1;
  let reseeding = false;
  let burstsRunning = 0;

  const burst = async (bucket: Minute): Promise<void> => {
    burstsRunning++;
    try {
      await Promise.all(
        Array.from({ length: burstScrapers }, async () => {
          const agent = new Agent({ keepAlive: true, maxSockets: 1 });
          try {
            for (let i = 0; i < BURST_SCRAPES; i++) {
              const r = await scrape(metricsUrl, agent, false);
              if (r.ok) bucket.burst.push(r.ms);
              else bucket.burstErrors++;
            }
          } finally {
            agent.destroy();
          }
        }),
      );
    } finally {
      burstsRunning--;
    }
  };

  const printRow = (minute: number, sample: Sample, prev: Sample | undefined) => {
    const b = buckets[minute - 1]!;
    const s = sample.self;
    const p = prev?.self;
    const perMinute = (f: (r: SelfReport) => number) => fmt(s && p ? f(s) - f(p) : s ? f(s) : NaN, 0);
    const note = [
      minute < warmup ? 'warm-up' : minute === warmup ? 'baseline' : '',
      b.reseedGapsMs.length > 0
        ? `reseeded (gap ${b.reseedGapsMs.map((g) => g.toFixed(0)).join(', ')} ms)`
        : '',
    ]
      .filter(Boolean)
      .join(', ');
    const cells = [
      String(minute),
      fmt(sample.rssMb),
      fmt(s?.heapUsedMb),
      fmt(s?.heapTotalMb),
      fmt(s?.externalMb),
      fmt(b.heapFloorMb),
      '|',
      fmt(s?.cyclesOk, 0),
      fmt(s?.cyclesPartial, 0),
      fmt(s?.cyclesFailed, 0),
      fmt(s?.cyclesSkipped, 0),
      '|',
      perMinute((r) => r.gcMs),
      perMinute((r) => r.gcMajor),
      fmt(b.loopMaxMs, 0),
      fmt(b.servingP99Ms, 1),
      '|',
      String(b.serial.length),
      String(b.serialErrors),
      fmt(quantile(b.serial, 0.5)),
      fmt(quantile(b.serial, 0.99)),
      fmt(maxOf(b.serial)),
      String(b.serial.filter((ms) => ms > SLOW_SCRAPE_MS).length),
      '|',
      String(b.burst.length),
      String(b.burstErrors),
      fmt(quantile(b.burst, 0.99)),
      '|',
      perMinute((r) => r.apiRequests),
      perMinute((r) => r.apiNoAnswer),
      '|',
      fmt(loadavg()[0], 1),
      '|',
      note,
    ];
    console.log(tableLine(widths, cells).trimEnd());
  };

  for (let tick = 1; tick <= minutes * 60; tick++) {
    const wait = t0 + tick * 1000 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const minute = Math.ceil(tick / 60);
    if (exporterExit !== undefined) {
      hardFailure = `the exporter exited (${exporterExit}) in minute ${minute}`;
      break;
    }
    if (simDied) {
      hardFailure = `the simulator process died in minute ${minute}`;
      break;
    }
    if (interrupted) {
      console.log(`interrupted in minute ${minute}`);
      break;
    }
    const bucket = (buckets[minute - 1] ??= {
      serial: [],
      serialErrors: 0,
      burst: [],
      burstErrors: 0,
      heapFloorMb: NaN,
      loopMaxMs: NaN,
      servingP99Ms: NaN,
      reseedGapsMs: [],
    });
    if (reseedSeconds > 0 && tick % reseedSeconds === Math.floor(reseedSeconds / 4) && !reseeding) {
      reseeding = true;
      sim
        .reseed(++seed)
        .then((gap) => bucket.reseedGapsMs.push(gap))
        .catch((err: unknown) => console.error(`reseed failed: ${String(err)}`))
        .finally(() => (reseeding = false));
    }
    if (burstScrapers > 0 && tick % 60 === 30 && burstsRunning === 0) void burst(bucket);

    const r = await scrape(metricsUrl, serialAgent, true);
    if (r.ok) bucket.serial.push(r.ms);
    else bucket.serialErrors++;
    const sample: Sample = {
      t: tick / 60,
      rssMb: rssOf(exporter.child.pid!).currentMb,
      self: r.text === undefined ? undefined : selfReport(r.text),
    };
    samples.push(sample);
    const heap = sample.self?.heapUsedMb;
    if (heap !== undefined && !(heap >= bucket.heapFloorMb)) bucket.heapFloorMb = heap;
    const loop = sample.self?.loopMaxMs;
    if (loop !== undefined && !(loop <= bucket.loopMaxMs)) bucket.loopMaxMs = loop;
    if (sample.self !== undefined) bucket.servingP99Ms = sample.self.servingP99Ms;
    if (tick % 60 === 0) {
      printRow(minute, sample, rows.at(-1)?.sample);
      rows.push({ minute, sample });
    }
  }
  while (burstsRunning > 0) await new Promise((r) => setTimeout(r, 100));

  summarize();
} finally {
  serialAgent.destroy();
  stopCode = await exporter.stop();
  await sim.close();
}
summarizeLog();
if (stopCode !== 0 && hardFailure === undefined) console.error(`exporter exited with ${stopCode} on SIGTERM`);
if (hardFailure !== undefined) {
  console.error(`HARD FAILURE: ${hardFailure}`);
  process.exitCode = 1;
}

function summarize(): void {
  const last = rows.at(-1);
  const baselineRow = rows.find((r) => r.minute === warmup);
  if (!baselineRow || !last || last.minute <= warmup) {
    console.log('\nsummary: the run ended before the warm-up did; nothing to compare');
    return;
  }
  const end = last.minute;
  const span = end - warmup;
  const baseline = samples.filter((s) => s.t > warmup - 1 && s.t <= warmup);
  const after = samples.filter((s) => s.t >= warmup && s.t <= end);
  const firstThird = after.filter((s) => s.t < warmup + span / 3);
  const lastThird = after.filter((s) => s.t >= end - span / 3);

  console.log(
    `\nsummary after the warm-up: minutes ${warmup}-${end}, ${after.length} samples (one per scrape, every second); ` +
      `baseline = medians of minute ${warmup} (the last warm-up minute); first third = minutes ${warmup}-` +
      `${(warmup + span / 3).toFixed(1)}, last third = minutes ${(end - span / 3).toFixed(1)}-${end}`,
  );
  const memWidths = [14, 8, 11, 10, 10, 13, 12, 7, 7];
  console.log(
    tableLine(memWidths, [
      'MB',
      'baseline',
      'first third',
      'last third',
      'last/first',
      'last/baseline',
      'slope MB/min',
      'min',
      'max',
    ]),
  );
  const verdicts: string[] = [];
  let growth = false;
  const values = (list: Sample[], pick: (s: Sample) => number | undefined) =>
    list.map(pick).filter((v): v is number => v !== undefined && !Number.isNaN(v));
  const line = (name: string, pick: (s: Sample) => number | undefined, judged: boolean) => {
    const base = median(values(baseline, pick));
    const first = median(values(firstThird, pick));
    const lastMed = median(values(lastThird, pick));
    const points = after
      .map((s) => ({ x: s.t, y: pick(s) }))
      .filter((p): p is { x: number; y: number } => p.y !== undefined && !Number.isNaN(p.y));
    const k = slope(points);
    const all = points.map((p) => p.y);
    const ratio = lastMed / first;
    console.log(
      tableLine(memWidths, [
        name,
        fmt(base),
        fmt(first),
        fmt(lastMed),
        fmt(ratio, 3),
        fmt(lastMed / base, 3),
        fmt(k, 3),
        fmt(minOf(all)),
        fmt(maxOf(all)),
      ]),
    );
    if (judged) {
      if (!(k < MAX_SLOPE_MB_PER_MIN && ratio < MAX_LAST_FIRST_RATIO)) growth = true;
      verdicts.push(`${name} slope ${fmt(k, 3)} MB/min, last/first ${fmt(ratio, 3)}`);
    }
  };
  line('RSS', (s) => s.rssMb, true);
  line('heapUsed', (s) => s.self?.heapUsedMb, true);
  line('heapTotal', (s) => s.self?.heapTotalMb, false);
  line('external', (s) => s.self?.externalMb, false);
  // The per-minute floor, one point per minute: the live heap without the garbage between collections.
  const floors = buckets.slice(warmup, end).map((b, i) => ({ x: warmup + i + 1, y: b.heapFloorMb }));
  const floorAt = (from: number, to: number) =>
    median(floors.filter((f) => f.x > from && f.x <= to && !Number.isNaN(f.y)).map((f) => f.y));
  const floorFirst = floorAt(warmup, warmup + Math.ceil(span / 3));
  const floorLast = floorAt(end - Math.ceil(span / 3), end);
  const floorBase = buckets[warmup - 1]?.heapFloorMb ?? NaN;
  console.log(
    tableLine(memWidths, [
      'heapFloor/min',
      fmt(floorBase),
      fmt(floorFirst),
      fmt(floorLast),
      fmt(floorLast / floorFirst, 3),
      fmt(floorLast / floorBase, 3),
      fmt(slope(floors.filter((f) => !Number.isNaN(f.y))), 3),
      fmt(minOf(floors.map((f) => f.y))),
      fmt(maxOf(floors.map((f) => f.y))),
    ]),
  );

  const post = buckets.slice(warmup, end);
  const serial = post.flatMap((b) => b.serial);
  const serialErrors = post.reduce((a, b) => a + b.serialErrors, 0);
  const bursts = post.flatMap((b) => b.burst);
  const burstErrors = post.reduce((a, b) => a + b.burstErrors, 0);
  const lat = (v: number[]) =>
    `p50 ${fmt(quantile(v, 0.5))} ms, p99 ${fmt(quantile(v, 0.99))} ms, max ${fmt(maxOf(v))} ms`;
  console.log(
    `  scrapes after the warm-up: 1 s scraper ${serial.length} ok, ${serialErrors} failed, ${lat(serial)}, ` +
      `${serial.filter((ms) => ms > SLOW_SCRAPE_MS).length} over ${SLOW_SCRAPE_MS} ms; ` +
      `bursts ${bursts.length} ok, ${burstErrors} failed, ${lat(bursts)}`,
  );
  const a = baselineRow.sample.self;
  const z = last.sample.self;
  if (a && z) {
    const ok = z.cyclesOk - a.cyclesOk;
    const partial = z.cyclesPartial - a.cyclesPartial;
    console.log(
      `  cycles after the warm-up: ${ok} ok, ${partial} partial, ${z.cyclesFailed - a.cyclesFailed} failed, ` +
        `${z.cyclesSkipped - a.cyclesSkipped} skipped; Sentry requests ${z.apiRequests - a.apiRequests} ` +
        `(${z.apiNoAnswer - a.apiNoAnswer} without an answer)`,
    );
    console.log(
      `  GC after the warm-up: ${((z.gcMs - a.gcMs) / 1000).toFixed(1)} s in ${span} min ` +
        `(${((z.gcMs - a.gcMs) / (span * 600)).toFixed(1)} % of the time), ${z.gcMajor - a.gcMajor} major, ` +
        `${z.gcOver100ms - a.gcOver100ms} pauses of 0.1 s or more`,
    );
    if (ok + partial === 0) hardFailure = 'no collection cycle succeeded after the warm-up';
  }
  if (serial.length === 0) hardFailure = 'every scrape after the warm-up failed';
  console.log(
    `  verdict: ${growth ? 'GROWTH TREND' : 'no growth trend'} (${verdicts.join('; ')}; thresholds: ` +
      `slope < ${MAX_SLOPE_MB_PER_MIN} MB/min and last/first < ${MAX_LAST_FIRST_RATIO.toFixed(2)})`,
  );
}

/** The exporter's log lines by level and message, most frequent first. */
function summarizeLog(): void {
  let text = '';
  try {
    text = readFileSync(exporterLog, 'utf8');
  } catch {
    return;
  }
  const counts = new Map<string, number>();
  let lines = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    lines++;
    let key = line.slice(0, 120);
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      key = `${LEVELS[entry.level ?? 0] ?? `level ${entry.level}`}: ${entry.msg ?? ''}`;
    } catch {
      // not a pino line: counted as it is
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const top = [...counts].sort((x, y) => y[1] - x[1]).slice(0, 5);
  console.log(`  exporter log: ${lines} lines in ${exporterLog}${lines > 0 ? ', most frequent:' : ''}`);
  for (const [key, n] of top) console.log(`    ${String(n).padStart(5)} x ${key}`);
}
