/**
 * The one request queue every Sentry call goes through: p-queue caps the request rate, `FairSlots` the
 * number in flight (SENTRY_API_CONCURRENCY) shared fairly between the callers (the collectors), and the
 * per-endpoint `RateLimitState` holds an endpoint back when Sentry's headers say its window is used up. A
 * held endpoint waits outside both, so it never occupies a slot other endpoints could use.
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

/** A request given up (its signal fired) while it waited in the queue: what it waited for. */
export class QueueWaitAbandoned extends Error {
  override readonly name = 'QueueWaitAbandoned';
  constructor(
    /** e.g. `held by Sentry's rate-limit headers for 4 s more (...)`. */
    readonly waitingFor: string,
    cause: unknown,
  ) {
    super(`abandoned while ${waitingFor}`, { cause });
  }
}

/**
 * The request slots (SENTRY_API_CONCURRENCY), shared between callers: a free slot goes to the waiting caller
 * with the fewest requests in flight, on a tie to the one served least recently (each caller's own requests
 * in arrival order), and one caller never holds more than `perCaller` of them: half, rounded up, and always
 * one less than all. A caller whose endpoint hangs thus delays its own requests only; the others keep at
 * least one slot. Requests made for no caller (tests, tools) share no cap.
 */
export class FairSlots {
  readonly perCaller: number;
  #busy = 0;
  readonly #inUse = new Map<string, number>();
  /** When each caller was last given a slot (a sequence number). */
  readonly #served = new Map<string, number>();
  #sequence = 0;
  /** Waiters per caller, in arrival order. */
  readonly #waiting = new Map<string, Array<() => void>>();

  constructor(readonly capacity: number) {
    this.perCaller = capacity <= 1 ? 1 : Math.min(capacity - 1, Math.ceil(capacity / 2));
  }

  /** Waits for a slot for `caller`; it must be given back with `leave`. */
  enter(caller: string | undefined, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const key = caller ?? '';
    if (this.#waiting.size === 0 && this.#may(key)) {
      this.#take(key);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const list = this.#waiting.get(key);
        const at = list?.indexOf(waiter) ?? -1;
        if (list !== undefined && at !== -1) {
          list.splice(at, 1);
          if (list.length === 0) this.#waiting.delete(key);
        }
        reject(signal?.reason as Error);
      };
      const waiter = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const list = this.#waiting.get(key);
      if (list === undefined) this.#waiting.set(key, [waiter]);
      else list.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pump();
    });
  }

  leave(caller: string | undefined): void {
    const key = caller ?? '';
    this.#busy--;
    const n = (this.#inUse.get(key) ?? 1) - 1;
    if (n > 0) this.#inUse.set(key, n);
    else this.#inUse.delete(key);
    this.#pump();
  }

  /** Why `caller` waits for a slot now. */
  describe(caller: string | undefined): string {
    const mine = this.#inUse.get(caller ?? '') ?? 0;
    return mine >= this.perCaller && caller !== undefined
      ? `waiting for a request slot: ${caller} has ${mine} of the ${this.capacity} (SENTRY_API_CONCURRENCY) in flight, the most one collector may hold`
      : `waiting for one of the ${this.capacity} request slots (SENTRY_API_CONCURRENCY), all in flight`;
  }

  #may(key: string): boolean {
    return this.#busy < this.capacity && (key === '' || (this.#inUse.get(key) ?? 0) < this.perCaller);
  }

  #take(key: string): void {
    this.#busy++;
    this.#inUse.set(key, (this.#inUse.get(key) ?? 0) + 1);
    this.#served.set(key, ++this.#sequence);
  }

  /** Hands free slots to the waiting callers: the fewest in flight first, then the least recently served. */
  #pump(): void {
    while (this.#busy < this.capacity) {
      let next: string | undefined;
      let best = [Infinity, Infinity];
      for (const key of this.#waiting.keys()) {
        if (!this.#may(key)) continue;
        const rank = [this.#inUse.get(key) ?? 0, this.#served.get(key) ?? 0];
        if (rank[0]! < best[0]! || (rank[0] === best[0] && rank[1]! < best[1]!)) {
          next = key;
          best = rank;
        }
      }
      if (next === undefined) return;
      const list = this.#waiting.get(next)!;
      const waiter = list.shift()!;
      if (list.length === 0) this.#waiting.delete(next);
      this.#take(next);
      waiter();
    }
  }
}

export class RequestQueue {
  readonly rateLimits: RateLimitState;
  readonly #queue: PQueue;
  readonly #slots: FairSlots;

  constructor(options: RequestQueueOptions) {
    if (!(options.rate > 0) || !Number.isFinite(options.rate)) throw new RangeError('rate must be > 0');
    if (!(options.concurrency >= 1)) throw new RangeError('concurrency must be >= 1');
    // Sentry counts in fixed one-second windows aligned to the clock; p-queue's strict (sliding) window
    // never starts more than `rate` requests in any 1000 ms span, so no aligned window sees more either.
    // Its concurrency is never reached: FairSlots lets no more requests in.
    const whole = Number.isInteger(options.rate);
    this.#queue = new PQueue({
      concurrency: Math.floor(options.concurrency),
      interval: whole ? 1000 : Math.ceil(1000 / options.rate),
      intervalCap: whole ? options.rate : 1,
      strict: true,
    });
    this.#slots = new FairSlots(Math.floor(options.concurrency));
    this.rateLimits = new RateLimitState(options.rateLimit);
  }

  /**
   * Runs `task` once the endpoint is open, `caller` has a request slot and the rate allows it. The task
   * receives its slot and must hand it back through `rateLimits.release` with the response headers. A
   * request abandoned (its signal fired) while it waited rejects with a `QueueWaitAbandoned` saying what for.
   */
  async run<T>(
    endpoint: string,
    task: (slot: Slot) => Promise<T>,
    signal?: AbortSignal,
    caller?: string,
  ): Promise<T> {
    for (;;) {
      const slot = await this.#waiting(
        () => this.rateLimits.acquire(endpoint, signal),
        signal,
        () => this.rateLimits.describeHold(endpoint) ?? 'waiting for its endpoint',
      );
      try {
        await this.#waiting(
          () => this.#slots.enter(caller, signal),
          signal,
          () => this.#slots.describe(caller),
        );
        try {
          const result = await this.#waiting(
            () =>
              this.#queue.add(
                async (): Promise<T | typeof DEFERRED> => {
                  if (!this.rateLimits.begin(slot)) return DEFERRED;
                  return task(slot);
                },
                { signal },
              ),
            signal,
            () => 'waiting for its turn at the request rate (SENTRY_API_RATE)',
            slot,
          );
          if (result !== DEFERRED) return result as T;
        } finally {
          this.#slots.leave(caller);
        }
      } finally {
        // Still reserved when the queue dropped the task (abort) before it started.
        this.rateLimits.release(slot);
      }
    }
  }

  /**
   * Awaits one stage of the queue; when the signal fired during it (and, for the last stage, before the
   * request started), says what the request was waiting for.
   */
  async #waiting<R>(
    stage: () => Promise<R>,
    signal: AbortSignal | undefined,
    what: () => string,
    slot?: Slot,
  ): Promise<R> {
    try {
      return await stage();
    } catch (err) {
      if (signal?.aborted !== true || (slot !== undefined && slot.state !== 'reserved')) throw err;
      throw new QueueWaitAbandoned(what(), err);
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
