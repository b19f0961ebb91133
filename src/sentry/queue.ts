/**
 * The one request queue every Sentry call goes through: p-queue caps the request rate and the number in
 * flight, and the per-endpoint `RateLimitState` holds an endpoint back when Sentry's headers say its window
 * is used up. A held endpoint waits outside p-queue, so it never occupies a slot other endpoints could use.
 */
import PQueue from 'p-queue';
import { RateLimitState, type RateLimitOptions, type Slot } from './rate-limit.js';

export interface RequestQueueOptions {
  /** Requests per second; may be fractional (0.5 = one every two seconds). */
  rate: number;
  /** Requests in flight at once. */
  concurrency: number;
  rateLimit?: RateLimitOptions;
}

/** Returned by a task that found its endpoint closed when it came to start. */
const DEFERRED: unique symbol = Symbol('deferred');

export class RequestQueue {
  readonly rateLimits: RateLimitState;
  readonly #queue: PQueue;

  constructor(options: RequestQueueOptions) {
    if (!(options.rate > 0) || !Number.isFinite(options.rate)) throw new RangeError('rate must be > 0');
    if (!(options.concurrency >= 1)) throw new RangeError('concurrency must be >= 1');
    // Sentry counts in fixed one-second windows aligned to the clock; p-queue's strict (sliding) window
    // never starts more than `rate` requests in any 1000 ms span, so no aligned window sees more either.
    const whole = Number.isInteger(options.rate);
    this.#queue = new PQueue({
      concurrency: Math.floor(options.concurrency),
      interval: whole ? 1000 : Math.ceil(1000 / options.rate),
      intervalCap: whole ? options.rate : 1,
      strict: true,
    });
    this.rateLimits = new RateLimitState(options.rateLimit);
  }

  /**
   * Runs `task` once the endpoint is open and the queue allows it. The task receives its slot and must
   * hand it back through `rateLimits.release` with the response headers.
   */
  async run<T>(endpoint: string, task: (slot: Slot) => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (;;) {
      const slot = await this.rateLimits.acquire(endpoint, signal);
      try {
        const result = await this.#queue.add(
          async (): Promise<T | typeof DEFERRED> => {
            if (!this.rateLimits.begin(slot)) return DEFERRED;
            return task(slot);
          },
          { signal },
        );
        if (result !== DEFERRED) return result as T;
      } finally {
        // Still reserved when the queue dropped the task (abort) before it started.
        this.rateLimits.release(slot);
      }
    }
  }

  /** Requests waiting for the queue (not counting those held by rate-limit state). */
  get size(): number {
    return this.#queue.size;
  }

  get pending(): number {
    return this.#queue.pending;
  }

  /** Drops queued tasks; callers abort their own signals to settle their promises. */
  clear(): void {
    this.#queue.clear();
  }
}
