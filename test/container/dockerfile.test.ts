/**
 * Lints the Dockerfile with dockerfilelint and checks the properties the image promises: multi-stage,
 * production dependencies only, non-root, port 9790, a node-based HEALTHCHECK on /livez, exec-form CMD
 * (node is PID 1 and gets SIGTERM). The image itself is built and run by test/container/smoke.sh, which
 * test/container/image.test.ts runs where podman is present.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../../src/node-flags.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dockerfile = readFileSync(path.join(repo, 'Dockerfile'), 'utf8');

/** Instructions with their continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => {
    const [op, ...rest] = l.split(/\s+/);
    return { op: op!.toUpperCase(), args: rest.join(' ') };
  });
const finalStage = instructions.slice(instructions.findLastIndex((i) => i.op === 'FROM'));

test('dockerfilelint finds no issue', () => {
  const bin = path.join(repo, 'node_modules/.bin/dockerfilelint');
  const r = spawnSync(bin, ['--output', 'json', 'Dockerfile'], { cwd: repo, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  const report = JSON.parse(r.stdout) as { totalIssues: number };
  assert.equal(report.totalIssues, 0, r.stdout);
});

test('dockerfilelint fails on a bad Dockerfile (the check above can fail)', () => {
  const bin = path.join(repo, 'node_modules/.bin/dockerfilelint');
  const r = spawnSync(bin, ['FROM node:20\nRUN sudo apt-get install curl\nEXPOSE 99999'], {
    encoding: 'utf8',
  });
  assert.notEqual(r.status, 0);
});

test('multi-stage build on node:24-bookworm-slim, production dependencies in the final stage', () => {
  const froms = instructions.filter((i) => i.op === 'FROM').map((i) => i.args);
  assert.ok(froms.length >= 2, 'multi-stage');
  // Node.js 24 LTS in every stage, optionally pinned by digest (node:24-bookworm-slim@sha256:...).
  for (const f of froms) assert.match(f, /^node:24-bookworm-slim(@sha256:[0-9a-f]{64})?(\s|$)/);
  assert.ok(
    instructions.some((i) => i.op === 'RUN' && /npm ci --omit=dev/.test(i.args)),
    'a stage runs npm ci --omit=dev',
  );
  assert.ok(
    instructions.some((i) => i.op === 'RUN' && /npm run build/.test(i.args)),
    'a stage runs npm run build',
  );
  assert.ok(!finalStage.some((i) => i.op === 'RUN'), 'the final stage runs nothing (no shell needed)');
  assert.ok(
    finalStage.some((i) => i.op === 'ENV' && /NODE_ENV=production/.test(i.args)),
    'the final stage sets NODE_ENV=production',
  );
});

test('non-root user, port 9790, HEALTHCHECK on /livez, exec-form CMD', () => {
  const user = finalStage.filter((i) => i.op === 'USER').pop();
  assert.ok(user, 'USER is set');
  assert.match(user.args, /^(1000|node)(:(1000|node))?$/);
  assert.ok(
    finalStage.some((i) => i.op === 'EXPOSE' && i.args === '9790'),
    'the final stage exposes 9790',
  );
  const health = finalStage.find((i) => i.op === 'HEALTHCHECK');
  assert.ok(health, 'the final stage has a HEALTHCHECK');
  assert.match(health.args, /CMD \["node", "-e", ".*\/livez/);
  const cmd = finalStage.find((i) => i.op === 'CMD');
  assert.ok(cmd, 'the final stage has a CMD');
  // The flags on the command line (--liftoff-only works only there), as npm start gives them.
  assert.deepEqual(JSON.parse(cmd.args), ['node', ...NODE_FLAGS, 'dist/src/main.js']);
  const start = (
    JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { scripts: { start: string } }
  ).scripts.start;
  assert.match(start, new RegExp(` node ${NODE_FLAGS.join(' ')} dist/src/main\\.js$`), start);
});

test('.dockerignore keeps local and irrelevant files out of the build context', () => {
  const ignored = readFileSync(path.join(repo, '.dockerignore'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  // sim/ (the Sentry simulator) and the other test tooling stay out of the build and the image.
  for (const p of ['node_modules', 'dist', '.git', '.env', 'test', 'sim', 'bench', 'stryker'])
    assert.ok(ignored.includes(p), p);
  for (const p of ['src', 'package.json', 'package-lock.json', 'tsconfig.json'])
    assert.ok(!ignored.includes(p), p);
});
