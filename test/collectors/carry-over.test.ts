/**
 * Counters never go down within a billing cycle: a refused project keeps its last counter rows for a while
 * (never a 0), a read project keeps every series at least at its earlier value of the cycle.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CarryOver } from '../../src/collectors/carry-over.js';
import type { CounterRows } from '../../src/collectors/carry-over.js';

interface Row {
  project: string;
  n: number;
  /** The series within the project (default ''). */
  s?: string;
}

const ROWS: CounterRows<Row> = {
  project: (r) => r.project,
  series: (r) => r.s ?? '',
  value: (r) => r.n,
  withValue: (r, n) => ({ ...r, n }),
};

test('a missing project keeps the rows of its last readable run, in the same cycle, for at most the limit', () => {
  const carry = new CarryOver<Row>(ROWS, 60_000);
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

test('a read project keeps every series of the cycle at least at its earlier value; a new cycle starts afresh', () => {
  const carry = new CarryOver<Row>(ROWS, 60_000);
  const cycle = Date.parse('2026-12-01T00:00:00Z');
  const read = ['a', 'b'];
  const at = (now: number, c = cycle) => ({ now, cycle: c });
  carry.merge(
    [
      { project: 'a', s: 'x', n: 5 },
      { project: 'a', s: 'y', n: 3 },
      { project: 'b', s: 'x', n: 1 },
    ],
    read,
    new Set(),
    at(0),
  );
  // a's y left out of this answer (a malformed group), a's x smaller (a part of it missing), b grown.
  const second = carry.merge(
    [
      { project: 'a', s: 'x', n: 4 },
      { project: 'b', s: 'x', n: 2 },
    ],
    read,
    new Set(),
    at(10_000),
  );
  assert.deepEqual(second.rows, [
    { project: 'a', s: 'x', n: 5 },
    { project: 'a', s: 'y', n: 3 },
    { project: 'b', s: 'x', n: 2 },
  ]);
  assert.equal(second.floored, 2);
  // Growth past the earlier value is Sentry's; a new series is added.
  const third = carry.merge(
    [
      { project: 'a', s: 'x', n: 8 },
      { project: 'a', s: 'y', n: 3 },
      { project: 'a', s: 'z', n: 1 },
    ],
    read,
    new Set(),
    at(20_000),
  );
  assert.deepEqual(third.rows, [
    { project: 'a', s: 'x', n: 8 },
    { project: 'a', s: 'y', n: 3 },
    { project: 'a', s: 'z', n: 1 },
    { project: 'b', s: 'x', n: 2 },
  ]);
  assert.equal(third.floored, 1, "b's x, missing from this answer");
  // A new cycle: Sentry's values alone, smaller ones included (the documented reset).
  const next = carry.merge([{ project: 'a', s: 'x', n: 1 }], read, new Set(), at(30_000, cycle + 1));
  assert.deepEqual(next.rows, [{ project: 'a', s: 'x', n: 1 }]);
  assert.equal(next.floored, 0);
  // A project no longer read nor missing (deleted) is forgotten: back in the list, it starts from its rows.
  carry.merge([{ project: 'a', s: 'x', n: 2 }], ['a'], new Set(), at(40_000, cycle + 1));
  assert.deepEqual(
    carry.merge([{ project: 'b', s: 'x', n: 1 }], read, new Set(), at(50_000, cycle + 1)).rows,
    [
      { project: 'a', s: 'x', n: 2 },
      { project: 'b', s: 'x', n: 1 },
    ],
  );
});
