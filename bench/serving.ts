/**
 * What serving a scrape costs the serving thread, without the rest of the exporter:
 *
 *   npm run bench:serving      (about 2 minutes)
 *
 * Each build in BENCH_SERVING_BUILDS (build directories separated by commas, default `dist`; e.g. an earlier
 * commit's build beside this one) serves a fixed body from its own Snapshot and createHttpServer in a process
 * of its own (bench/serving-child.ts), with the V8 flags the exporter runs with, and a bare node:http server
 * answers the same bytes. No simulator and no collection thread: the figures are the serving path's own, and
 * the machine is quieter for it. wrk saturates each server with 8 gzip connections in alternating slices
 * (BENCH_SLICES, default 12, of BENCH_SLICE_SECONDS, default 2); printed are the medians of the scrapes a
 * second and of the serving thread's CPU a scrape, in all and in user space (the kernel's part is mostly
 * copying the bytes into the socket, the same for every server).
 *
 * BENCH_SERVING_BODY_BYTES sets the body (default 700,000, about the gzip exposition of 1,000 projects x 5
 * environments x 12 issues with every family); a small body (1000) shows the cost a request carries
 * whatever its size.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_FLAGS } from '../src/node-flags.js';
import { saturate, startBareServer } from './lib.js';
import type { Saturation } from './lib.js';

const builds = (process.env.BENCH_SERVING_BUILDS ?? 'dist').split(',').filter((b) => b !== '');
const bytes = Number(process.env.BENCH_SERVING_BODY_BYTES ?? 700_000);
const slices = Number(process.env.BENCH_SLICES ?? 12);
const seconds = Number(process.env.BENCH_SLICE_SECONDS ?? 2);

const dir = mkdtempSync(join(tmpdir(), 'bench-serving-'));
const bodyFile = join(dir, 'body');
// Random bytes: the servers never look at them, and they stand for a gzip body (which does not compress).
const body = randomBytes(bytes);
writeFileSync(bodyFile, body);

console.log(
  `serving ${bytes} bytes, gzip; CPUs ${availableParallelism()}, node ${process.version}, ` +
    `load average ${loadavg()[0]!.toFixed(1)} at the start`,
);
const children = await Promise.all(
  builds.map(async (build) => {
    const child = fork(new URL('./serving-child.ts', import.meta.url), [build, bodyFile], {
      execArgv: [...NODE_FLAGS, '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`${build}: the serving process exited (${code})`)));
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    return { name: build, url: `http://127.0.0.1:${port}/metrics`, pid: child.pid!, child, exited };
  }),
);
const bare = await startBareServer(body, {
  'content-type': 'text/plain; version=0.0.4; charset=utf-8',
  'content-encoding': 'gzip',
  vary: 'Accept-Encoding',
  'cache-control': 'no-store',
});
try {
  const servers = [...children, { name: 'bare node:http', url: bare.url, pid: bare.child.pid! }];
  const { client, results } = await saturate(servers, {
    connections: 8,
    seconds,
    slices,
    headers: { 'accept-encoding': 'gzip' },
  });
  console.log(`${client}, 8 connections, ${slices} alternating slices of ${seconds} s each; medians`);
  const floor = results.at(-1)!;
  const line = (name: string, r: Saturation) =>
    console.log(
      `  ${r.perSecond.toFixed(0).padStart(6)} scrapes/s (${(r.perSecond / floor.perSecond).toFixed(2)} x)  ` +
        `CPU a scrape ${r.cpuUsPerRequest.toFixed(1).padStart(6)} µs, user space ${r.userUsPerRequest.toFixed(1).padStart(6)} µs  ` +
        `serving thread ${(r.busy * 100).toFixed(0)} % busy  errors ${r.errors}  ${name}`,
    );
  results.forEach((r, i) => line(servers[i]!.name, r));
  console.log(`load average ${loadavg()[0]!.toFixed(1)} at the end`);
} finally {
  for (const c of children) {
    if (c.child.connected) c.child.disconnect();
    const timer = setTimeout(() => c.child.kill('SIGKILL'), 5000);
    await c.exited;
    clearTimeout(timer);
  }
  await bare.close();
  rmSync(dir, { recursive: true, force: true });
}
