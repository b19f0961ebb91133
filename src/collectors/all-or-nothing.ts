import { setMaxListeners } from 'node:events';

/**
 * Runs `work` for every item (the Sentry client's queue paces the requests) and, as soon as one fails,
 * abandons the others: the run has failed anyway, and their requests would only spend the rate budget.
 * Rejects with the first error.
 *
 * Without `limit` every item starts at once. With it, at most `limit` items are under way at a time, started
 * in the order given: a long list (a request per issue) then neither fills the request queue ahead of other
 * collectors' requests nor loses the order it was sorted in.
 */
export async function allOrNothing<T, R>(
  items: readonly T[],
  signal: AbortSignal,
  work: (item: T, signal: AbortSignal) => Promise<R>,
  limit?: number,
): Promise<R[]> {
  const failFast = new AbortController();
  const linked = AbortSignal.any([signal, failFast.signal]);
  // One listener per request in flight on these signals; there can be hundreds.
  setMaxListeners(0, failFast.signal, linked);
  const one = async (item: T): Promise<R> => {
    try {
      return await work(item, linked);
    } catch (err) {
      failFast.abort(err);
      throw err;
    }
  };
  try {
    if (limit === undefined || limit >= items.length) return await Promise.all(items.map(one));
    const results: R[] = new Array<R>(items.length);
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length && !linked.aborted) {
        const i = next++;
        results[i] = await one(items[i]!);
        done++;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
    // Stopped between two items by the caller's signal: the run was abandoned.
    if (done < items.length) throw signal.reason ?? new Error('aborted');
    return results;
  } finally {
    failFast.abort();
  }
}
