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
  assert.ok(full.text.startsWith('# HELP s S.\n# TYPE s gauge\ns{i="0"} 0\ns{i="1"} 1\n'));
  assert.equal(full.text.split('\n').length, 2 * (1000 + 2) + 1);
});
