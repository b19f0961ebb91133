// The worker thread of test/helpers/watchdog.ts: it reads the time the test process's main thread last ran
// and, once that is older than the limit, reports the blocked test and ends the processes the test started
// (by their ids, read from /proc on Linux), then the test process itself. Nothing here can run on the
// main thread, which is the one that is stuck: output goes straight to file descriptor 2.
import { readdirSync, readFileSync, writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';

const { beat, names, namesLength, limitMs, file } = workerData;

/** Ids of the processes started by this process (Linux; elsewhere none are known). */
function children() {
  try {
    return readdirSync(`/proc/${process.pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    return [];
  }
}

function kill(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

const timer = setInterval(
  () => {
    // The clock the main thread writes: never mocked (see watchdog.ts).
    const blockedMs = performance.timeOrigin + performance.now() - Number(Atomics.load(beat, 0));
    if (blockedMs < limitMs) return;
    clearInterval(timer);
    const running = new TextDecoder().decode(names.slice(0, Atomics.load(namesLength, 0)));
    const started = children();
    writeSync(
      2,
      `\ntest watchdog: the event loop of ${file} has not run for ${(blockedMs / 1000).toFixed(1)} s` +
        (running ? ` in the test "${running}"` : '') +
        ` (a synchronous loop that does not end: no test timeout can fire there); ending ${
          started.length > 0 ? `the processes it started (${started.join(', ')}) and ` : ''
        }the test process.\n`,
    );
    for (const pid of started) kill(pid, 'SIGTERM');
    kill(process.pid, 'SIGTERM');
    // A SIGTERM handler of the test would never run on the blocked thread, and the signal would wait for it.
    setTimeout(() => {
      for (const pid of started) kill(pid, 'SIGKILL');
      kill(process.pid, 'SIGKILL');
    }, 2000);
  },
  Math.min(1000, limitMs / 4),
);
