import { part } from './base.mjs';

/** The Sentry client, measured by its own tests (test/sentry/). */
export default part('sentry', {
  mutate: ['src/sentry/**/*.ts'],
  testFiles: [
    'test/sentry/parse.test.ts',
    'test/sentry/pagination.test.ts',
    'test/sentry/bounds.test.ts',
    'test/sentry/client.test.ts',
    'test/sentry/retry.test.ts',
    'test/sentry/rate-limit.test.ts',
    'test/sentry/simulator.test.ts',
    'test/sentry/http.test.ts',
  ],
});
