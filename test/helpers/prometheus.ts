import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForOutput } from './process.js';
import { GiveUp, waitUntil } from './wait.js';

/**
 * A free TCP port on 127.0.0.1 (bound, read, released): racy, since another process may take it before
 * the caller binds it. Tests let their servers listen on port 0 instead; the benchmarks still use this.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface RunningPrometheus {
  url: string;
  /** Instant query; returns the result vector as `{ labels, value }`. */
  query(promql: string): Promise<Array<{ labels: Record<string, string>; value: number }>>;
  /** Polls until `check` returns true (or throws after `timeoutMs`). */
  waitFor(what: string, check: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  logs(): string;
}

/**
 * Starts Debian's real `prometheus` binary on a loopback port of its own choosing (port 0, read back from
 * its "Listening on" log line) with the given scrape config (YAML text for `scrape_configs`), in a
 * temporary data directory that is removed on stop. `ruleFiles`: rule files it loads (absolute paths),
 * evaluated every second.
 */
export async function startPrometheus(
  scrapeConfigsYaml: string,
  opts: { ruleFiles?: readonly string[] } = {},
): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'spe-prometheus-'));
  const rules = (opts.ruleFiles ?? []).map((f) => `  - ${JSON.stringify(f)}\n`).join('');
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n${rules === '' ? '' : `rule_files:\n${rules}`}scrape_configs:\n${scrapeConfigsYaml}`,
  );
  let output = '';
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
      // info, for the "Listening on" line that carries the port.
      '--log.level=info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let url: string;
  try {
    // 2.x logs `msg="Listening on" address=127.0.0.1:PORT` (logfmt); 3.x the same keys through slog.
    const listening = await waitForOutput(
      child,
      () => output,
      /msg="Listening on" address=(127\.0\.0\.1:\d+)/,
      'prometheus to listen',
    );
    url = `http://${listening[1]}`;
  } catch (err) {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const query: RunningPrometheus['query'] = async (promql) => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (body.status !== 'success' || !body.data) throw new Error(`query ${promql} failed: ${body.error}`);
    return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
  };

  const waitFor: RunningPrometheus['waitFor'] = async (what, check, timeoutMs = 40_000) => {
    try {
      await waitUntil(
        what,
        () => {
          if (child.exitCode !== null) throw new GiveUp(`prometheus exited with ${child.exitCode}`);
          return check();
        },
        timeoutMs,
        300,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; prometheus said: ${output}`);
    }
  };

  await waitFor('prometheus to answer', async () => (await fetch(`${url}/-/ready`)).ok);
  return {
    url,
    query,
    waitFor,
    logs: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
