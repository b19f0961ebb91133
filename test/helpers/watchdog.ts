/**
 * A watchdog for test processes whose event loop is blocked: loaded with `--import` by the test scripts
 * (package.json), it arms itself in the process that runs a test file under `node --test`.
 *
 * `--test-timeout` cannot end a test that never yields: a synchronous loop that does not end (a parser that
 * never advances, or the message of a failing message-less `assert.ok` on Node.js 20, docs/development.md)
 * blocks the event loop on which the test's timer would fire. The runner of Node.js 20 and 22 applies
 * `--test-timeout` to the whole file from outside; Node.js 24's runner applies it per test, inside the file's
 * process, and such a test would hang the run until CI's own limit.
 *
 * The main thread writes the time into shared memory four times a second; a worker thread
 * (watchdog-worker.mjs) checks it. When the event loop has not run for TEST_WATCHDOG_MS (60 s by default),
 * the worker writes which test was running if the runner says (recent Node.js 24 releases, 24.22 for one,
 * publish it on the node.test tracing channel), ends the processes the test started, and then the test
 * process itself; the runner reports the file as failed.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { url } from 'node:inspector';
import { isMainThread, Worker } from 'node:worker_threads';

const DEFAULT_LIMIT_MS = 60_000;
/** Bytes kept of the names of the tests running. */
const NAMES_BYTES = 4096;

function arm(limitMs: number): void {
  const beat = new BigInt64Array(new SharedArrayBuffer(8));
  const names = new Uint8Array(new SharedArrayBuffer(NAMES_BYTES));
  const namesLength = new Int32Array(new SharedArrayBuffer(4));
  // Not Date.now(): a test that mocks timers (node:test's mock.timers) sets Date to its own time.
  const tick = () => Atomics.store(beat, 0, BigInt(Math.round(performance.timeOrigin + performance.now())));
  tick();
  setInterval(tick, 250).unref();

  // The tests running now, innermost last, for the report.
  const running: string[] = [];
  const publish = () => {
    const bytes = new TextEncoder().encode(running.join(' > ')).subarray(0, NAMES_BYTES);
    names.set(bytes);
    Atomics.store(namesLength, 0, bytes.length);
  };
  tracingChannel<unknown, { name?: string; type?: string }>('node.test').subscribe({
    start: (ctx) => {
      running.push(String(ctx.name));
      publish();
    },
    end: (ctx) => {
      const at = running.lastIndexOf(String(ctx.name));
      if (at >= 0) running.splice(at, 1);
      publish();
    },
    asyncStart: () => {},
    asyncEnd: () => {},
    error: () => {},
  });

  const worker = new Worker(new URL('./watchdog-worker.mjs', import.meta.url), {
    // The worker needs neither tsx nor this module: a bare thread starts in milliseconds.
    execArgv: [],
    workerData: { beat, names, namesLength, limitMs, file: process.argv[1] ?? '' },
  });
  worker.unref();
}

// Only in the process of a test file, not in the runner, a worker thread or a process the test starts; and
// not under a debugger, where a test stopped at a breakpoint is blocked on purpose. TEST_WATCHDOG_MS=0
// turns it off.
if (isMainThread && process.env.NODE_TEST_CONTEXT !== undefined && url() === undefined) {
  const limitMs = Number(process.env.TEST_WATCHDOG_MS ?? DEFAULT_LIMIT_MS);
  if (!Number.isFinite(limitMs) || limitMs < 0)
    throw new Error(`TEST_WATCHDOG_MS must be 0 or more: ${limitMs}`);
  if (limitMs > 0) arm(limitMs);
}
