/**
 * `npm run test:mutation`: runs the parts of the mutation test (sentry, collectors, metrics) one after the
 * other (all, or those named),
 * passing further arguments on to Stryker (e.g. `--force` to test every mutant again), then prints the
 * score of each mutated file and of all of them together, from the parts' JSON reports.
 *
 *   npm run test:mutation                     every part, reusing unchanged results
 *   npm run test:mutation -- sentry --force   the Sentry client part only, every mutant
 *   npm run test:mutation -- --score          only print the scores of the last runs
 *
 * Besides the scores it writes reports/mutation/survivors.md: every mutant that survived or that no test
 * covered, by file and line, with the code as it was and as the mutant changed it. That list is made
 * afresh from the reports at each run; nothing keeps line numbers by hand.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const PARTS = ['sentry', 'collectors', 'metrics', 'pipeline', 'config'];
const args = process.argv.slice(2);
const named = args.filter((a) => PARTS.includes(a));
const scoreOnly = args.includes('--score');
const passOn = args.filter((a) => !PARTS.includes(a) && a !== '--score');
const parts = named.length > 0 ? named : PARTS;

if (!scoreOnly) {
  const core = createRequire(import.meta.url).resolve('@stryker-mutator/core/package.json');
  const stryker = join(dirname(core), 'bin', 'stryker.js');
  for (const part of parts) {
    const started = Date.now();
    const run = spawnSync(process.execPath, [stryker, 'run', `stryker/${part}.config.mjs`, ...passOn], {
      stdio: 'inherit',
    });
    const seconds = Math.round((Date.now() - started) / 1000);
    console.error(`mutation part "${part}" took ${Math.floor(seconds / 60)} min ${seconds % 60} s`);
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
}

/** Stryker's mutation score: detected (killed or timed out) over every valid mutant. */
const COUNTED = new Set(['Killed', 'Timeout', 'Survived', 'NoCoverage']);
const zero = () => ({ killed: 0, timeout: 0, survived: 0, noCoverage: 0 });
const score = (c) => {
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  return valid === 0 ? 'n/a' : `${((100 * (c.killed + c.timeout)) / valid).toFixed(2)} %`;
};
const line = (name, c) =>
  `${name.padEnd(40)} ${score(c).padStart(8)}  ${[c.killed, c.timeout, c.survived, c.noCoverage]
    .map((n) => String(n).padStart(8))
    .join('')}`;
console.log(`\n${'file'.padEnd(40)} ${'score'.padStart(8)}    killed timeout survived  no cov.`);
const total = zero();
for (const part of PARTS) {
  const file = `reports/mutation/${part}.json`;
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const sum = zero();
  for (const [name, { mutants }] of Object.entries(report.files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const c = zero();
    for (const m of mutants) {
      if (!COUNTED.has(m.status)) continue;
      const k = m.status === 'NoCoverage' ? 'noCoverage' : m.status.toLowerCase();
      c[k]++;
      sum[k]++;
      total[k]++;
    }
    console.log(line(`  ${name}`, c));
  }
  console.log(line(`part ${part}`, sum));
}
console.log(line('all parts', total));

const survivors = [
  '# Surviving mutants',
  '',
  'Made by `npm run test:mutation` from the last run of each part. See docs/development.md.',
  '',
];
for (const part of PARTS) {
  const file = `reports/mutation/${part}.json`;
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  survivors.push(`## Part ${part}`, '');
  for (const [name, { source, mutants }] of Object.entries(report.files).sort(([a], [b]) =>
    a < b ? -1 : 1,
  )) {
    const open = mutants
      .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
      .sort(
        (a, b) =>
          a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column,
      );
    if (open.length === 0) continue;
    const lines = source.split('\n');
    survivors.push(`### ${name} (${open.length})`, '');
    for (const m of open) {
      const { start, end } = m.location;
      const code =
        start.line === end.line
          ? lines[start.line - 1].slice(start.column - 1, end.column - 1)
          : `${lines[start.line - 1].slice(start.column - 1)} ...`;
      const status = m.status === 'NoCoverage' ? 'not covered' : 'survived';
      survivors.push(
        `- line ${start.line}: ${m.mutatorName}, \`${code.trim().slice(0, 100)}\` → \`${String(
          m.replacement ?? '',
        )
          .replace(/\s+/g, ' ')
          .slice(0, 100)}\` (${status})`,
      );
    }
    survivors.push('');
  }
}
writeFileSync('reports/mutation/survivors.md', `${survivors.join('\n')}\n`);
console.log('\nsurvivors by file and line: reports/mutation/survivors.md');
