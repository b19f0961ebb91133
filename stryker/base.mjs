/**
 * Settings shared by the two parts of the mutation run (docs/development.md, "Mutation testing"). Each part
 * mutates one layer and runs only the test files of that layer: a mutant runs the files that executed its
 * code during the initial run, in the order listed (fast, focused files first), and stops at the first
 * failure.
 */
export function part(name, { mutate, testFiles }) {
  return {
    testRunner: 'tap',
    tap: {
      testFiles,
      // node:test prints TAP when asked; tsx runs the TypeScript as `npm test` does.
      nodeArgs: ['--import', 'tsx', '--test-reporter=tap'],
      forceBail: true,
    },
    // Listed here as well: the initial run follows this order, and so does each mutant's list of files.
    testFiles,
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
