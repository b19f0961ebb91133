/**
 * The text format writer on its own, against the Prometheus text format 0.0.4 as documented
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): label values escape backslash, double
 * quote and line feed; HELP escapes backslash and line feed only; NaN and the infinities are written `NaN`,
 * `+Inf` and `-Inf`. Every expected line is written out by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Family } from '../../src/collectors/collector.js';
import {
  escapeLabelValue,
  formatValue,
  renderFamilies,
  renderFamiliesSliced,
  renderFamily,
  renderFamilyBytes,
} from '../../src/metrics/exposition.js';

test('label values escape backslash, double quote and line feed, and nothing else', () => {
  assert.equal(escapeLabelValue('checkout-api@1.4.2'), 'checkout-api@1.4.2');
  assert.equal(escapeLabelValue(''), '');
  // a value made of nothing but the characters to escape, each on its own
  assert.equal(escapeLabelValue('\\'), '\\\\');
  assert.equal(escapeLabelValue('"'), '\\"');
  assert.equal(escapeLabelValue('\n'), '\\n');
  assert.equal(escapeLabelValue('C:\\cron "nightly"\njob'), 'C:\\\\cron \\"nightly\\"\\njob');
  // tabs, carriage returns and non-ASCII pass unchanged
  assert.equal(escapeLabelValue('a\tb\rc ünïcode'), 'a\tb\rc ünïcode');
});

test('values: integers and decimals as JavaScript writes them, NaN and the infinities as Prometheus does', () => {
  assert.equal(formatValue(0), '0');
  assert.equal(formatValue(42), '42');
  assert.equal(formatValue(0.016667), '0.016667');
  assert.equal(formatValue(-3.5), '-3.5');
  assert.equal(formatValue(Number.NaN), 'NaN');
  assert.equal(formatValue(Number.POSITIVE_INFINITY), '+Inf');
  assert.equal(formatValue(Number.NEGATIVE_INFINITY), '-Inf');
});

test('a family: HELP (backslash and line feed escaped, quotes kept), TYPE, then its samples in order', () => {
  const family: Family = {
    name: 'sentry_example',
    help: 'Path C:\\sentry, "quoted",\nsecond line.',
    type: 'gauge',
    samples: [
      { name: 'sentry_example', labels: [], value: 1 },
      {
        name: 'sentry_example',
        labels: [
          ['project_slug', 'web'],
          ['logger', 'a "b"\\c\nd'],
        ],
        value: Number.NaN,
      },
      { name: 'sentry_example', labels: [['le', '+Inf']], value: Number.POSITIVE_INFINITY },
      { name: 'sentry_example', labels: [['le', '-Inf']], value: Number.NEGATIVE_INFINITY },
    ],
  };
  assert.equal(
    renderFamily(family),
    [
      '# HELP sentry_example Path C:\\\\sentry, "quoted",\\nsecond line.',
      '# TYPE sentry_example gauge',
      'sentry_example 1',
      'sentry_example{project_slug="web",logger="a \\"b\\"\\\\c\\nd"} NaN',
      'sentry_example{le="+Inf"} +Inf',
      'sentry_example{le="-Inf"} -Inf',
      '',
    ].join('\n'),
  );
});

test('families follow each other in order; a family without samples is its HELP and TYPE lines', () => {
  const families: Family[] = [
    { name: 'a_total', help: 'A.', type: 'counter', samples: [{ name: 'a_total', labels: [], value: 2 }] },
    { name: 'b', help: 'B.', type: 'untyped', samples: [] },
    {
      name: 'c',
      help: 'C.',
      type: 'histogram',
      samples: [{ name: 'c_bucket', labels: [['le', '1h']], value: 3 }],
    },
  ];
  const text = [
    '# HELP a_total A.',
    '# TYPE a_total counter',
    'a_total 2',
    '# HELP b B.',
    '# TYPE b untyped',
    '# HELP c C.',
    '# TYPE c histogram',
    'c_bucket{le="1h"} 3',
    '',
  ].join('\n');
  assert.equal(renderFamilies(families), text);
  assert.equal(renderFamilies([]), '');
});

/** One family of `n` samples `s{i="<i>"} <i>`. */
function manySamples(n: number): Family {
  return {
    name: 's',
    help: 'S.',
    type: 'gauge',
    samples: Array.from({ length: n }, (_, i) => ({ name: 's', labels: [['i', String(i)]], value: i })),
  };
}

/**
 * Whether rendering gave the event loop a turn: a callback queued with setImmediate before the render
 * runs before the render resolves only if the render yielded in between.
 */
async function yieldsWhileRendering(families: Family[]): Promise<{ text: string; yielded: boolean }> {
  let other = false;
  setImmediate(() => (other = true));
  const text = await renderFamiliesSliced(families);
  return { text, yielded: other };
}

test('the sliced renderer yields to the event loop after every 2,000 samples, and writes the same text', async () => {
  // 1,999 samples in two families: no slice is full, so nothing else gets a turn in between
  const below = await yieldsWhileRendering([manySamples(1000), manySamples(999)]);
  assert.equal(below.yielded, false);
  assert.equal(below.text, renderFamilies([manySamples(1000), manySamples(999)]));
  // 2,000 samples across two families fill one slice: one turn for the rest of the process
  const full = await yieldsWhileRendering([manySamples(1000), manySamples(1000)]);
  assert.equal(full.yielded, true);
  assert.equal(full.text, renderFamilies([manySamples(1000), manySamples(1000)]));
  // the first lines, by hand
  assert.ok(
    full.text.startsWith('# HELP s S.\n# TYPE s gauge\ns{i="0"} 0\ns{i="1"} 1\n'),
    `the text begins with the first family's HELP, TYPE and first two samples: ${JSON.stringify(full.text.slice(0, 60))}`,
  );
  assert.equal(full.text.split('\n').length, 2 * (1000 + 2) + 1);
});

test('rendering into bytes yields to the event loop after every 2,000 samples of a family', async () => {
  const yields = async (family: Family): Promise<boolean> => {
    let other = false;
    setImmediate(() => (other = true));
    const bytes = await renderFamilyBytes(family);
    assert.equal(bytes.toString('utf8'), renderFamily(family));
    return other;
  };
  assert.equal(await yields(manySamples(1999)), false, '1,999 samples: no slice is full');
  assert.equal(await yields(manySamples(2000)), true, '2,000 samples fill one slice');
});

test('rendering into bytes: a line longer than a chunk, alone or after others, is written whole', async () => {
  // A chunk holds 256 KiB; these lines are 300,000 and 700,000 characters of one, two and three UTF-8 bytes.
  const long = (c: string, n: number) => c.repeat(n);
  const family: Family = {
    name: 'test_long',
    help: 'Long label values.',
    type: 'gauge',
    samples: [
      { name: 'test_long', labels: [['a', long('x', 300_000)]], value: 1 },
      { name: 'test_long', labels: [['b', 'short']], value: 2 },
      { name: 'test_long', labels: [['c', long('é', 350_000)]], value: 3 },
      { name: 'test_long', labels: [['d', long('版', 233_334)]], value: 4 },
    ],
  };
  const bytes = await renderFamilyBytes(family);
  const text = renderFamily(family);
  assert.equal(bytes.length, Buffer.byteLength(text, 'utf8'));
  // HELP 36 + TYPE 23; `test_long{a="` 13 + 300,000 + `"} 1\n` 5; 23; 13 + 700,000 + 5; 13 + 700,002 + 5
  assert.equal(bytes.length, 1_700_138);
  assert.equal(bytes.toString('utf8'), text);
});
