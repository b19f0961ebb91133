/**
 * Where the serving thread's time goes under saturation:
 *
 *   npm run bench:profile      (BENCH_PROFILE_SECONDS, default 20; BENCH_PROFILE_DIR keeps the profiles)
 *
 * Starts the simulator (1,000 projects x 5 environments x 12 issues unless BENCH_* say otherwise) and the
 * built exporter with `--cpu-prof`, waits for steady state (cycles every 5 s keep running), saturates
 * /metrics with 8 gzip connections (wrk, or autocannon when wrk is not installed), then the same for a bare
 * node:http server answering the same bytes (the floor), cycles still running. Then prints, for each, the
 * share of each part of the serving thread's time (the write, Node's HTTP and streams, Fastify, the
 * exporter's own code, garbage collection) and its top frames by self time, counted only over the samples
 * taken while the load ran (V8's profile clock and process.hrtime are the same monotonic clock), and the
 * command that analyses a kept profile again: `tsx bench/profile.ts FILE FROM_US TO_US SCRAPES`.
 * BENCH_EXPORTER_MAIN profiles another build (see bench/lib.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  benchExporterEnv,
  benchOrgSize,
  benchSimOptions,
  forkSimulator,
  rawGet,
  saturate,
  spawnExporter,
  startBareServer,
  waitForSteadyState,
} from './lib.js';

const SECONDS = Number(process.env.BENCH_PROFILE_SECONDS ?? 20);
const TOP = Number(process.env.BENCH_PROFILE_TOP ?? 25);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

function frameKey(frame: ProfileNode['callFrame']): string {
  const file = frame.url
    .replace(/^file:\/\/.*\/node_modules\//, '')
    .replace(/^file:\/\/.*\/dist[^/]*\//, 'dist/');
  return `${frame.functionName || '(anonymous)'} ${file === '' ? '' : `${file}:${frame.lineNumber + 1}`}`.trim();
}

/**
 * Time (µs) per frame over the samples taken between `fromUs` and `toUs` (the monotonic clock): `self`, where
 * the sample was taken, and `total`, anywhere on its stack (each frame counted once a sample).
 */
export function frameTimes(
  profile: CpuProfile,
  fromUs: number,
  toUs: number,
): { self: Map<string, number>; total: Map<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const weight = profile.timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(profile.samples[i]!);
    if (leaf === undefined) continue;
    const key = frameKey(leaf.callFrame);
    self.set(key, (self.get(key) ?? 0) + weight);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const k = frameKey(byId.get(id)!.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + weight);
    }
  }
  return { self, total };
}

/** Self time (µs) per frame over the samples taken between `fromUs` and `toUs` (the monotonic clock). */
export function selfTimes(profile: CpuProfile, fromUs: number, toUs: number): Map<string, number> {
  return frameTimes(profile, fromUs, toUs).self;
}

/** The part of the stack a frame belongs to, by its file. */
function part(key: string): string {
  if (key.startsWith('(idle)')) return 'idle';
  if (key.startsWith('(garbage collector)')) return 'garbage collection';
  if (key.startsWith('(program)')) return 'V8 and native (program)';
  if (key === 'writev') return 'the write (writev: the bytes handed to the kernel)';
  if (key.includes('dist/src/')) return 'exporter code';
  const file = key.slice(key.lastIndexOf(' ') + 1);
  if (
    /^(fastify|@fastify|avvio|find-my-way|light-my-request|fast-json-stringify|pino|thread-stream)\//.test(
      file,
    )
  )
    return 'Fastify, pino and their libraries';
  if (key.includes('node:')) return "Node's HTTP, net and streams";
  return 'native and other';
}

/**
 * Prints where the serving thread's time went between `fromUs` and `toUs` (the monotonic clock), and per
 * scrape when the number of scrapes served in that time is given. Sampled wall time: on a busy machine a
 * thread waiting for a CPU is counted where it waits (mostly in the write).
 */
export function report(file: string, fromUs: number, toUs: number, scrapes?: number): void {
  const { self: times, total: inclusive } = frameTimes(
    JSON.parse(readFileSync(file, 'utf8')) as CpuProfile,
    fromUs,
    toUs,
  );
  const total = [...times.values()].reduce((a, b) => a + b, 0);
  const busy = [...times].filter(([k]) => !k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
  const parts = new Map<string, number>();
  for (const [k, v] of times) parts.set(part(k), (parts.get(part(k)) ?? 0) + v);
  const share = (v: number) =>
    `${((v / total) * 100).toFixed(1).padStart(5)} %` +
    (scrapes === undefined ? '' : ` ${(v / scrapes).toFixed(1).padStart(6)} µs a scrape`);
  console.log(`\nserving thread during the load, ${(total / 1e6).toFixed(1)} s sampled, busy ${share(busy)}`);
  for (const [k, v] of [...parts].sort((a, b) => b[1] - a[1])) console.log(`  ${share(v)}  ${k}`);
  console.log(`\ntop ${TOP} frames by self time (share of all samples during the load)`);
  for (const [k, v] of [...times].sort((a, b) => b[1] - a[1]).slice(0, TOP))
    console.log(`  ${share(v)}  ${k}`);
  console.log("\nthe exporter's own frames by total time (with what they call)");
  for (const [k, v] of [...inclusive]
    .filter(([k]) => k.includes('dist/src/'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12))
    console.log(`  ${share(v)}  ${k}`);
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] !== undefined) {
  // A profile taken before: tsx bench/profile.ts FILE FROM_US TO_US [SCRAPES]
  const [file, from, to, scrapes] = process.argv.slice(2);
  report(
    file!,
    Number(from ?? 0),
    Number(to ?? Infinity),
    scrapes === undefined ? undefined : Number(scrapes),
  );
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.env.BENCH_PROFILE_DIR ?? mkdtempSync(join(tmpdir(), 'bench-profile-'));
  const size = benchOrgSize();
  const sim = await forkSimulator(benchSimOptions(size));
  const exporter = await spawnExporter(benchExporterEnv(sim), {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
  });
  const runs: Array<{ name: string; pid: number; fromUs: number; toUs: number; scrapes: number }> = [];
  /** Saturates one server for SECONDS; remembers the window and the scrapes served. */
  const load = async (name: string, url: string, pid: number): Promise<void> => {
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const { client, results } = await saturate([{ url, pid }], {
      connections: 8,
      seconds: SECONDS,
      slices: 1,
      headers: { 'accept-encoding': 'gzip' },
    });
    const toUs = Number(process.hrtime.bigint() / 1000n);
    const r = results[0]!;
    runs.push({ name, pid, fromUs, toUs, scrapes: Math.round(r.perSecond * ((toUs - fromUs) / 1e6)) });
    console.log(
      `${name}: ${size.projects} x ${size.environments} x ${size.issues}, ${client}, 8 connections gzip, ${SECONDS} s: ` +
        `${r.perSecond.toFixed(0)} scrapes/s, serving thread ${(r.busy * 100).toFixed(0)} % busy, ` +
        `${r.cpuUsPerRequest.toFixed(0)} µs CPU a scrape (profiler on); load average ${loadavg()[0]!.toFixed(1)}`,
    );
  };
  try {
    await waitForSteadyState(exporter.url);
    await load('exporter', `${exporter.url}/metrics`, exporter.child.pid!);
    // The floor: a bare node:http server answering the same bytes, profiled the same way, cycles running.
    const sample = await rawGet(`${exporter.url}/metrics`, { 'accept-encoding': 'gzip' });
    const bare = await startBareServer(
      sample.body,
      {
        'content-type': sample.headers['content-type'] ?? 'text/plain',
        'content-encoding': 'gzip',
        vary: 'Accept-Encoding',
        'cache-control': 'no-store',
      },
      ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    );
    try {
      await load('bare node:http', bare.url, bare.child.pid!);
    } finally {
      await bare.close();
    }
  } finally {
    await exporter.stop();
    await sim.close();
  }
  for (const run of runs) {
    // The main thread's profile: CPU.<date>.<pid>.0.<n>.cpuprofile (worker threads have other thread ids).
    const file = readdirSync(dir).find((f) => f.includes(`.${run.pid}.0.`));
    if (file === undefined) throw new Error(`no profile of ${run.name}'s serving thread in ${dir}`);
    console.log(
      `\n${run.name}; again: tsx bench/profile.ts ${join(dir, file)} ${run.fromUs} ${run.toUs} ${run.scrapes}`,
    );
    report(join(dir, file), run.fromUs, run.toUs, run.scrapes);
  }
  if (process.env.BENCH_PROFILE_DIR === undefined) rmSync(dir, { recursive: true, force: true });
  else console.log(`\nprofiles kept in ${dir}`);
}
