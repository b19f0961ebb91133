/** A refused project keeps its last counter rows, within one billing cycle and for a while; never a 0. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CarryOver } from '../../src/collectors/carry-over.js';

interface Row {
  project: string;
  n: number;
}

test('a missing project keeps the rows of its last readable run, in the same cycle, for at most the limit', () => {
  const carry = new CarryOver<Row>((r) => r.project, 60_000);
  const cycle = Date.parse('2026-12-01T00:00:00Z');
  const read = ['a', 'b'];
  const first = carry.merge(
    [
      { project: 'a', n: 5 },
      { project: 'b', n: 7 },
    ],
    read,
    new Set(),
    { now: 0, cycle },
  );
  assert.deepEqual(first.carried, []);
  // b refused: its 7 stays, a moves on.
  const second = carry.merge([{ project: 'a', n: 6 }], read, new Set(['b']), { now: 30_000, cycle });
  assert.deepEqual(second.rows, [
    { project: 'a', n: 6 },
    { project: 'b', n: 7 },
  ]);
  assert.deepEqual(second.carried, ['b']);
  // Still refused past the limit after its last readable run: left out, not 0.
  const third = carry.merge([{ project: 'a', n: 6 }], read, new Set(['b']), { now: 60_001, cycle });
  assert.deepEqual(third.rows, [{ project: 'a', n: 6 }]);
  assert.deepEqual(third.carried, []);
  // Readable again: its own rows; then refused in a new cycle: nothing carried from the old one.
  carry.merge(
    [
      { project: 'a', n: 7 },
      { project: 'b', n: 9 },
    ],
    read,
    new Set(),
    { now: 61_000, cycle },
  );
  const next = carry.merge([], read, new Set(['b']), { now: 62_000, cycle: cycle + 1 });
  assert.deepEqual(next.rows, [], 'a new cycle: the counters start again, nothing from the old one');
  // A project read with no rows is remembered as such: nothing to carry.
  carry.merge([], read, new Set(), { now: 63_000, cycle });
  assert.deepEqual(carry.merge([], read, new Set(['a']), { now: 64_000, cycle }).rows, []);
});
