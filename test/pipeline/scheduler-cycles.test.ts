/**
 * What a cycle reports and records, on the mocked clock of ./scripted.ts: the report runCycle returns and
 * its log line, the self-metrics of each run, which collectors a cycle asked for now runs, the errors as
 * /healthz tells them, skipped items, and the series of a family that goes away.
 */
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import type { ProjectInfo } from '../../src/collectors/collector.js';
import { cycleDeadlineOf, readyMaxAgeOf } from '../../src/pipeline/collector-state.js';
import { SentryApiError } from '../../src/sentry/errors.js';
import { ScriptedCollector, T0, advance, settle, setup, stats, stop } from './scripted.js';

const DEFAULTS = { pollInterval: 60, metadataInterval: 600, readyMaxAge: 0, cycleDeadline: 0 };

test('runCycle reports what ran and failed, its requests and duration; the log line and self-metrics say the same', async (t) => {
  t.after(() => mock.timers.reset());
  const a = new ScriptedCollector('a', 60, 'ok', stats);
  const b = new ScriptedCollector('b', 60, 'fail', stats);
  a.requestsPerRun = 3;
  b.requestsPerRun = 2;
  const { scheduler, logs, metric } = setup([a, b]);
  const first = scheduler.runCycle();
  await advance(0);
  const report = await first;
  assert.deepEqual(
    { ...report, durationMs: undefined },
    {
      cycle: 1,
      durationMs: undefined,
      requests: 5,
      rateLimited: 0,
      failed: ['b'],
      ran: ['metadata', 'a', 'b'],
    },
    'the first cycle: the project list, then both collectors',
  );
  const line = logs().find((r) => r.msg === 'collection cycle done with errors');
  assert.ok(line, 'logged once, with errors');
  assert.deepEqual(
    [line.cycle, line.requests, line.ran, line.failed, line.series],
    [1, 5, ['metadata', 'a', 'b'], ['b'], 1],
  );
  assert.equal(await metric('sentry_exporter_cycles_total', { result: 'partial' }), 1, 'a partial cycle');
  assert.equal(await metric('sentry_exporter_last_success_timestamp_seconds', { collector: 'a' }), T0 / 1000);
  assert.equal(await metric('sentry_exporter_collection_errors_total', { collector: 'b' }), 1);
  assert.equal(
    await metric('sentry_exporter_collection_errors_total', { collector: 'a' }),
    0,
    'zero, not absent',
  );
  assert.equal(await metric('sentry_exporter_collector_interval_seconds', { collector: 'metadata' }), 600);
  assert.equal(await metric('sentry_exporter_collection_duration_seconds', { collector: 'a' }), 0);

  b.mode = 'ok';
  mock.timers.tick(1500);
  const second = scheduler.runCycle();
  await advance(0);
  const again = await second;
  assert.deepEqual([again.cycle, again.ran, again.failed], [2, ['a', 'b'], []], 'no project list: not due');
  assert.equal(again.durationMs, 0);
  assert.ok(
    logs().some((r) => r.msg === 'collection cycle done' && r.cycle === 2),
    'logged as done',
  );
  assert.equal(await metric('sentry_exporter_cycles_total', { result: 'success' }), 1);
  b.mode = 'fail';
  a.mode = 'fail';
  const third = scheduler.runCycle();
  await advance(0);
  assert.deepEqual((await third).failed, ['a', 'b']);
  assert.equal(
    await metric('sentry_exporter_cycles_total', { result: 'failure' }),
    1,
    'every collector failed',
  );
  await stop(scheduler);
});

test('a cycle asked for runs the collectors of the poll interval now, a slower one only when due, and waits for one running', async (t) => {
  t.after(() => mock.timers.reset());
  const every = new ScriptedCollector('every', 60);
  const slow = new ScriptedCollector('slow', 300);
  const busy = new ScriptedCollector('busy', 60, 'manual');
  const { scheduler } = setup([every, slow, busy]);
  scheduler.start();
  await advance(10_000);
  assert.deepEqual([every.starts, slow.starts, busy.starts], [[0], [0], [0]]);
  const asked = scheduler.runCycle();
  await advance(0);
  assert.deepEqual(every.starts, [0, 10_000], 'the poll-interval collector runs at once');
  assert.deepEqual(slow.starts, [0], 'the slower one is not due');
  assert.deepEqual(busy.starts, [0], 'the running one is not started twice');
  busy.finish();
  await settle();
  const report = await asked;
  assert.deepEqual(report.ran, ['every', 'busy'], 'waited for the running one');
  await stop(scheduler);
});

test('a failure from Sentry is told with its endpoint, status and detail; another error with its message', async (t) => {
  t.after(() => mock.timers.reset());
  const refused = new ScriptedCollector('refused', 60, 'fail');
  refused.error = () =>
    new SentryApiError(
      'Sentry https://sentry.example.com/api/0/organizations/acme/stats_v2/ answered HTTP 403',
      {
        kind: 'http',
        endpoint: '/organizations/{org}/stats_v2/',
        status: 403,
        detail: 'You do not have permission to perform this action.',
      },
    );
  const plain = new ScriptedCollector('plain', 60, 'fail');
  const { scheduler } = setup([refused, plain]);
  scheduler.start();
  await advance(0);
  const { collectors } = scheduler.readiness();
  assert.deepEqual(collectors.refused?.lastError, {
    message: 'Sentry https://sentry.example.com/api/0/organizations/acme/stats_v2/ answered HTTP 403',
    endpoint: '/organizations/{org}/stats_v2/',
    status: 403,
    detail: 'You do not have permission to perform this action.',
  });
  assert.deepEqual(collectors.plain?.lastError, { message: 'plain refused' }, 'no endpoint for other errors');
  assert.equal(collectors.plain?.lastDurationSeconds, 0);
  await stop(scheduler);
});

test('malformed items are logged once per run, naming the endpoint; nothing is logged without them', async (t) => {
  t.after(() => mock.timers.reset());
  const lists = new ScriptedCollector('lists', 60);
  const { scheduler, logs } = setup([lists]);
  scheduler.start();
  await advance(0);
  assert.ok(!logs().some((r) => r.msg.startsWith('malformed items')), 'no skipped items, no line');
  // The next run records one, as the client would.
  lists.mode = 'manual';
  await advance(60_000);
  lists.contexts.at(-1)?.skipped.add(
    new SentryApiError('[0].count should be a non-negative integer string', {
      kind: 'parse',
      endpoint: '/organizations/{org}/issues/',
    }),
  );
  lists.finish();
  await settle();
  const line = logs().find((r) => r.msg.startsWith('malformed items'));
  assert.deepEqual(line?.collector, 'lists');
  assert.deepEqual(line?.skipped, [
    {
      endpoint: '/organizations/{org}/issues/',
      count: 1,
      example: '[0].count should be a non-negative integer string',
    },
  ]);
  await stop(scheduler);
});

test('the project list is handed to the collectors; a family gone from a collector leaves sentry_exporter_series', async (t) => {
  t.after(() => mock.timers.reset());
  const c = new ScriptedCollector('c', 60);
  const { scheduler, metric } = setup([c]);
  scheduler.start();
  await advance(0);
  assert.deepEqual(
    c.contexts[0]?.projects.map((p: ProjectInfo) => p.slug),
    ['web'],
    'the collectors get the project list',
  );
  assert.equal(await metric('sentry_exporter_series', { family: 'x_c' }), 1);
  c.families = 0;
  await advance(60_000);
  assert.equal(await metric('sentry_exporter_series', { family: 'x_c' }), undefined, 'gone with the family');
  await stop(scheduler);
});

test('the progress line tells done, failed and waiting collectors apart, and says "collection" after the first', async (t) => {
  t.after(() => mock.timers.reset());
  const slow = new ScriptedCollector('slow', 60, 'manual');
  const failing = new ScriptedCollector('failing', 60, 'fail');
  const { scheduler, logs } = setup([slow, failing]);
  scheduler.start();
  await advance(0);
  slow.finish();
  await advance(60_000);
  // The second run of slow lasts; failing has failed; nothing waits.
  await advance(10_000);
  const line = logs().find((r) => r.msg.endsWith('in progress'));
  assert.equal(
    line?.msg,
    'first collection in progress',
    'failing never succeeded: still the first collection',
  );
  assert.match(
    String(line?.progress),
    /^metadata done; slow running for 10s \(0 requests\); failing failed$/,
  );
  failing.mode = 'ok';
  await advance(60_000);
  const later = logs().filter((r) => r.msg === 'collection in progress');
  assert.ok(later.length > 0, 'once every collector succeeded, the line says "collection in progress"');
  await stop(scheduler);
});

test('readiness and the deadline follow the poll interval unless set', () => {
  assert.equal(readyMaxAgeOf({ ...DEFAULTS, pollInterval: 20 }), 60, '3 × the poll interval');
  assert.equal(readyMaxAgeOf({ ...DEFAULTS, readyMaxAge: 45 }), 45);
  assert.equal(cycleDeadlineOf({ ...DEFAULTS, pollInterval: 20 }), 300, 'at least 300 s');
  assert.equal(cycleDeadlineOf({ ...DEFAULTS, pollInterval: 60 }), 600, '10 × the poll interval');
  assert.equal(cycleDeadlineOf({ ...DEFAULTS, cycleDeadline: 90 }), 90);
});

test('a cycle asked for while the first one reads the project list waits for every collector, not the list alone', async (t) => {
  t.after(() => mock.timers.reset());
  const a = new ScriptedCollector('a', 60);
  const { scheduler } = setup([a]);
  scheduler.start();
  mock.timers.tick(0); // the scheduled first cycle starts: the project list is being read
  const asked = scheduler.runCycle();
  await settle();
  const report = await asked;
  assert.deepEqual(report.ran, ['metadata', 'a'], 'it waited for the project list, then ran the collectors');
  assert.deepEqual(a.starts, [0], 'once');
  await stop(scheduler);
});
