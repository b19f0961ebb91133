import { part } from './base.mjs';

/**
 * The collectors, measured by their own tests (test/collectors/, the whole collection among them: it runs
 * in the test's thread) and the golden expositions (test/metrics/families.test.ts renders every
 * collector's families).
 */
export default part('collectors', {
  mutate: ['src/collectors/**/*.ts'],
  testFiles: [
    'test/collectors/outcome-units.test.ts',
    'test/metrics/families.test.ts',
    'test/collectors/rate-limits.test.ts',
    'test/collectors/metadata-keys.test.ts',
    'test/collectors/issue-releases.test.ts',
    'test/collectors/issues.test.ts',
    'test/collectors/monitors.test.ts',
    'test/collectors/sessions.test.ts',
    'test/collectors/outcomes.test.ts',
    'test/collectors/index.test.ts',
    'test/collectors/all-or-nothing.test.ts',
    'test/collectors/collection.test.ts',
  ],
  skipTests: [
    // the two whole-collection tests that take ten seconds (3 requests/s, readiness over several cycles)
    'a steady-state cycle costs few requests',
    '/healthz turns ready only once a collector has published',
    // scale tests of 1,000 projects (seconds each, every time a mutant runs their file)
    '1,000 projects with far more than 10,000 outcome rows',
    'the default configuration at 1,000 × 5',
  ],
});
