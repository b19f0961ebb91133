import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { Family } from '../../src/collectors/collector.js';
import { SelfMetrics } from '../../src/metrics/self-metrics.js';
import { Snapshot } from '../../src/metrics/snapshot.js';

const gauge = (name: string, values: number[]): Family => ({
  name,
  help: `${name} for the test.`,
  type: 'gauge',
  samples: values.map((value, i) => ({ name, labels: [['n', String(i)]], value })),
});

test('sections in collector order, each family its own gzip member; a family object published again is not rendered again', async () => {
  const self = new SelfMetrics({ pollInterval: 60, version: '0.0.0-test' });
  const snapshot = new Snapshot(self, ['issues', 'events']);
  const windows = gauge('test_windows', [1, 2]);
  await snapshot.publishFamilies('events', [gauge('test_events', [7])], 1);
  await snapshot.publishFamilies('issues', [windows, gauge('test_open', [3])], 2);
  const first = snapshot.sentryText;
  assert.equal(
    first,
    '# HELP test_windows test_windows for the test.\n# TYPE test_windows gauge\ntest_windows{n="0"} 1\ntest_windows{n="1"} 2\n' +
      '# HELP test_open test_open for the test.\n# TYPE test_open gauge\ntest_open{n="0"} 3\n' +
      '# HELP test_events test_events for the test.\n# TYPE test_events gauge\ntest_events{n="0"} 7\n',
  );

  // Published families are not to be changed; one that is, is still served as first rendered: proof that the
  // same object is not rendered again when a collector publishes its progress.
  windows.samples[0]!.value = 99;
  await snapshot.publishFamilies('issues', [windows, gauge('test_open', [3, 4])], 3);
  assert.match(snapshot.sentryText, /^test_windows\{n="0"\} 1$/m);
  assert.match(snapshot.sentryText, /^test_open\{n="1"\} 4$/m);
  await snapshot.publishFamilies('issues', [gauge('test_windows', [99, 2])], 4);
  assert.match(snapshot.sentryText, /^test_windows\{n="0"\} 99$/m);
  assert.doesNotMatch(snapshot.sentryText, /test_open/);

  const plain = await snapshot.scrape(false);
  const zipped = await snapshot.scrape(true);
  assert.equal(plain.chunks.length, 1, 'one buffer per scrape');
  assert.equal(zipped.gzip, true);
  assert.equal(
    gunzipSync(zipped.body).toString(),
    plain.body.toString(),
    'the concatenated members are one gzip stream',
  );
  assert.ok(plain.body.toString().startsWith(snapshot.sentryText));
  assert.match(plain.body.toString(), /^sentry_exporter_event_loop_delay_p99_seconds \d/m);
  assert.equal((await snapshot.scrape(true)).body, zipped.body, 'an unchanged body is not built again');
});

test('the self-metrics are served from one rendering until it is too old or invalidated', async () => {
  const self = new SelfMetrics({ pollInterval: 60, version: '0.0.0-test', maxAgeMs: 3_600_000 });
  const snapshot = new Snapshot(self, []);
  const authFailures = async () =>
    /^sentry_exporter_auth_failures_total (\d+)$/m.exec((await snapshot.scrape(false)).body.toString())?.[1];
  assert.equal(await authFailures(), '0');
  self.authFailures.inc();
  assert.equal(await authFailures(), '0', 'the rendering is younger than its maximum age');
  self.invalidate();
  assert.equal(await authFailures(), '1');
  const a = await self.current();
  assert.equal(await self.current(), a);
  self.invalidate();
  assert.notEqual((await self.current()).generation, a.generation);
});
