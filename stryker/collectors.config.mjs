import { part } from './base.mjs';

/** The collectors and the exposition writer, measured by test/collectors/ and test/metrics/. */
export default part('collectors', {
  mutate: ['src/collectors/**/*.ts', 'src/metrics/exposition.ts'],
  testFiles: [
    'test/metrics/exposition.test.ts',
    'test/metrics/families.test.ts',
    'test/collectors/rate-limits.test.ts',
    'test/collectors/issues.test.ts',
    'test/collectors/monitors.test.ts',
    'test/collectors/sessions.test.ts',
    'test/collectors/outcomes.test.ts',
  ],
});
