/**
 * The collection thread (src/pipeline/worker.ts, thread.ts): the same collection as in-process, in a worker
 * thread that yields the CPU to the serving thread (on Linux it runs at nice 10, every other thread of the
 * process keeps its priority) and hands over its sections, self-metrics, readiness and log lines.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { startExporter } from '../../src/app.js';
import { stopThread } from '../../src/pipeline/thread.js';
import { loadExporterConfig } from '../../src/collectors/index.js';
import { startSimulator } from '../../sim/index.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { logRecords } from '../hardening/helpers.js';
import { configAgainst, memoryLogger } from '../helpers/exporter.js';
import { waitUntil } from '../helpers/wait.js';

/** The nice value of each thread of this process, by thread id (field 19 of /proc/self/task/<tid>/stat). */
function niceByThread(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // After the command name in parentheses: state is field 3, nice field 19.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    nice.set(Number(tid), Number(fields[16]));
  }
  return nice;
}

test('in a thread of its own, the collection publishes the same exact values, its readiness and its log lines', async () => {
  const sim = await startSimulator({ seed: 3, projects: 3, environmentsPerProject: 2, issuesPerProject: 8 });
  const config = configAgainst(sim, { SENTRY_POLL_INTERVAL: '3600', SENTRY_API_RATE: '40' });
  const { logger, lines } = memoryLogger();
  const exporter = await startExporter(config, logger, { thread: true });
  try {
    const report = await exporter.collection.runCycle();
    assert.deepEqual(report.failed, [], 'no collector failed');
    assert.deepEqual(
      exporter.collection.collectorNames,
      ['metadata', 'issues', 'outcomes', 'quota', 'monitors', 'release_health'],
      'the collectors of the default configuration, the metadata collector first',
    );
    const exported = exportedNumbers(exporter.snapshot.sentryText);
    const truth = expectedNumbers(sim.truth());
    assert.deepEqual(exported.buckets, truth.buckets, 'issue windows equal the ground truth');
    assert.deepEqual(exported.events, truth.events, 'events equal the ground truth');

    // Readiness is computed in the collection thread and handed over.
    await waitUntil('/healthz 200', async () => (await fetch(`${exporter.url}/healthz`)).status === 200);
    // Its log lines come through the serving thread's logger, written once, as that logger writes.
    const cycles = logRecords(lines()).filter((r) => r.msg === 'collection cycle done');
    assert.ok(cycles.length >= 1, `the cycle's log line came through: ${lines().slice(0, 400)}`);
    assert.equal(cycles[0]!.component, 'collect', 'with the fields the collection gave it');
    // Its self-metrics are part of the exposition.
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    assert.match(metrics, /^sentry_exporter_last_success_timestamp_seconds\{collector="issues"\} \d+$/m);
  } finally {
    await exporter.stop();
    await sim.close();
  }
});

test(
  'the collection thread runs at nice 10; the serving thread and the others keep theirs',
  { skip: existsSync('/proc/self/task') ? false : 'thread priorities are read from /proc (Linux only)' },
  async () => {
    const before = niceByThread();
    const sim = await startSimulator({
      seed: 3,
      projects: 2,
      environmentsPerProject: 1,
      issuesPerProject: 2,
    });
    const config = configAgainst(sim);
    const exporter = await startExporter(config, memoryLogger().logger, { thread: true });
    let lowered: number[] = [];
    try {
      const after = niceByThread();
      lowered = [...after].filter(([tid, nice]) => nice === 10 && before.get(tid) !== 10).map(([tid]) => tid);
      assert.equal(lowered.length, 1, `one thread lowered to nice 10: ${JSON.stringify([...after])}`);
      assert.equal(
        after.get(process.pid),
        before.get(process.pid),
        'the serving (main) thread keeps its priority',
      );
    } finally {
      await exporter.stop();
      await sim.close();
    }
    assert.equal(
      existsSync(`/proc/self/task/${lowered[0]}`),
      false,
      'the collection thread ended with the exporter',
    );
  },
);

test('a clock cannot be given to the collection thread', async () => {
  const config = loadExporterConfig({ env: { SENTRY_AUTH_TOKEN: 't', SENTRY_EXPORTER_ORG: 'acme' } });
  await assert.rejects(
    startExporter(config, memoryLogger().logger, { thread: true, clock: () => 0 }),
    /a clock cannot be given to the collection thread/,
  );
});

test('stopping: a thread that stops in time is ended at once; one busy with a long task is ended at the limit', async () => {
  const { logger, lines } = memoryLogger();
  // A thread that answers the request to stop.
  const polite = new Worker(
    "require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m))",
    { eval: true },
  );
  const answered = new Promise<void>((resolve) => polite.once('message', () => resolve()));
  let started = performance.now();
  await stopThread(polite, () => (polite.postMessage('stop'), answered), 2000, logger);
  assert.ok(performance.now() - started < 2000, 'ended before the limit');
  assert.equal(lines(), '', 'nothing to say');

  // A thread in a long synchronous task never reads the request.
  const busy = new Worker("require('node:worker_threads').parentPort.postMessage('busy'); for (;;) {}", {
    eval: true,
  });
  await new Promise<void>((resolve) => busy.once('message', () => resolve()));
  const exited = new Promise<number>((resolve) => busy.once('exit', resolve));
  started = performance.now();
  await stopThread(busy, () => new Promise(() => busy.postMessage('stop')), 500, logger);
  const took = performance.now() - started;
  assert.equal(await exited, 1, 'terminated');
  assert.ok(took >= 450, `waited for the limit first: ${took} ms`);
  const records = logRecords(lines());
  assert.equal(records.length, 1);
  assert.match(records[0]!.msg, /did not stop in time \(busy with a long task\); ending it/);
});
