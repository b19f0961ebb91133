import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Family } from '../../src/collectors/collector.js';
import { renderFamilies, renderFamilyBytes } from '../../src/metrics/exposition.js';
import { ReceivedRendering } from '../../src/metrics/rendering.js';
import { SectionRenderer } from '../../src/metrics/section-renderer.js';
import { SelfMetrics } from '../../src/metrics/self-metrics.js';
import { ServingMetrics } from '../../src/metrics/serving-metrics.js';
import { Snapshot } from '../../src/metrics/snapshot.js';

const gauge = (name: string, values: number[]): Family => ({
  name,
  help: `${name} for the test.`,
  type: 'gauge',
  samples: values.map((value, i) => ({ name, labels: [['n', String(i)]], value })),
});

test('sections in collector order, each family its own gzip member; a family object published again is not rendered again', async () => {
  const serving = new ServingMetrics();
  const snapshot = new Snapshot([serving]);
  snapshot.setOrder(['issues', 'outcomes']);
  const sections = new SectionRenderer((name, parts, now) => snapshot.setSection(name, parts, now));
  const windows = gauge('test_windows', [1, 2]);
  try {
    await sections.publishFamilies('outcomes', [gauge('test_events', [7])], 1);
    await sections.publishFamilies('issues', [windows, gauge('test_open', [3])], 2);
    assert.equal(
      snapshot.sentryText,
      '# HELP test_windows test_windows for the test.\n# TYPE test_windows gauge\ntest_windows{n="0"} 1\ntest_windows{n="1"} 2\n' +
        '# HELP test_open test_open for the test.\n# TYPE test_open gauge\ntest_open{n="0"} 3\n' +
        '# HELP test_events test_events for the test.\n# TYPE test_events gauge\ntest_events{n="0"} 7\n',
    );
    assert.equal(snapshot.lastPublished, 2);

    // Published families are not to be changed; one that is, is still served as first rendered: proof that
    // the same object is not rendered again when a collector publishes its progress.
    windows.samples[0]!.value = 99;
    await sections.publishFamilies('issues', [windows, gauge('test_open', [3, 4])], 3);
    assert.match(snapshot.sentryText, /^test_windows\{n="0"\} 1$/m);
    assert.match(snapshot.sentryText, /^test_open\{n="1"\} 4$/m);
    await sections.publishFamilies('issues', [gauge('test_windows', [99, 2])], 4);
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
    assert.ok(
      plain.body.toString().startsWith(snapshot.sentryText),
      'the uncompressed body begins with the Sentry part',
    );
    assert.match(plain.body.toString(), /^sentry_exporter_event_loop_delay_p99_seconds \d/m);
    assert.match(
      plain.body.toString(),
      /\nsentry_exporter_auth_failures_total 0\n$/,
      'the serving metrics last',
    );
    assert.equal((await snapshot.scrape(true)).body, zipped.body, 'an unchanged body is not built again');
  } finally {
    serving.close();
  }
});

test('self-metrics are served from one rendering until it is too old or invalidated; handed-over ones as received', async () => {
  const self = new SelfMetrics({ pollInterval: 60, version: '0.0.0-test', maxAgeMs: 3_600_000 });
  const serving = new ServingMetrics({ maxAgeMs: 3_600_000 });
  const received = new ReceivedRendering();
  const snapshot = new Snapshot([received, serving]);
  try {
    const value = async (name: string) =>
      new RegExp(`^${name} (\\S+)$`, 'm').exec((await snapshot.scrape(false)).body.toString())?.[1];
    assert.equal(await value('sentry_exporter_auth_failures_total'), '0');
    serving.authFailed();
    assert.equal(await value('sentry_exporter_auth_failures_total'), '1', 'a refused scraper shows at once');

    assert.equal(await value('sentry_exporter_cycles_skipped_total'), undefined, 'nothing received yet');
    const first = await self.current();
    received.set(first.text, first.gzip);
    assert.equal(await value('sentry_exporter_cycles_skipped_total'), '0');
    self.cyclesSkipped.inc();
    assert.equal(await self.current(), first, 'the rendering is younger than its maximum age');
    self.invalidate();
    const second = await self.current();
    assert.notEqual(second.generation, first.generation);
    received.set(second.text, second.gzip);
    assert.equal(await value('sentry_exporter_cycles_skipped_total'), '1');
    const zipped = await snapshot.scrape(true);
    assert.equal(gunzipSync(zipped.body).toString(), (await snapshot.scrape(false)).body.toString());
  } finally {
    serving.close();
  }
});

test('an unchanged exposition is served synchronously as the same body; each change builds one new body', async () => {
  const serving = new ServingMetrics({ maxAgeMs: 3_600_000 });
  const received = new ReceivedRendering();
  const snapshot = new Snapshot([received, serving]);
  const sections = new SectionRenderer((name, parts, now) => snapshot.setSection(name, parts, now));
  try {
    await sections.publishFamilies('issues', [gauge('test_open', [1, 2])], 1);
    for (const gzip of [true, false]) {
      const first = await snapshot.scrape(gzip);
      // A thousand scrapes of an unchanged exposition: no promise, no new body, no rendering or compression
      // (a new rendering would be a new body: the body object is built once per change).
      for (let i = 0; i < 1000; i++) {
        const again = snapshot.scrape(gzip);
        assert.ok(!(again instanceof Promise), `scrape ${i} (gzip ${gzip}) answered synchronously`);
        assert.equal(again, first, `scrape ${i} (gzip ${gzip}) served the same body`);
      }
    }
    const changes: Array<[string, () => Promise<void> | void]> = [
      ['a section published', () => sections.publishFamilies('issues', [gauge('test_open', [3])], 2)],
      ['self-metrics handed over', () => received.set(Buffer.from('a 1\n'), gzipSync('a 1\n'))],
      ['a refused scraper counted', () => serving.authFailed()],
    ];
    for (const [what, change] of changes) {
      const before = await snapshot.scrape(true);
      await change();
      const pending = snapshot.scrape(true);
      assert.ok(pending instanceof Promise, `${what}: a new body is built`);
      const after = await pending;
      assert.notEqual(after, before, what);
      assert.equal(snapshot.scrape(true), after, `${what}: then served as it is`);
    }
  } finally {
    serving.close();
  }
});

test('a family rendered into byte chunks is exactly the text the plain writer writes', async () => {
  // Enough samples for several slices and several chunks, with label values of 1 to 4 UTF-8 bytes a character.
  const family: Family = {
    name: 'test_big',
    help: 'A big family.',
    type: 'gauge',
    samples: Array.from({ length: 30_000 }, (_, i) => ({
      name: 'test_big',
      labels: [
        ['project_slug', `p-${i}`],
        ['release', ['v1', 'é-2', '版本3', '🚀4', 'a"b\\c\nd'][i % 5]!],
      ],
      value: i / 7,
    })),
  };
  const bytes = await renderFamilyBytes(family);
  assert.ok(bytes.length > 512 * 1024, `${bytes.length} bytes: more than one chunk`);
  assert.equal(bytes.toString('utf8'), renderFamilies([family]));
});
