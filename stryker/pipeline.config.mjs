import { part } from './base.mjs';

/**
 * The pipeline: the scheduler's timing and readiness (on a mocked clock), the progress publisher, and the
 * collection wired and run in the test's own thread against the simulator. The collection thread's two
 * sides (worker.ts, thread.ts) are exercised by test/pipeline/thread.test.ts, but run in a worker thread
 * that Stryker does not see into: they are left out.
 */
export default part('pipeline', {
  mutate: [
    'src/pipeline/scheduler.ts',
    'src/pipeline/readiness.ts',
    'src/pipeline/progress.ts',
    'src/pipeline/collection.ts',
  ],
  testFiles: [
    'test/pipeline/scheduler-timing.test.ts',
    'test/pipeline/readiness.test.ts',
    'test/pipeline/scheduler.test.ts',
    'test/pipeline/progress.test.ts',
    'test/collectors/collection.test.ts',
  ],
});
