/**
 * The documentation renders as written: every table in README.md, docs/ and the chart's README is a real
 * table (header, separator row, every row with the header's cell count; no table rows left over as a
 * paragraph full of `|`), every relative link and anchor leads somewhere, README stays short, and the
 * reference in docs/ names every setting and every metric family. Tables are found with markdown-it, the
 * parser behind many renderers, then their source rows are counted cell by cell the way GFM splits them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import MarkdownIt from 'markdown-it';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const md = new MarkdownIt();

const FILES = [
  'README.md',
  ...readdirSync(path.join(repo, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  'helm/sentry-prometheus-exporter/README.md',
];

/** Cells of a table row as GFM splits them: on every `|` not escaped with a backslash. */
export function cellCount(row: string): number {
  let line = row.trim();
  if (line.startsWith('|')) line = line.slice(1);
  if (line.endsWith('|') && !line.endsWith('\\|')) line = line.slice(0, -1);
  let cells = 1;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\') i++;
    else if (line[i] === '|') cells++;
  }
  return cells;
}

const SEPARATOR = /^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?$/;

/** Problems with the tables of a markdown text, each naming its line (1-based). */
export function tableProblems(text: string): string[] {
  const lines = text.split('\n');
  const problems: string[] = [];
  const tokens = md.parse(text, {});
  let header: number | undefined;
  let tableStart = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.type === 'table_open') {
      tableStart = token.map![0];
      header = undefined;
      const separator = lines[tableStart + 1] ?? '';
      if (!SEPARATOR.test(separator.trim()))
        problems.push(`line ${tableStart + 2}: no separator row under the table header`);
    } else if (token.type === 'tr_open') {
      const line = token.map![0];
      const cells = cellCount(lines[line]!);
      if (header === undefined) header = cells;
      else if (cells !== header)
        problems.push(
          `line ${line + 1}: ${cells} cells, the header of the table at line ${tableStart + 1} has ${header}`,
        );
    } else if (token.type === 'paragraph_open') {
      // Rows cut off from their table (a paragraph or blank line in between) render as text full of `|`.
      const [from, to] = token.map!;
      for (let line = from; line < to; line++) {
        const source = lines[line]!.trim();
        if (source.startsWith('|') && cellCount(source) > 1)
          problems.push(
            `line ${line + 1}: a table row outside any table (renders as text): ${source.slice(0, 60)}`,
          );
      }
    }
  }
  return problems;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(text: string): Set<string> {
  const tokens = md.parse(text, {});
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]!.type !== 'heading_open') continue;
    const inline = tokens[i + 1]!;
    const plain = (inline.children ?? [])
      .filter((c) => c.type === 'text' || c.type === 'code_inline')
      .map((c) => c.content)
      .join('');
    const base = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    found.add(n === 0 ? base : `${base}-${n}`);
  }
  return found;
}

/** Relative link targets of a markdown text (http links and mail are left out). */
function links(text: string): string[] {
  const hrefs: string[] = [];
  const walk = (tokens: ReturnType<typeof md.parse>): void => {
    for (const token of tokens) {
      if (token.type === 'link_open') hrefs.push(String(token.attrGet('href') ?? ''));
      if (token.children) walk(token.children);
    }
  };
  walk(md.parse(text, {}));
  return hrefs.filter((h) => !/^[a-z]+:/i.test(h));
}

test('the table check finds rows cut off from their table and rows with the wrong number of cells', () => {
  // The shape the README's Metrics table once had: a paragraph inside the table.
  const cut = [
    '| Metric | Type |',
    '| --- | --- |',
    '| `a` | gauge |',
    '',
    'A paragraph in the middle.',
    '| `b` | counter |',
  ].join('\n');
  assert.deepEqual(tableProblems(cut), [
    'line 6: a table row outside any table (renders as text): | `b` | counter |',
  ]);
  const wide = ['| A | B |', '| --- | --- |', '| 1 | 2 | 3 |', '| 1 \\| 2 | 3 |'].join('\n');
  assert.deepEqual(tableProblems(wide), ['line 3: 3 cells, the header of the table at line 1 has 2']);
  const noSeparator = ['| A | B |', '| 1 | 2 |'].join('\n');
  assert.equal(tableProblems(noSeparator).length, 2, 'neither row is in a table');
  assert.deepEqual(tableProblems(['| A | B |', '| --- | --- |', '| 1 | 2 |'].join('\n')), []);
});

for (const file of FILES) {
  test(`${file}: every table is well-formed`, () => {
    const text = readFileSync(path.join(repo, file), 'utf8');
    assert.ok(
      md.parse(text, {}).some((t) => t.type === 'table_open') || !text.includes('| --- |'),
      'markdown-it finds the tables',
    );
    assert.deepEqual(tableProblems(text), []);
  });

  test(`${file}: every relative link and anchor leads somewhere`, () => {
    const text = readFileSync(path.join(repo, file), 'utf8');
    const problems: string[] = [];
    for (const href of links(text)) {
      const [target = '', anchor] = href.split('#');
      const resolved =
        target === '' ? path.join(repo, file) : path.resolve(path.dirname(path.join(repo, file)), target);
      if (!existsSync(resolved)) {
        problems.push(`${href}: no such file`);
        continue;
      }
      if (
        anchor !== undefined &&
        resolved.endsWith('.md') &&
        !anchors(readFileSync(resolved, 'utf8')).has(anchor)
      )
        problems.push(`${href}: no heading with that anchor`);
    }
    assert.deepEqual(problems, []);
  });
}

test('README.md is at most 300 lines and points to the reference in docs/', () => {
  const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
  assert.ok(readme.split('\n').length <= 300, `README.md has ${readme.split('\n').length} lines`);
  for (const doc of ['configuration', 'metrics', 'operations', 'deploy', 'development'])
    assert.ok(readme.includes(`](docs/${doc}.md`), `README links docs/${doc}.md`);
});

test('docs/metrics.md documents every metric family of the golden expositions', () => {
  const reference = readFileSync(path.join(repo, 'docs/metrics.md'), 'utf8');
  const golden = path.join(repo, 'test/metrics/golden');
  const families = new Set<string>();
  for (const f of readdirSync(golden).filter((f) => f.endsWith('.prom')))
    for (const m of readFileSync(path.join(golden, f), 'utf8').matchAll(/^# TYPE (\S+)/gm))
      families.add(m[1]!);
  assert.ok(families.size > 15, `found ${families.size} families`);
  const missing = [...families].filter((name) => !reference.includes(`\`${name}`));
  assert.deepEqual(missing, [], 'families docs/metrics.md does not name');
});
