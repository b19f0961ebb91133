/**
 * The folder listing shows the data flow, and imports run one way only:
 *
 *   config -> sentry -> collectors -> metrics -> pipeline -> http -> app -> main
 *
 * (a module imports only from its own folder or from folders before it; log.ts, version.ts and node-flags.ts are leaves
 * anyone may use). This test reads every import under src/ and fails on one that reaches back up, on a
 * folder cycle, and on product code that imports test tooling (sim/, test/, bench/).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(repo, 'src');

/** Layer of each part of src/, lowest first. */
const LAYERS = ['(leaf)', 'config', 'sentry', 'collectors', 'metrics', 'pipeline', 'http', 'app', 'main'];

function partOf(file: string): string {
  const rel = path.relative(src, file);
  if (rel.startsWith('..')) return `outside:${path.relative(repo, file).split(path.sep)[0] ?? ''}`;
  const [first] = rel.split(path.sep);
  if (first === 'log.ts' || first === 'version.ts' || first === 'node-flags.ts') return '(leaf)';
  if (first === 'app.ts') return 'app';
  if (first === 'main.ts') return 'main';
  return first ?? '';
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

interface Import {
  from: string;
  to: string;
}

function imports(): Import[] {
  const out: Import[] = [];
  for (const file of sources(src)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)) {
      const target = path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts'));
      out.push({ from: file, to: target });
    }
  }
  return out;
}

test('every folder of src/ has a place in the layers', () => {
  const parts = new Set(sources(src).map(partOf));
  for (const part of parts) assert.ok(LAYERS.includes(part), `src part "${part}" has no layer`);
});

test('imports run one way: no module reaches back up, no folder imports test tooling', () => {
  const all = imports();
  assert.ok(all.length > 50, `read ${all.length} imports`);
  const wrong: string[] = [];
  for (const { from, to } of all) {
    const a = partOf(from);
    const b = partOf(to);
    const where = `${path.relative(repo, from)} -> ${path.relative(repo, to)}`;
    if (b.startsWith('outside:')) wrong.push(`${where}: product code imports ${b.slice(8)}/`);
    else if (LAYERS.indexOf(b) > LAYERS.indexOf(a)) wrong.push(`${where}: ${a} reaches up to ${b}`);
  }
  assert.deepEqual(wrong, []);
});

test('no folder cycle: the folder graph has a topological order', () => {
  const edges = new Map<string, Set<string>>();
  for (const { from, to } of imports()) {
    const a = partOf(from);
    const b = partOf(to);
    if (a === b) continue;
    if (!edges.has(a)) edges.set(a, new Set());
    edges.get(a)!.add(b);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: string, trail: string[]): void => {
    if (state.get(n) === 'done') return;
    assert.notEqual(state.get(n), 'visiting', `folder cycle: ${[...trail, n].join(' -> ')}`);
    state.set(n, 'visiting');
    for (const m of edges.get(n) ?? []) visit(m, [...trail, n]);
    state.set(n, 'done');
  };
  for (const n of edges.keys()) visit(n, []);
});

test('the checks can fail: an import from collectors to pipeline would be reported', () => {
  const from = path.join(src, 'collectors', 'x.ts');
  const to = path.join(src, 'pipeline', 'scheduler.ts');
  assert.ok(
    LAYERS.indexOf(partOf(to)) > LAYERS.indexOf(partOf(from)),
    'pipeline comes after collectors in LAYERS, so that import goes back up and is reported',
  );
  assert.equal(partOf(path.join(repo, 'sim', 'index.ts')), 'outside:sim');
});

test('no file of src/ is over 500 lines, and the collection thread is a thin adapter (under 80)', () => {
  const lines = (file: string) => readFileSync(file, 'utf8').split('\n').length - 1;
  const long = sources(src)
    .map((file) => [path.relative(repo, file), lines(file)] as const)
    .filter(([, n]) => n > 500);
  assert.deepEqual(long, [], 'files over 500 lines');
  const worker = lines(path.join(src, 'pipeline', 'worker.ts'));
  assert.ok(worker < 80, `src/pipeline/worker.ts has ${worker} lines`);
});
