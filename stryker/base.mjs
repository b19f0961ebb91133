/**
 * Settings shared by the parts of the mutation run (docs/development.md, "Mutation testing"). Each part
 * mutates one layer and runs only the test files of that layer: a mutant runs the files that executed its
 * code during the initial run and stops at the first failure.
 *
 * `skipTests` (patterns of test names) leaves tests out of a part: the scale tests of 1,000 projects, the
 * slowest of their files (each mutant runs its files again). Stryker records which code a test file runs in
 * the file's own thread only; the tests run the collection in their own thread (test/helpers/exporter.ts),
 * so a test of the whole collection is credited with the mutants it kills.
 */
export function part(name, { mutate, testFiles, skipTests = [] }) {
  const nodeArgs = ['--import', 'tsx', '--test-reporter=tap'];
  // A test runs when its name or an enclosing test's matches; the file's root test is named `<root>`, and
  // must not match, or every test would.
  if (skipTests.length > 0) nodeArgs.push(`--test-name-pattern=^(?!<root>$|${skipTests.join('|')})`);
  return {
    testRunner: 'tap',
    tap: {
      testFiles,
      // The runner starts `node <nodeArgs> <file>`: node:test prints TAP when asked; tsx runs the
      // TypeScript as `npm test` does.
      nodeArgs,
      forceBail: true,
    },
    mutate,
    coverageAnalysis: 'perTest',
    concurrency: 2,
    // Reuses the results of mutants whose code and covering test files did not change (`--force`: all).
    incremental: true,
    incrementalFile: `reports/mutation/${name}-incremental.json`,
    reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
    clearTextReporter: { logTests: false, reportTests: false },
    htmlReporter: { fileName: `reports/mutation/${name}.html` },
    jsonReporter: { fileName: `reports/mutation/${name}.json` },
    tempDirName: '.stryker-tmp',
  };
}
