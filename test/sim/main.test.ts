import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../sim/main.ts', import.meta.url));

test('the CLI starts a simulator from flags, prints url/org/token and stops on SIGTERM', async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, '--projects', '3', '--org', 'globex', '--token', 'tok', '--rate-limit', '7'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    let out = '';
    child.stdout.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        const match = /url:\s+(\S+)/.exec(out);
        if (match && out.includes('token:')) resolve(match[1] ?? '');
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    });
    assert.match(out, /org:\s+globex/);
    assert.match(out, /token:\s+tok/);
    const res = await fetch(`${url}organizations/globex/projects/`, {
      headers: { Authorization: 'Bearer tok' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-sentry-rate-limit-limit'), '7');
    assert.equal(((await res.json()) as unknown[]).length, 3);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

test('the CLI rejects bad flags with a usage message', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--projects', 'many'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (err += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 2);
  assert.match(err, /--projects expects a non-negative integer/);
  assert.match(err, /Usage:/);
});
