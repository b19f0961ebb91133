/**
 * The rule for tests that need a program from outside the repository: skipped with one line naming the
 * program and how to install it, except under CI=true, where the test fails.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inCi, onPath } from './tools.js';

const tools = pathToFileURL(fileURLToPath(new URL('./tools.ts', import.meta.url))).href;

/** Runs a one-test file that needs a program nobody has, with the given CI value. */
function runNeedingMissingTool(ci: string | undefined) {
  const dir = mkdtempSync(path.join(tmpdir(), 'spe-tools-'));
  try {
    const file = path.join(dir, 'needs.test.ts');
    writeFileSync(
      file,
      `import { commandTool, testNeeding } from ${JSON.stringify(tools)};\n` +
        `const tool = commandTool('spe-no-such-program', 'apt-get install spe-no-such-package');\n` +
        `testNeeding([tool])('uses the program', () => { throw new Error('ran without the program'); });\n`,
    );
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.CI;
    delete env.NODE_TEST_CONTEXT; // set by the runner around this file; the child is a run of its own
    if (ci !== undefined) env.CI = ci;
    // --test-reporter=tap: a stable format that is read below, whatever the parent run uses.
    return spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', file], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a missing program skips the test with one line naming it and how to install it', () => {
  const r = runNeedingMissingTool(undefined);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /# SKIP needs spe-no-such-program: apt-get install spe-no-such-package\n/);
  assert.match(r.stdout, /^# skipped 1$/m);
});

test('under CI=true a missing program fails the test, naming it', () => {
  const r = runNeedingMissingTool('true');
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /needs spe-no-such-program: apt-get install spe-no-such-package/);
  assert.match(r.stdout, /^# fail 1$/m);
});

test('CI counts as set unless empty, 0, false or no', () => {
  const saved = process.env.CI;
  try {
    for (const [value, expected] of [
      ['true', true],
      ['1', true],
      ['yes', true],
      ['', false],
      ['0', false],
      ['false', false],
      ['no', false],
    ] as const) {
      process.env.CI = value;
      assert.equal(inCi(), expected, `CI=${value}`);
    }
    delete process.env.CI;
    assert.equal(inCi(), false);
  } finally {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  }
});

test('onPath finds an executable on PATH and nothing for an unknown name', () => {
  assert.match(onPath('sh') ?? '', /\/sh$/);
  assert.equal(onPath('spe-no-such-program'), undefined);
});
