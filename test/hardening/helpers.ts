import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Exporter } from '../../src/app.js';
import { NODE_FLAGS } from '../../src/node-flags.js';
import { parseExposition } from '../helpers/exporter.js';
import { waitForOutput } from '../helpers/process.js';
import { GiveUp, waitUntil } from '../helpers/wait.js';

export { delay, waitUntil } from '../helpers/wait.js';

/** The repository root, so child processes find `src/main.ts` whatever the working directory. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The self-metrics and Sentry families of the exporter, scraped over HTTP like Prometheus does. */
export async function scrapeRows(url: string, init: RequestInit = {}) {
  const res = await fetch(`${url}/metrics`, init);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseExposition(await res.text());
}

/** The value of one series (labels must all match); undefined when absent. */
export function valueOf(
  rows: ReturnType<typeof parseExposition>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return rows.find((r) => r.name === name && Object.entries(labels).every(([k, v]) => r.labels[k] === v))
    ?.value;
}

/** A self-metric of an in-process exporter, read from its snapshot (no HTTP). */
export async function selfValue(
  exporter: Exporter,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const rows = parseExposition((await exporter.snapshot.scrape(false)).body.toString());
  return valueOf(rows, name, labels);
}

export interface LogRecord {
  level: number;
  time: number;
  msg: string;
  [key: string]: unknown;
}

/**
 * pino's JSON lines, parsed; a line that is not JSON, or that writes one of pino's own keys twice (as nested
 * child loggers with the same binding do), fails the test: either would trip up log shippers.
 */
export function logRecords(text: string): LogRecord[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      let record: LogRecord;
      try {
        record = JSON.parse(l) as LogRecord;
      } catch {
        throw new Error(`log line is not JSON: ${l.slice(0, 200)}`);
      }
      for (const key of ['level', 'time', 'msg', 'component', 'service']) {
        if ((l.match(new RegExp(`"${key}":`, 'g')) ?? []).length > 1) {
          throw new Error(`log line has "${key}" twice: ${l.slice(0, 200)}`);
        }
      }
      return record;
    });
}

export interface ChildExporter {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (if still running) and wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the exporter as its own process, exactly as a user runs it (`node --import tsx src/main.ts`), on
 * 127.0.0.1 (port 0 unless `env` names one), collecting everything it writes.
 */
export function startExporterProcess(
  env: NodeJS.ProcessEnv,
  args: string[] = [],
): Pick<ChildExporter, 'child' | 'output' | 'exited'> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, SENTRY_EXPORTER_HOST: '127.0.0.1', SENTRY_EXPORTER_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A test file that ends (or fails) before stopping its child does not leave it running.
  const endChild = () => child.kill('SIGKILL');
  process.once('exit', endChild);
  child.once('exit', () => process.off('exit', endChild));
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, output: () => output, exited };
}

/**
 * The URL the exporter child listens on, from its "listening" log line (info level), so it can listen on
 * port 0. Rejects with the output when the child exits first or does not say within `timeoutMs`.
 */
export async function listeningUrl(
  proc: Pick<ChildExporter, 'child' | 'output'>,
  timeoutMs = 20_000,
): Promise<string> {
  const match = await waitForOutput(
    proc.child,
    proc.output,
    /^\{.*"msg":"sentry-prometheus-exporter listening".*$/m,
    'the exporter child to listen',
    timeoutMs,
  );
  return (JSON.parse(match[0]) as { url: string }).url;
}

/** `startExporterProcess` on a loopback port of its own (port 0), once /livez answers. */
export async function spawnExporterChild(env: NodeJS.ProcessEnv): Promise<ChildExporter> {
  const { child, output, exited } = startExporterProcess(env);
  let url: string;
  try {
    url = await listeningUrl({ child, output });
    await waitUntil('the exporter child to answer /livez', async () => {
      if (child.exitCode !== null) throw new GiveUp(`exited ${child.exitCode}: ${output()}`);
      return (await fetch(`${url}/livez`)).ok;
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url,
    child,
    output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Peak resident memory of a process (Linux), or undefined elsewhere. */
export function peakRss(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Newest modification time under `dir`, ms. */
function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return t;
}

/**
 * The exporter as it runs in production (`npm start`, the image): built JavaScript with the image's V8
 * flag, not through the TypeScript loader, whose own memory would hide what is measured. Built first
 * when dist/ is older than src/ (`npm test` builds before it runs the tests).
 */
export async function spawnBuilt(env: NodeJS.ProcessEnv) {
  const main = join(ROOT, 'dist/src/main.js');
  let built = 0;
  try {
    built = statSync(main).mtimeMs;
  } catch {
    built = 0;
  }
  if (built < newest(join(ROOT, 'src'))) {
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, `build failed: ${r.stdout}${r.stderr}`);
  }
  const child = spawn(process.execPath, [...NODE_FLAGS, main], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, SENTRY_EXPORTER_HOST: '127.0.0.1', SENTRY_EXPORTER_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  let url = '';
  try {
    await waitUntil(
      'the built exporter to listen',
      () => {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${output}`);
        const line = logRecords(output).find((r) => r.msg === 'sentry-prometheus-exporter listening');
        url = typeof line?.url === 'string' ? line.url : '';
        return url !== '';
      },
      20_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, pid: child.pid!, output: () => output, stop };
}
