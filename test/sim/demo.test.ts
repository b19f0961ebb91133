/**
 * `npm run demo` and `npm run sim` as a newcomer runs them: through npm. A SIGTERM or SIGINT sent to the
 * npm process (what a process supervisor or `kill` does) ends everything the demo started: its ports stop
 * answering and every process below npm is gone. `npm run sim` prints the token and the `npm start` line,
 * and that line works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForOutput } from '../helpers/process.js';
import { waitUntil } from '../helpers/wait.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const hasProc = existsSync('/proc/self/stat');

/** The pid's parent and state from /proc, or undefined once it is gone. */
function procStat(pid: number): { ppid: number; state: string } | undefined {
  try {
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(ppid), state: state ?? '' };
  } catch {
    return undefined;
  }
}

/** Every process below `root`, from /proc. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Gone: no such process, or a zombie waiting for its parent to read its status. */
const gone = (pid: number): boolean => (procStat(pid)?.state ?? 'Z') === 'Z';

/** Resolves true when something accepts a connection and answers at `url`, false when nothing does. */
async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

function npmRun(script: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn('npm', ['run', '--silent', script, ...(args.length > 0 ? ['--', ...args] : [])], {
    cwd: repo,
    env: { ...process.env, ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  return { child, output: () => out };
}

/** Ends what a failed test left behind, by the pids it recorded. */
function killLeftovers(child: ChildProcess, pids: number[]): void {
  for (const pid of pids) {
    try {
      if (!gone(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(
    `${signal} to the npm process of \`npm run demo\` ends the exporter, the simulator and every process below npm`,
    { skip: hasProc ? false : 'reads the process tree from /proc (Linux)' },
    async (t) => {
      const { child, output } = npmRun('demo', [], { SENTRY_EXPORTER_PORT: '0', LOG_LEVEL: 'warn' });
      let pids: number[] = [];
      try {
        const [, metricsUrl] = await waitForOutput(
          child,
          output,
          /Exporter metrics\s+(\S+\/metrics)/,
          'the exporter URL',
          60_000,
        );
        const [, simUrl, token] = await waitForOutput(
          child,
          output,
          /Sentry simulator\s+(\S+)\s+\(org "[^"]+", token "([^"]+)"/,
          'the simulator URL and token',
        );
        assert.equal(token, 'sim-token');
        const res = await fetch(metricsUrl!);
        assert.equal(res.status, 200);
        await res.body?.cancel();
        assert.ok(await answers(`${simUrl}organizations/acme/projects/`), 'the simulator answers');

        pids = descendants(child.pid!);
        const demo = pids.filter((pid) => cmdline(pid).includes('sim/demo.ts'));
        assert.ok(demo.length > 0, `a process runs sim/demo.ts below npm: ${pids.map(cmdline).join(' | ')}`);
        t.diagnostic(`below npm: ${pids.map((pid) => `${pid} ${cmdline(pid).slice(0, 60)}`).join('; ')}`);

        process.kill(child.pid!, signal);
        const [code] = (await once(child, 'exit')) as [number | null];
        assert.equal(code, 0, output().slice(-2000));
        assert.match(output(), new RegExp(`${signal}: stopping the exporter and the simulator`));
        await waitUntil('every process the demo started to end', () => pids.every(gone), 15_000);
        assert.equal(await answers(metricsUrl!), false, 'the exporter port no longer answers');
        assert.equal(await answers(simUrl!), false, 'the simulator port no longer answers');
      } finally {
        killLeftovers(child, pids);
      }
    },
  );
}

test('`npm run sim` listens on port 9000 unless told otherwise', () => {
  const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  // `exec`: npm's signals reach node itself, not a shell that would die and leave node running.
  assert.equal(pkg.scripts.sim, 'exec node --import tsx sim/main.ts --port 9000');
  assert.equal(pkg.scripts.demo, 'exec node --import tsx sim/demo.ts');
});

test(
  '`npm run sim` prints the token and an `npm start` line that runs an exporter against it; SIGTERM ends it',
  { skip: hasProc ? false : 'reads the process tree from /proc (Linux)' },
  async () => {
    // `-- --port 0` overrides the fixed default, as a user with port 9000 taken would.
    const { child, output } = npmRun('sim', ['--port', '0', '--projects', '3']);
    let pids: number[] = [];
    let exporter: ChildProcess | undefined;
    try {
      const [, line] = await waitForOutput(
        child,
        output,
        /\n\s+(SENTRY_BASE_URL=\S+ .*npm start)\n/,
        'the npm start line',
      );
      assert.match(output(), /token:\s+sim-token/);
      pids = descendants(child.pid!);
      // The line as a shell would run it: its variables, then `npm start` (the built exporter); here the same
      // program from source, so the test needs no build.
      const vars = Object.fromEntries(
        [...line!.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!] as [string, string]),
      );
      assert.deepEqual(Object.keys(vars), ['SENTRY_BASE_URL', 'SENTRY_AUTH_TOKEN', 'SENTRY_EXPORTER_ORG']);
      assert.equal(vars.SENTRY_AUTH_TOKEN, 'sim-token');
      assert.equal(vars.SENTRY_EXPORTER_ORG, 'acme');
      const run = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: repo,
        env: { ...process.env, ...vars, SENTRY_EXPORTER_HOST: '127.0.0.1', SENTRY_EXPORTER_PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      exporter = run;
      let log = '';
      run.stdout.setEncoding('utf8').on('data', (c: string) => (log += c));
      run.stderr.setEncoding('utf8').on('data', (c: string) => (log += c));
      const [listening] = await waitForOutput(
        run,
        () => log,
        /^\{.*"msg":"sentry-prometheus-exporter listening".*$/m,
        'the exporter to listen',
      );
      const { url } = JSON.parse(listening) as { url: string };
      await waitUntil(
        'the exporter against `npm run sim` to be ready',
        async () => {
          const r = await fetch(`${url}/healthz`);
          await r.body?.cancel();
          return r.status === 200;
        },
        60_000,
      );
      run.kill('SIGTERM');
      assert.equal(((await once(run, 'exit')) as [number | null])[0], 0);

      process.kill(child.pid!, 'SIGTERM');
      assert.equal(((await once(child, 'exit')) as [number | null])[0], 0);
      await waitUntil('the simulator process to end', () => pids.every(gone), 15_000);
      assert.equal(await answers(vars.SENTRY_BASE_URL!), false, 'the simulator port no longer answers');
    } finally {
      if (exporter && exporter.exitCode === null && exporter.signalCode === null) exporter.kill('SIGKILL');
      killLeftovers(child, pids);
    }
  },
);
