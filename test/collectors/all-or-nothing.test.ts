/**
 * The collectors' concurrency helper (src/collectors/all-or-nothing.ts): how many items are under way at a
 * time, that results keep the order of the items, and that the first failure (or the caller's abort)
 * abandons the rest.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allOrNothing } from '../../src/collectors/all-or-nothing.js';

/** Work that counts the items under way and yields to the event loop a few times before answering. */
function counting() {
  const state = { active: 0, max: 0, started: [] as number[] };
  const work = async (i: number): Promise<number> => {
    state.started.push(i);
    state.active++;
    state.max = Math.max(state.max, state.active);
    for (let k = 0; k < 3; k++) await new Promise<void>((resolve) => setImmediate(resolve));
    state.active--;
    return i * 10;
  };
  return { state, work };
}

test('with a limit, at most that many items are under way, started in order; results keep the order', async () => {
  const items = [0, 1, 2, 3, 4];
  const limited = counting();
  assert.deepEqual(
    await allOrNothing(items, new AbortController().signal, limited.work, 2),
    [0, 10, 20, 30, 40],
  );
  assert.equal(limited.state.max, 2);
  assert.deepEqual(limited.state.started, [0, 1, 2, 3, 4]);

  const unlimited = counting();
  assert.deepEqual(
    await allOrNothing(items, new AbortController().signal, unlimited.work),
    [0, 10, 20, 30, 40],
  );
  assert.equal(unlimited.state.max, 5);

  // A limit at or above the number of items starts them all at once.
  const wide = counting();
  await allOrNothing(items, new AbortController().signal, wide.work, 5);
  assert.equal(wide.state.max, 5);
});

test('the first failure rejects, aborts the work under way and starts no further item', async () => {
  const signals: AbortSignal[] = [];
  const started: number[] = [];
  let release = (): void => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const failure = new Error('item 1 failed');
  const run = allOrNothing(
    [0, 1, 2, 3],
    new AbortController().signal,
    async (i, signal) => {
      started.push(i);
      signals[i] = signal;
      if (i === 0) await held;
      if (i === 1) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        throw failure;
      }
      return i;
    },
    2,
  );
  await assert.rejects(run, failure);
  assert.equal(signals[0]?.aborted, true);
  release();
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.deepEqual(started, [0, 1]);
});

test("the caller's abort between two items rejects with its reason; on success the items' signal is aborted too", async () => {
  const caller = new AbortController();
  const stop = new Error('collector run abandoned');
  const started: number[] = [];
  await assert.rejects(
    allOrNothing(
      [0, 1, 2],
      caller.signal,
      async (i) => {
        started.push(i);
        if (i === 0) caller.abort(stop);
        return i;
      },
      1,
    ),
    stop,
  );
  assert.deepEqual(started, [0]);

  // Once the results are in, whatever an item left running on its signal is told to stop.
  let seen: AbortSignal | undefined;
  await allOrNothing([0], new AbortController().signal, async (_i, signal) => {
    seen = signal;
    return 0;
  });
  assert.equal(seen?.aborted, true);
});
