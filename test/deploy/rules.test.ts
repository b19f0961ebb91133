/**
 * The alert rules are checked and unit-tested with promtool (Debian's `prometheus` package), and the
 * Compose file's Prometheus configuration is checked the same way.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROMTOOL, testNeeding } from '../helpers/tools.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const promtoolTest = testNeeding([PROMTOOL]);

function promtool(...args: string[]): { status: number; output: string } {
  const r = spawnSync('promtool', args, { cwd: repo, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

promtoolTest('promtool check rules accepts prometheus/alerts.yml', () => {
  const r = promtool('check', 'rules', 'prometheus/alerts.yml');
  assert.equal(r.status, 0, r.output);
  // every rule of the file is loaded (the count comes from the file itself: one `- alert:` per rule)
  const rules = (readFileSync('prometheus/alerts.yml', 'utf8').match(/^\s*- alert: /gm) ?? []).length;
  assert.match(r.output, new RegExp(`SUCCESS: ${rules} rules found`));
});

promtoolTest('promtool test rules passes prometheus/alerts.test.yml', () => {
  const r = promtool('test', 'rules', 'prometheus/alerts.test.yml');
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /SUCCESS/);
});

promtoolTest('the Compose Prometheus configuration is valid and loads the alert rules', () => {
  // In the container both files sit in /etc/prometheus; mirror that layout.
  const dir = mkdtempSync(path.join(tmpdir(), 'compose-prom-'));
  try {
    copyFileSync(path.join(repo, 'deploy/compose/prometheus.yml'), path.join(dir, 'prometheus.yml'));
    copyFileSync(path.join(repo, 'prometheus/alerts.yml'), path.join(dir, 'alerts.yml'));
    const r = promtool('check', 'config', path.join(dir, 'prometheus.yml'));
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /SUCCESS: 1 rule files found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

promtoolTest('the PromQL examples of docs/metrics.md are PromQL that Prometheus parses', () => {
  const doc = readFileSync(path.join(repo, 'docs/metrics.md'), 'utf8');
  const examples = [...doc.matchAll(/```promql\n([\s\S]*?)```/g)].map((m) =>
    m[1]!
      .split('\n')
      .filter((l) => !l.trimStart().startsWith('#'))
      .join('\n')
      .trim(),
  );
  assert.ok(examples.length > 0, 'docs/metrics.md has PromQL examples');
  const dir = mkdtempSync(path.join(tmpdir(), 'docs-promql-'));
  try {
    const file = path.join(dir, 'examples.yml');
    const rules = examples.map((expr, i) => ({ record: `docs_example_${i}`, expr }));
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'docs', rules }] }));
    const r = promtool('check', 'rules', file);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, new RegExp(`SUCCESS: ${rules.length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
