/**
 * The watchdog of blocked test processes (watchdog.ts): a test whose event loop never runs again is ended,
 * with the processes it started, and the run names it; a test that only waits long is left alone.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitUntil } from './wait.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const watchdog = fileURLToPath(new URL('./watchdog.ts', import.meta.url));

// Whether this Node.js's test runner says which test is running (recent 24 releases): the watchdog names
// the blocked test only then. This file's own tests tell.
let runnerPublishesTests = false;
subscribe('tracing:node.test:start', () => {
  runnerPublishesTests = true;
});

const dir = mkdtempSync(path.join(tmpdir(), 'spe-watchdog-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `file` as `npm run test:unit` does, with the watchdog's limit set to `limitMs`. */
function runTests(file: string, limitMs: number): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TEST_WATCHDOG_MS: String(limitMs) };
  delete env.NODE_TEST_CONTEXT; // set by the runner around this file; the child is a run of its own
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', watchdog, '--test', '--test-reporter=tap', file],
    { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a test that blocks its event loop is ended with the processes it started, and the run names it', async () => {
  const file = path.join(dir, 'spin.test.mjs');
  const pidFile = path.join(dir, 'child.pid');
  writeFileSync(
    file,
    [
      "import { spawn } from 'node:child_process';",
      "import { writeFileSync } from 'node:fs';",
      "import { test } from 'node:test';",
      "test('passes first', () => {});",
      "test('spins for ever', async () => {",
      "  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });",
      `  writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));`,
      '  await new Promise((resolve) => child.on("spawn", resolve));',
      '  for (;;);',
      '});',
      "test('comes after', () => {});",
      '',
    ].join('\n'),
  );
  const { code, output } = await runTests(file, 1500);
  assert.equal(code, 1, output);
  assert.doesNotMatch(output, /ok \d+ - comes after/, 'the file ends at the blocked test');
  assert.match(output, /test watchdog: the event loop of \S*spin\.test\.mjs has not run for \d+\.\d s/);
  if (runnerPublishesTests) assert.match(output, /in the test "spins for ever"/);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  assert.match(output, new RegExp(`ending the processes it started \\([\\d, ]*\\b${pid}\\b`));
  await waitUntil(`the process ${pid} the test started to end`, () => !alive(pid));
});

test('a test that waits longer than the limit without blocking is left alone', async () => {
  const file = path.join(dir, 'wait.test.mjs');
  writeFileSync(
    file,
    [
      "import { test } from 'node:test';",
      "test('waits', () => new Promise((resolve) => setTimeout(resolve, 4500)));",
      '',
    ].join('\n'),
  );
  const { code, output } = await runTests(file, 2000);
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, /test watchdog/);
});

test('a test that mocks Date (node:test mock timers) is left alone: the watchdog keeps its own clock', async () => {
  const file = path.join(dir, 'mocked-date.test.mjs');
  writeFileSync(
    file,
    [
      "import { mock, test } from 'node:test';",
      "test('a week ago, then waits', async () => {",
      "  mock.timers.enable({ apis: ['Date'], now: Date.now() - 7 * 86_400_000 });",
      '  await new Promise((resolve) => setTimeout(resolve, 1500));',
      '  mock.timers.reset();',
      '});',
      '',
    ].join('\n'),
  );
  const { code, output } = await runTests(file, 1000);
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, /test watchdog/);
});
