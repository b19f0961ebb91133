import { part } from './base.mjs';

/**
 * The pipeline's decisions: when each collector runs, retries, deadlines, shutdown, readiness, the status and
 * progress report (src/pipeline/scheduler.ts and the files beside it), measured by the tests on a mocked
 * clock and the one that runs them against the simulator. The wiring (collection.ts), the progress publisher
 * and the collection thread's two sides are exercised by the tests of the whole collection, each of which
 * takes seconds for every mutant, and are left out.
 */
export default part('pipeline', {
  mutate: [
    'src/pipeline/scheduler.ts',
    'src/pipeline/readiness.ts',
    'src/pipeline/collector-state.ts',
    'src/pipeline/run-errors.ts',
  ],
  testFiles: [
    'test/pipeline/scheduler-timing.test.ts',
    'test/pipeline/scheduler-cycles.test.ts',
    'test/pipeline/readiness.test.ts',
    'test/pipeline/scheduler.test.ts',
  ],
});
