import { fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GroundTruth, SimOptions } from '../sim/index.js';
import { NODE_FLAGS } from '../src/node-flags.js';
import { freePort } from '../test/helpers/prometheus.js';

export { freePort };

/** Size of the simulated organization: 1,000 projects x 5 environments x 12 issues unless BENCH_* say otherwise. */
export interface OrgSize {
  projects: number;
  environments: number;
  issues: number;
}

export function benchOrgSize(): OrgSize {
  return {
    projects: Number(process.env.BENCH_PROJECTS ?? 1000),
    environments: Number(process.env.BENCH_ENVIRONMENTS ?? 5),
    issues: Number(process.env.BENCH_ISSUES ?? 12),
  };
}

/** Simulator options for that organization, with a rate limit above what `benchExporterEnv` sends. */
export function benchSimOptions(size: OrgSize, seed = 1): SimOptions {
  return {
    seed,
    projects: size.projects,
    environmentsPerProject: size.environments,
    issuesPerProject: size.issues,
    rateLimit: { perSecond: 100, concurrent: 50 },
  };
}

/**
 * More exporter settings for every benchmark run, from BENCH_EXPORTER_ENV (`NAME=value` pairs separated by
 * spaces), e.g. `SENTRY_SCRAPE_OUTCOME_METRICS=false` to measure with fewer families.
 */
export function extraExporterEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const pair of (process.env.BENCH_EXPORTER_ENV ?? '').split(' ')) {
    const eq = pair.indexOf('=');
    if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** The exporter's settings in the benchmarks: a cycle every 5 s, at most 80 requests/s to the simulator. */
export function benchExporterEnv(sim: { url: string; token: string; org: string }): NodeJS.ProcessEnv {
  return {
    SENTRY_BASE_URL: sim.url,
    SENTRY_AUTH_TOKEN: sim.token,
    SENTRY_EXPORTER_ORG: sim.org,
    SENTRY_POLL_INTERVAL: '5',
    SENTRY_API_RATE: '80',
    SENTRY_API_CONCURRENCY: '8',
    ...extraExporterEnv(),
  };
}

/**
 * The exporter the benchmarks run: the build in dist/, or BENCH_EXPORTER_MAIN (another build's main.js, e.g.
 * an earlier commit's, to measure a change against it on the same machine).
 */
const EXPORTER_MAIN = process.env.BENCH_EXPORTER_MAIN ?? 'dist/src/main.js';

/**
 * Starts the built exporter (dist/) as its own process, so its memory is measured alone. Its log goes to the
 * benchmark's output, or to `logFile` when given.
 */
export async function spawnExporter(
  env: NodeJS.ProcessEnv,
  options: { logFile?: string; nodeArgs?: string[]; main?: string } = {},
): Promise<{ url: string; child: ChildProcess; stop(): Promise<number | null> }> {
  const port = await freePort();
  const log = options.logFile === undefined ? 'inherit' : openSync(options.logFile, 'w');
  // the flags of `npm start` and the Docker image; BENCH_NODE_ARGS: more node flags, to try settings
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, ...extra, ...(options.nodeArgs ?? []), options.main ?? EXPORTER_MAIN],
    {
      env: {
        PATH: process.env.PATH,
        // as the Docker image sets them
        MALLOC_ARENA_MAX: '2',
        MALLOC_MMAP_THRESHOLD_: '131072',
        SENTRY_EXPORTER_HOST: '127.0.0.1',
        SENTRY_EXPORTER_PORT: String(port),
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', log, log],
    },
  );
  if (typeof log === 'number') closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/livez`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    child,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Peak and current resident set size of a process, from /proc (Linux). */
export function rssOf(pid: number): { peakMb: number; currentMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakMb: kb('VmHWM') / 1024, currentMb: kb('VmRSS') / 1024 };
}

export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Scrapes until a full cycle has run after the first one that published open issues. */
export async function waitForSteadyState(url: string): Promise<void> {
  await waitUntil('/healthz 200', async () => (await fetch(`${url}/healthz`)).ok, 600_000);
  let text = '';
  await waitUntil(
    'the open issues on /metrics',
    async () => (text = await (await fetch(`${url}/metrics`)).text()).includes('\nsentry_open_issue_events{'),
    600_000,
  );
  const cycles = metricValue(text, 'sentry_exporter_cycles_total');
  await waitUntil(
    'two more cycles',
    async () =>
      metricValue(await (await fetch(`${url}/metrics`)).text(), 'sentry_exporter_cycles_total') >= cycles + 2,
    120_000,
  );
}

/** Nearest-rank quantile (q in 0..1) of the values; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** Least-squares slope of y over x; NaN for fewer than two distinct x. */
export function slope(points: ReadonlyArray<{ x: number; y: number }>): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  return sxx === 0 ? NaN : sxy / sxx;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A metric's value (sum over series matching the label filter) in an exposition. */
export function metricValue(text: string, name: string, labelFilter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      if (labelFilter === '' || line.includes(labelFilter))
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

/** Messages between `forkSimulator` and bench/sim-process.ts. */
export type SimProcessCall =
  | { type: 'start'; options: SimOptions }
  | { type: 'reseed'; seed: number }
  | { type: 'counters' }
  | { type: 'truth' }
  | { type: 'close' };
export type SimProcessRequest = SimProcessCall & { id: number };
export type SimProcessReply =
  | { id: number; type: 'started'; url: string; port: number; org: string; token: string }
  | { id: number; type: 'reseeded'; gapMs: number }
  | ({ id: number; type: 'counters' } & SimRequestTotals)
  | { id: number; type: 'truth'; truth: GroundTruth }
  | { id: number; type: 'closed' }
  | { id: number; type: 'error'; message: string };

/** The simulator's request counts since it started (or was reseeded). */
export interface SimRequestTotals {
  total: number;
  byEndpoint: Record<string, number>;
  rateLimited: number;
}

export interface SimProcess {
  url: string;
  org: string;
  token: string;
  child: ChildProcess;
  /** New data from another seed under the same address; resolves with how long the simulator was away (ms). */
  reseed(seed: number): Promise<number>;
  counters(): Promise<SimRequestTotals>;
  truth(): Promise<GroundTruth>;
  close(): Promise<void>;
}

/**
 * Starts the simulator in a process of its own (bench/sim-process.ts), so that its work (answering the
 * exporter, generating data) never delays the benchmark's own timers and latency measurements.
 */
export async function forkSimulator(options: SimOptions): Promise<SimProcess> {
  const child = fork(new URL('./sim-process.ts', import.meta.url), {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const pending = new Map<number, { resolve(r: SimProcessReply): void; reject(e: Error): void }>();
  child.on('message', (msg: SimProcessReply) => {
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.type === 'error') p?.reject(new Error(`simulator process: ${msg.message}`));
    else p?.resolve(msg);
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const p of pending.values()) p.reject(new Error(`simulator process exited (${code ?? signal})`));
      pending.clear();
      resolve();
    }),
  );
  const call = (req: SimProcessCall) =>
    new Promise<SimProcessReply>((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error('simulator process is not running'));
        return;
      }
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ ...req, id });
    });
  let started: SimProcessReply;
  try {
    started = await call({ type: 'start', options });
  } catch (err) {
    child.kill();
    throw err;
  }
  if (started.type !== 'started') throw new Error(`simulator process answered ${started.type}`);
  return {
    url: started.url,
    org: started.org,
    token: started.token,
    child,
    async reseed(seed) {
      const reply = await call({ type: 'reseed', seed });
      return reply.type === 'reseeded' ? reply.gapMs : NaN;
    },
    async counters() {
      const reply = await call({ type: 'counters' });
      if (reply.type !== 'counters') throw new Error(`simulator process answered ${reply.type}`);
      return { total: reply.total, byEndpoint: reply.byEndpoint, rateLimited: reply.rateLimited };
    },
    async truth() {
      const reply = await call({ type: 'truth' });
      if (reply.type !== 'truth') throw new Error(`simulator process answered ${reply.type}`);
      return reply.truth;
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        await call({ type: 'close' }).catch(() => undefined);
        if (child.connected) child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** One GET without decoding the body: status, headers and the raw bytes (gzip stays gzip). */
export function rawGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: Object.fromEntries(
            Object.entries(res.headers).filter((e): e is [string, string] => typeof e[1] === 'string'),
          ),
          body: Buffer.concat(chunks),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts bench/bare-server.ts in a process of its own (with the exporter's V8 flag), answering every request
 * with `body` and `headers`.
 */
export async function startBareServer(
  body: Buffer,
  headers: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<{ url: string; child: ChildProcess; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bare-'));
  const file = join(dir, 'body');
  writeFileSync(file, body);
  const child = fork(new URL('./bare-server.ts', import.meta.url), [file, JSON.stringify(headers)], {
    execArgv: ['--max-semi-space-size=2', ...nodeArgs, '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`bare server exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    child,
    async close() {
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Open-loop load: `perSecond` GETs to each URL for `seconds`, sent on schedule whether or not earlier ones
 * have been answered (as Prometheus does), the URLs' schedules interleaved. Each latency is from the
 * scheduled send time to the last byte, so a scrape held up by the one before it counts in full. Returns the
 * latencies (ms) per URL and the failures.
 */
export async function openLoop(
  urls: readonly string[],
  perSecond: number,
  seconds: number,
  headers: Record<string, string> = {},
): Promise<Array<{ ms: number[]; failed: number }>> {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const results = urls.map(() => ({ ms: [] as number[], failed: 0 }));
  const gapMs = 1000 / perSecond;
  const jobs: Array<Promise<void>> = [];
  const t0 = performance.now() + 50;
  try {
    for (let i = 0; i < perSecond * seconds; i++) {
      for (let u = 0; u < urls.length; u++) {
        const at = t0 + i * gapMs + (u * gapMs) / urls.length;
        const wait = at - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const result = results[u]!;
        jobs.push(
          new Promise<void>((resolve) => {
            const req = request(urls[u]!, { agent, headers, timeout: 10_000 }, (res) => {
              res.on('data', () => undefined);
              res.on('end', () => {
                if (res.statusCode === 200) result.ms.push(performance.now() - at);
                else result.failed++;
                resolve();
              });
              res.on('error', () => {
                result.failed++;
                resolve();
              });
            });
            req.on('timeout', () => req.destroy(new Error('timeout')));
            req.on('error', () => {
              result.failed++;
              resolve();
            });
            req.end();
          }),
        );
      }
    }
    await Promise.all(jobs);
    return results;
  } finally {
    agent.destroy();
  }
}

/** One saturated slice against one server: requests a second and latency, and its serving thread's CPU. */
export interface SaturationSlice {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Failed or non-2xx requests. */
  errors: number;
  /** Share of one CPU the server's main (serving) thread used during the slice, 0..1; NaN when unknown. */
  busy: number;
  /** CPU time of the serving thread per request, microseconds; NaN when unknown. */
  cpuUsPerRequest: number;
  /** The part of it in user space (the rest is the kernel's: mostly copying the bytes into the socket). */
  userUsPerRequest: number;
  /** The 1-minute load average when the slice ended. */
  load: number;
}

/** The medians of a server's slices. */
export interface Saturation {
  slices: SaturationSlice[];
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  busy: number;
  cpuUsPerRequest: number;
  userUsPerRequest: number;
  errors: number;
}

/** The load clients of `saturate`: wrk (a C client) when installed, else autocannon (JavaScript). */
export type SaturationClient = 'wrk' | 'autocannon';

/** wrk's path when it is installed. */
export function wrkPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const file = join(dir || '.', 'wrk');
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** Prints wrk's summary as one JSON line at the end of a run. */
const WRK_REPORT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\nWRK-JSON {"requests":%d,"durationUs":%d,"errors":%d,"p50Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

/** CPU time of a process's main thread so far, microseconds, in user space and in the kernel; NaN when unknown. */
export function mainThreadCpuUs(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    // The fields after the command name (which may hold spaces), from the 3rd on: utime is the 14th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      user: (Number(fields[11]) * 1e6) / CLOCK_TICKS,
      system: (Number(fields[12]) * 1e6) / CLOCK_TICKS,
    };
  } catch {
    return { user: NaN, system: NaN };
  }
}
/** USER_HZ: /proc reports CPU time in these ticks (100 on Linux on every common architecture). */
const CLOCK_TICKS = 100;

async function wrkSlice(
  wrk: string,
  url: string,
  o: { connections: number; seconds: number; headers: Record<string, string>; script: string },
): Promise<Omit<SaturationSlice, 'busy' | 'cpuUsPerRequest' | 'userUsPerRequest' | 'load'>> {
  const args = [
    `-t${Math.min(o.connections, availableParallelism())}`,
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    '-s',
    o.script,
    ...Object.entries(o.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
    url,
  ];
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited (${code})`))));
  });
  const line = /^WRK-JSON (.*)$/m.exec(out)?.[1];
  if (line === undefined) throw new Error(`wrk printed no summary:\n${out}`);
  const r = JSON.parse(line) as {
    requests: number;
    durationUs: number;
    errors: number;
    p50Us: number;
    p99Us: number;
  };
  return {
    perSecond: r.requests / (r.durationUs / 1e6),
    p50Ms: r.p50Us / 1000,
    p99Ms: r.p99Us / 1000,
    errors: r.errors,
  };
}

async function autocannonSlice(
  url: string,
  o: { connections: number; seconds: number; headers: Record<string, string> },
): Promise<Omit<SaturationSlice, 'busy' | 'cpuUsPerRequest' | 'userUsPerRequest' | 'load'>> {
  const { default: autocannon } = await import('autocannon');
  const r = await autocannon({ url, connections: o.connections, duration: o.seconds, headers: o.headers });
  return {
    perSecond: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.non2xx,
  };
}

/**
 * Saturated throughput of several servers measured in alternating slices (`slices` of `seconds` each, the
 * order of the servers reversed every round), so that every server sees the same machine: on a shared
 * machine, load that comes and goes falls on all of them alike. Each server is given as its URL and the pid
 * of its process, whose main thread's CPU time is read around each slice (Linux /proc): a serving thread
 * well below 100 % busy means the client or the machine, not the server, limited the figure.
 */
export async function saturate(
  servers: ReadonlyArray<{ url: string; pid: number }>,
  o: {
    connections: number;
    seconds: number;
    slices: number;
    headers: Record<string, string>;
    client?: SaturationClient;
  },
): Promise<{ client: SaturationClient; results: Saturation[] }> {
  const wrk = wrkPath();
  const client: SaturationClient = o.client ?? (wrk === undefined ? 'autocannon' : 'wrk');
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  const script = join(dir, 'report.lua');
  writeFileSync(script, WRK_REPORT);
  const slices: SaturationSlice[][] = servers.map(() => []);
  try {
    for (let round = 0; round < o.slices; round++) {
      const order = servers.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) {
        const { url, pid } = servers[i]!;
        const cpu0 = mainThreadCpuUs(pid);
        const t0 = performance.now();
        const r =
          client === 'wrk'
            ? await wrkSlice(wrk ?? 'wrk', url, { ...o, script })
            : await autocannonSlice(url, o);
        const wallUs = (performance.now() - t0) * 1000;
        const cpu1 = mainThreadCpuUs(pid);
        const cpuUs = cpu1.user + cpu1.system - (cpu0.user + cpu0.system);
        const requests = r.perSecond * (wallUs / 1e6);
        slices[i]!.push({
          ...r,
          busy: cpuUs / wallUs,
          cpuUsPerRequest: requests > 0 ? cpuUs / requests : NaN,
          userUsPerRequest: requests > 0 ? (cpu1.user - cpu0.user) / requests : NaN,
          load: loadavg()[0]!,
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    client,
    results: slices.map((s) => ({
      slices: s,
      perSecond: median(s.map((x) => x.perSecond)),
      p50Ms: median(s.map((x) => x.p50Ms)),
      p99Ms: median(s.map((x) => x.p99Ms)),
      busy: median(s.map((x) => x.busy)),
      cpuUsPerRequest: median(s.map((x) => x.cpuUsPerRequest)),
      userUsPerRequest: median(s.map((x) => x.userUsPerRequest)),
      errors: s.reduce((sum, x) => sum + x.errors, 0),
    })),
  };
}
