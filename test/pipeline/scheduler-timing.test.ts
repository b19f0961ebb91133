/**
 * The scheduler's timing, on a mocked clock (node:test's mock timers drive both `setTimeout` and the
 * scheduler's clock, `Date.now`): when each collector runs, how a collector that never succeeded is
 * retried, what a run that outlives its interval skips, a run abandoned at its deadline, readiness going
 * stale, and shutdown. The collectors are small ones written here, each a real `Collector` whose runs the
 * test finishes when it wants.
 */
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { ScriptedCollector, T0, advance, settle, setup, stop } from './scripted.js';

test('each collector runs on its own interval, start-aligned, the project list first', async (t) => {
  t.after(() => mock.timers.reset());
  const fast = new ScriptedCollector('fast', 60);
  const slow = new ScriptedCollector('slow', 300);
  const { scheduler, metadata } = setup([fast, slow]);
  scheduler.start();
  await advance(601_000);
  assert.deepEqual(
    fast.starts,
    [0, 60_000, 120_000, 180_000, 240_000, 300_000, 360_000, 420_000, 480_000, 540_000, 600_000],
    'every 60 s from the start',
  );
  assert.deepEqual(slow.starts, [0, 300_000, 600_000], 'every 300 s');
  assert.equal(metadata.runs, 2, 'the project list at 0 and after its 600 s');
  await stop(scheduler);
});

test('a collector that never succeeded is retried after 2 s, 4 s, 8 s ... up to its interval; then on its interval', async (t) => {
  t.after(() => mock.timers.reset());
  const flaky = new ScriptedCollector('flaky', 30, 'fail');
  const { scheduler, logs } = setup([flaky]);
  scheduler.start();
  await advance(70_000);
  assert.deepEqual(
    flaky.starts,
    [0, 2_000, 6_000, 14_000, 30_000, 60_000],
    'waits of 2, 4, 8, 16, then 30 s (its interval)',
  );
  const messages = logs()
    .filter((r) => r.collector === 'flaky')
    .map((r) => r.msg);
  assert.equal(messages[0], 'collector failed; it has no data yet and is retried in 2s');
  assert.equal(messages[1], 'collector failed; it has no data yet and is retried in 4s');
  flaky.mode = 'ok';
  await advance(30_000);
  assert.equal(flaky.starts.at(-1), 90_000, 'the next retry succeeds');
  await advance(30_000);
  assert.equal(flaky.starts.at(-1), 120_000, 'then it keeps its interval');
  await stop(scheduler);
});

test('a run longer than its interval is not started twice; the ticks it outlived are skipped and counted', async (t) => {
  t.after(() => mock.timers.reset());
  const slow = new ScriptedCollector('slow', 10, 'manual');
  const { scheduler, self, logs } = setup([slow], { pollInterval: 10 });
  scheduler.start();
  await advance(35_000);
  assert.deepEqual(slow.starts, [0], 'one run while it lasts');
  slow.finish();
  await settle();
  await advance(6_000);
  assert.deepEqual(
    slow.starts,
    [0, 40_000],
    'the next tick after it ended: 40 s (ticks at 10, 20, 30 s skipped)',
  );
  const skipped = (await self.registry.getSingleMetric('sentry_exporter_cycles_skipped_total')?.get())
    ?.values[0]?.value;
  assert.equal(skipped, 3, 'three ticks counted as skipped');
  assert.ok(
    logs().some((r) => r.msg.startsWith('a collector run took longer than its interval') && r.skipped === 3),
    'and said so in the log',
  );
  await stop(scheduler);
});

test('a run is abandoned at SENTRY_CYCLE_DEADLINE, with the reason; the collector is retried', async (t) => {
  t.after(() => mock.timers.reset());
  const hanging = new ScriptedCollector('hanging', 60, 'manual');
  const { scheduler, logs } = setup([hanging], { cycleDeadline: 45 });
  scheduler.start();
  await advance(44_000);
  assert.equal(hanging.signals[0]?.aborted, false, 'still running at 44 s');
  await advance(2_000);
  assert.equal(hanging.signals[0]?.aborted, true, 'abandoned at 45 s');
  const failure = logs().find((r) => r.collector === 'hanging' && r.level === 50);
  assert.match(
    String((failure?.error as { aborted?: string } | undefined)?.aborted),
    /cycle deadline of 45s passed/,
  );
  await stop(scheduler);
});

test('readiness: not before the project list, then ready with fresh data, stale after SENTRY_READY_MAX_AGE', async (t) => {
  t.after(() => mock.timers.reset());
  const once = new ScriptedCollector('once', 60);
  const { scheduler } = setup([once], { readyMaxAge: 90 });
  assert.deepEqual(scheduler.readiness(), {
    ready: false,
    reason: 'the project list has not been read yet',
    collectors: { metadata: { state: 'not yet run' }, once: { state: 'not yet run' } },
  });
  scheduler.start();
  await advance(0);
  const ready = scheduler.readiness();
  assert.equal(ready.ready, true, `ready after the first run: ${JSON.stringify(ready)}`);
  assert.equal(ready.lastSuccess, T0 / 1000);
  once.mode = 'fail';
  await advance(91_000);
  const stale = scheduler.readiness();
  assert.equal(stale.ready, false, 'the failing runs publish nothing: stale after 90 s');
  assert.equal(stale.reason, 'no fresh data: once data is 91s old (max 90s)');
  assert.match(stale.collectors.once?.lastError?.message ?? '', /once refused/);
  assert.equal(stale.collectors.once?.state, 'failing');
  await stop(scheduler);
});

test('shutdown abandons a run still waiting after the grace, with one info line and no collector error', async (t) => {
  t.after(() => mock.timers.reset());
  const hanging = new ScriptedCollector('hanging', 60, 'manual');
  const { scheduler, logs, self } = setup([hanging]);
  scheduler.start();
  await advance(0);
  await stop(scheduler);
  assert.equal(hanging.signals[0]?.aborted, true);
  const records = logs();
  assert.ok(
    records.some(
      (r) =>
        r.level === 30 && r.msg === 'stopping: abandoned the runs of 1 collector(s) still waiting for Sentry',
    ),
    'one info line',
  );
  assert.ok(
    !records.some((r) => r.level >= 50),
    `no error line: ${JSON.stringify(records.filter((r) => r.level >= 50))}`,
  );
  const errors = (
    await self.registry.getSingleMetric('sentry_exporter_collection_errors_total')?.get()
  )?.values.find((v) => v.labels.collector === 'hanging')?.value;
  assert.equal(errors, 0, 'not counted as a collection error');
});

test('a run going on for 10 s or more logs what is done and what is left, every 10 s; the status shows it', async (t) => {
  t.after(() => mock.timers.reset());
  const slow = new ScriptedCollector('slow', 60, 'manual');
  const quick = new ScriptedCollector('quick', 60);
  const { scheduler, logs } = setup([slow, quick]);
  scheduler.start();
  await advance(0);
  // What the run says of itself, as the issues collector does of its pages and releases.
  const ctxProgress = slow.contexts[0]?.progress;
  ctxProgress?.('releases', 40, 240);
  await advance(9_000);
  assert.equal(
    logs().filter((r) => r.msg.endsWith('collection in progress')).length,
    0,
    'nothing before 10 s',
  );
  await advance(21_000);
  const lines = logs().filter((r) => r.msg.endsWith('collection in progress'));
  assert.equal(lines.length, 3, 'at 10, 20 and 30 s');
  assert.equal(lines[0]!.msg, 'first collection in progress');
  assert.equal(
    lines[0]!.progress,
    'metadata done; slow running for 10s (0 requests, releases 40/240); quick done',
  );
  const report = scheduler.report();
  assert.deepEqual(report.find((r) => r.name === 'slow')?.running, {
    forSeconds: 30,
    requests: 0,
    progress: 'releases 40/240',
  });
  assert.equal(report.find((r) => r.name === 'quick')?.nextRunInSeconds, 30, 'due again at 60 s');
  slow.finish();
  await advance(11_000);
  assert.equal(logs().filter((r) => r.msg.endsWith('collection in progress')).length, 3, 'quiet once done');
  await stop(scheduler);
});

test('sentry_exporter_up is 1 until a collector fails, 0 while its latest run failed; series are counted per family', async (t) => {
  t.after(() => mock.timers.reset());
  const flaky = new ScriptedCollector('flaky', 60, 'manual');
  const { scheduler, self } = setup([flaky]);
  const up = async () => (await self.registry.getSingleMetric('sentry_exporter_up')?.get())?.values[0]?.value;
  assert.equal(await up(), 1, 'nothing failed before the first run ended');
  scheduler.start();
  await advance(0);
  assert.equal(await up(), 1, 'a first run under way is no failure');
  flaky.fail();
  await advance(0);
  assert.equal(await up(), 0, 'its latest run failed');
  await advance(2_000);
  flaky.finish();
  await advance(0);
  assert.equal(await up(), 1, 'its latest run succeeded');
  const series = (await self.registry.getSingleMetric('sentry_exporter_series')?.get())?.values;
  assert.deepEqual(
    series?.map((v) => [v.labels.family, v.value]),
    [['x_flaky', 1]],
    'one family of one series',
  );
  await stop(scheduler);
});
