import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from '../test/helpers/prometheus.js';

export { freePort };

/** Starts the built exporter (dist/) as its own process, so its memory is measured alone. */
export async function spawnExporter(
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; child: ChildProcess; stop(): Promise<number | null> }> {
  const port = await freePort();
  // the V8 flag of `npm start` and the Docker image
  const child = spawn(process.execPath, ['--max-semi-space-size=2', 'dist/src/main.js'], {
    env: {
      PATH: process.env.PATH,
      SENTRY_EXPORTER_HOST: '127.0.0.1',
      SENTRY_EXPORTER_PORT: String(port),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
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
