/**
 * `npm run test:mutation`: runs the parts of the mutation test one after the other (all, or those named),
 * passing further arguments on to Stryker (e.g. `--force` to test every mutant again), then prints the
 * score of each mutated file and of all of them together, from the parts' JSON reports.
 *
 *   npm run test:mutation                     both parts, reusing unchanged results
 *   npm run test:mutation -- sentry --force   the Sentry client part only, every mutant
 *   npm run test:mutation -- --score          only print the scores of the last runs
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const PARTS = ['sentry', 'collectors'];
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
    console.error(`mutation part "${part}" took ${Math.round((Date.now() - started) / 60_000)} min`);
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
}

/** Stryker's mutation score: detected (killed or timed out) over every valid mutant. */
const DETECTED = new Set(['Killed', 'Timeout']);
const COUNTED = new Set(['Killed', 'Timeout', 'Survived', 'NoCoverage']);
const rows = [];
const total = { killed: 0, timeout: 0, survived: 0, noCoverage: 0 };
for (const part of PARTS) {
  const file = `reports/mutation/${part}.json`;
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const [name, { mutants }] of Object.entries(report.files)) {
    const c = { killed: 0, timeout: 0, survived: 0, noCoverage: 0 };
    for (const m of mutants) {
      if (!COUNTED.has(m.status)) continue;
      const k = m.status === 'NoCoverage' ? 'noCoverage' : m.status.toLowerCase();
      c[k]++;
      total[k]++;
    }
    rows.push([name, c]);
  }
}
const score = (c) => {
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  return valid === 0 ? 'n/a' : `${((100 * (c.killed + c.timeout)) / valid).toFixed(2)} %`;
};
const line = (name, c) =>
  `${name.padEnd(36)} ${score(c).padStart(8)}  ${[c.killed, c.timeout, c.survived, c.noCoverage]
    .map((n) => String(n).padStart(8))
    .join('')}`;
console.log(`\n${'file'.padEnd(36)} ${'score'.padStart(8)}    killed timeout survived  no cov.`);
for (const [name, c] of rows.sort(([a], [b]) => a.localeCompare(b))) console.log(line(name, c));
console.log(line('all files', total));
