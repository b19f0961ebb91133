import { setMaxListeners } from 'node:events';

/**
 * Runs `work` for every item at once (the Sentry client's queue paces the requests) and, as soon as one
 * fails, abandons the others: the run has failed anyway, and their requests would only spend the rate
 * budget. Rejects with the first error.
 */
export async function allOrNothing<T, R>(
  items: readonly T[],
  signal: AbortSignal,
  work: (item: T, signal: AbortSignal) => Promise<R>,
): Promise<R[]> {
  const failFast = new AbortController();
  const linked = AbortSignal.any([signal, failFast.signal]);
  // One listener per request in flight on these signals; there can be hundreds.
  setMaxListeners(0, failFast.signal, linked);
  try {
    return await Promise.all(
      items.map(async (item) => {
        try {
          return await work(item, linked);
        } catch (err) {
          failFast.abort(err);
          throw err;
        }
      }),
    );
  } finally {
    failFast.abort();
  }
}
