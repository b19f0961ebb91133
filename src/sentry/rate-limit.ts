/**
 * What Sentry's rate-limit headers tell us, kept per endpoint template.
 *
 * Sentry limits each caller per endpoint in fixed one-second windows (plus a concurrency limit) and reports
 * the state of the current window on every response. Keeping the state per endpoint means one exhausted
 * endpoint never stalls requests to the others. Self-hosted Sentry sends no headers: then nothing here ever
 * holds a request and the queue's configured rate alone applies.
 */
/** Header names, lower-case as Node delivers them. */
const RATE_LIMIT_HEADERS = {
  limit: 'x-sentry-rate-limit-limit',
  remaining: 'x-sentry-rate-limit-remaining',
  reset: 'x-sentry-rate-limit-reset',
  concurrentLimit: 'x-sentry-rate-limit-concurrentlimit',
  concurrentRemaining: 'x-sentry-rate-limit-concurrentremaining',
} as const;

export type HeaderBag = Record<string, string | string[] | undefined>;

/** The rate-limit facts one response carried; absent headers stay `undefined`. */
export interface RateLimitHeaders {
  limit: number | undefined;
  remaining: number | undefined;
  /** Epoch seconds (server clock) when the current window ends. */
  reset: number | undefined;
  concurrentLimit: number | undefined;
  concurrentRemaining: number | undefined;
  /** The server's `Date` header in epoch ms (one-second resolution), for clock-skew correction. */
  serverDateMs: number | undefined;
  /** `Retry-After` in ms from the moment of the response, when present (Sentry itself never sends it). */
  retryAfterMs: number | undefined;
}

export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function numberHeader(headers: HeaderBag, name: string): number | undefined {
  const raw = headerValue(headers, name);
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** `Retry-After` is either delay-seconds or an HTTP date. */
function parseRetryAfter(raw: string | undefined, nowMs: number): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export function readRateLimitHeaders(headers: HeaderBag, nowMs: number = Date.now()): RateLimitHeaders {
  const date = headerValue(headers, 'date');
  const serverDateMs = date === undefined ? undefined : Date.parse(date);
  return {
    limit: numberHeader(headers, RATE_LIMIT_HEADERS.limit),
    remaining: numberHeader(headers, RATE_LIMIT_HEADERS.remaining),
    reset: numberHeader(headers, RATE_LIMIT_HEADERS.reset),
    concurrentLimit: numberHeader(headers, RATE_LIMIT_HEADERS.concurrentLimit),
    concurrentRemaining: numberHeader(headers, RATE_LIMIT_HEADERS.concurrentRemaining),
    serverDateMs: serverDateMs === undefined || Number.isNaN(serverDateMs) ? undefined : serverDateMs,
    retryAfterMs: parseRetryAfter(headerValue(headers, 'retry-after'), nowMs),
  };
}

/**
 * The longest any header may hold an endpoint (a Reset far ahead, a Retry-After): Sentry's windows on the
 * endpoints the exporter calls are one second long (docs/sentry-api.md, "Rate limits"), so a wait beyond a
 * few seconds is a clock or a proxy gone wrong, and the endpoint is asked again after this long.
 */
export const MAX_HOLD_MS = 10_000;

export interface RateLimitOptions {
  /** Extra wait after a window's end, so our first request lands in the new window. */
  safetyMarginMs?: number;
  /** Longest hold any header may impose; guards against absurd Reset values. */
  maxHoldMs?: number;
  now?: () => number;
}

/**
 * Converts a Reset (server epoch seconds) into a local time, in ms. Sentry's windows follow the server's
 * clock; when the `Date` header shows our clock is off by more than its one-second resolution allows, the
 * wait is measured against the server's clock instead of ours. The wait is clamped to `[0, maxHoldMs]`.
 */
export function resetToLocalMs(
  resetSeconds: number,
  serverDateMs: number | undefined,
  receivedAtMs: number,
  maxHoldMs: number,
): number {
  let serverNow = receivedAtMs;
  // Date is truncated to the second, so the server's true time lies in [Date, Date + 1000). Allow 250 ms
  // either side for latency before calling it skew.
  if (
    serverDateMs !== undefined &&
    (receivedAtMs < serverDateMs - 250 || receivedAtMs > serverDateMs + 1250)
  ) {
    serverNow = serverDateMs + 500;
  }
  const wait = Math.min(Math.max(resetSeconds * 1000 - serverNow, 0), maxHoldMs);
  return receivedAtMs + wait;
}

class EndpointState {
  /** Server Reset (epoch s) of the window the budget belongs to; 0: none known. */
  reset = 0;
  /** Local ms from which our requests land in the next window (the window's end plus the safety margin). */
  windowEnd = 0;
  /**
   * The budget is our own guess for a window no response has described yet: the last reported Limit over
   * one second (Sentry's window length), so the first burst after a reset cannot exceed the limit either.
   */
  predicted = false;
  /** Requests we may still start in the window; `undefined`: unknown (no headers). */
  budget: number | undefined;
  /** Local ms before which nothing may start (Retry-After). */
  blockedUntil = 0;
  inflight = 0;
  /** Requests started on the endpoint so far; orders starts against responses. */
  started = 0;
  /** Admitted by `acquire` but not yet started. */
  reserved = 0;
  concurrencyCap = Number.POSITIVE_INFINITY;
  /** Requests waiting for budget or a concurrency slot, in arrival order; a wake-up goes to the first. */
  readonly waiters = new Set<() => void>();
  lastRemaining: number | undefined;
  lastLimit: number | undefined;
}

/** A reservation from `acquire`, turned into a started request by `begin` or given back by `release`. */
export interface Slot {
  readonly endpoint: string;
  state: 'reserved' | 'started' | 'done';
  /** Our requests in flight on the endpoint when this one started, itself included. */
  inflightAtStart: number;
  /** The endpoint's start counter when this one started. */
  seq: number;
}

/** Read-only view of one endpoint's state, for logs and self-metrics. */
export interface EndpointRateLimit {
  endpoint: string;
  limit: number | undefined;
  remaining: number | undefined;
  /** Epoch seconds, server clock. */
  reset: number | undefined;
  inflight: number;
}

export class RateLimitState {
  readonly #endpoints = new Map<string, EndpointState>();
  readonly #margin: number;
  readonly #maxHold: number;
  readonly #now: () => number;

  constructor(options: RateLimitOptions = {}) {
    this.#margin = options.safetyMarginMs ?? 75;
    this.#maxHold = options.maxHoldMs ?? MAX_HOLD_MS;
    this.#now = options.now ?? Date.now;
  }

  #state(endpoint: string): EndpointState {
    let s = this.#endpoints.get(endpoint);
    if (s === undefined) {
      s = new EndpointState();
      this.#endpoints.set(endpoint, s);
    }
    return s;
  }

  /** Budget still usable in the current window, `undefined` when unknown (no headers seen). */
  #budget(s: EndpointState, now: number): number | undefined {
    if (s.budget === undefined) return undefined;
    if (now < s.windowEnd) return s.budget;
    if (s.lastLimit === undefined) {
      s.budget = undefined;
      return undefined;
    }
    s.predicted = true;
    s.windowEnd = now + 1000;
    s.budget = s.lastLimit;
    return s.budget;
  }

  /** Ms until the endpoint may start a request, ignoring concurrency; 0 when it may now. */
  holdMs(endpoint: string): number {
    const s = this.#endpoints.get(endpoint);
    if (s === undefined) return 0;
    const now = this.#now();
    let until = s.blockedUntil;
    const budget = this.#budget(s, now);
    if (budget !== undefined && budget - s.reserved <= 0) until = Math.max(until, s.windowEnd);
    return Math.max(0, until - now);
  }

  /**
   * Waits until the endpoint has budget and a concurrency slot, then reserves them. Resolves with a slot
   * that must go to `begin` (when the request starts) or `release` (when it never does).
   */
  async acquire(endpoint: string, signal?: AbortSignal): Promise<Slot> {
    const s = this.#state(endpoint);
    for (;;) {
      signal?.throwIfAborted();
      const hold = this.holdMs(endpoint);
      if (hold > 0) {
        await this.#waitFor(s, hold, signal);
        continue;
      }
      if (s.inflight + s.reserved >= s.concurrencyCap) {
        await this.#waitFor(s, undefined, signal);
        continue;
      }
      s.reserved++;
      // One wake-up per freed slot: if room is left after this reservation, pass it on to the next waiter.
      if (this.holdMs(endpoint) === 0 && s.inflight + s.reserved < s.concurrencyCap) this.#wake(s);
      return { endpoint, state: 'reserved', inflightAtStart: 0, seq: 0 };
    }
  }

  /**
   * Turns a reservation into a started request, unless a response that arrived meanwhile closed the
   * endpoint: then the reservation is given back and `false` tells the caller to acquire again.
   */
  begin(slot: Slot): boolean {
    const s = this.#state(slot.endpoint);
    if (slot.state !== 'reserved') throw new Error('slot is not reserved');
    s.reserved--;
    const now = this.#now();
    const budget = this.#budget(s, now);
    const held = now < s.blockedUntil || (budget !== undefined && budget <= 0);
    if (held || s.inflight >= s.concurrencyCap) {
      slot.state = 'done';
      this.#wake(s);
      return false;
    }
    if (budget !== undefined) s.budget = budget - 1;
    s.inflight++;
    slot.state = 'started';
    slot.inflightAtStart = s.inflight;
    slot.seq = ++s.started;
    return true;
  }

  /** Gives back a slot; with the response headers when the request got an answer. */
  release(slot: Slot, response?: { status: number; headers: RateLimitHeaders; receivedAtMs: number }): void {
    const s = this.#state(slot.endpoint);
    if (slot.state === 'reserved') s.reserved--;
    else if (slot.state === 'started') s.inflight--;
    else return;
    const started = slot.state === 'started';
    slot.state = 'done';
    if (response !== undefined && started) this.#observe(s, slot, response);
    this.#wake(s);
  }

  #observe(
    s: EndpointState,
    slot: Slot,
    { status, headers, receivedAtMs }: { status: number; headers: RateLimitHeaders; receivedAtMs: number },
  ): void {
    const h = sane(headers);
    if (h.limit !== undefined) s.lastLimit = h.limit;
    if (h.remaining !== undefined) s.lastRemaining = h.remaining;
    const reported = status === 429 ? 0 : h.remaining;
    if (h.reset !== undefined && reported !== undefined) {
      // The server counted up to this request; ours started after it may have reached it too, so they are
      // deducted (a conservative bound: some may land in the next window).
      const remaining = reported - (s.started - slot.seq);
      if (h.reset > s.reset) {
        s.reset = h.reset;
        s.windowEnd = resetToLocalMs(h.reset, h.serverDateMs, receivedAtMs, this.#maxHold) + this.#margin;
        s.budget = remaining;
        s.predicted = false;
      } else if (h.reset === s.reset && !s.predicted) {
        // Same window: our own count already deducted every request we started; the server may know of
        // more (other callers with the same token), so the smaller figure wins.
        s.budget = Math.min(s.budget ?? remaining, remaining);
      }
      // An older window (a slow response from before the reset) tells nothing new.
    }
    if (h.retryAfterMs !== undefined) {
      s.blockedUntil = Math.max(s.blockedUntil, receivedAtMs + Math.min(h.retryAfterMs, this.#maxHold));
    }
    if (h.concurrentRemaining !== undefined) {
      // ConcurrentRemaining counts this request as running; with it finished, we may run as many as ran
      // beside it plus what the server still had free.
      let cap = Math.max(1, slot.inflightAtStart + h.concurrentRemaining);
      if (h.concurrentLimit !== undefined && h.concurrentLimit >= 1) cap = Math.min(cap, h.concurrentLimit);
      s.concurrencyCap = cap;
    } else if (h.concurrentLimit !== undefined && h.concurrentLimit >= 1) {
      s.concurrencyCap = h.concurrentLimit;
    }
  }

  /**
   * Wakes the longest-waiting request only (and takes it off the list, so a second wake-up in the same tick
   * reaches the next one). Waking every waiter on each finished request would cost O(waiters) per request:
   * with a thousand release lookups queued behind a concurrency cap of 25, that is a million wake-ups per
   * cycle, and the event loop (hence /metrics) stalls for hundreds of milliseconds.
   */
  #wake(s: EndpointState): void {
    for (const w of s.waiters) {
      s.waiters.delete(w);
      w();
      return;
    }
  }

  /**
   * Waits for a wake-up on the endpoint (a slot came free), for `ms`, or for the caller's abort, whichever
   * comes first. A plain promise and one timer: waking a waiter allocates nothing.
   */
  async #waitFor(s: EndpointState, ms: number | undefined, signal?: AbortSignal): Promise<void> {
    let woken = false;
    let onWake: () => void = () => undefined;
    let onAbort: () => void = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      onWake = () => {
        woken = true;
        resolve();
      };
      onAbort = resolve;
      timer = setTimeout(resolve, ms ?? this.#maxHold);
      s.waiters.add(onWake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    clearTimeout(timer);
    s.waiters.delete(onWake);
    signal?.removeEventListener('abort', onAbort);
    // A wake-up meant for a request that is leaving (aborted) goes to the next one.
    if (woken && signal?.aborted) this.#wake(s);
    signal?.throwIfAborted();
  }

  /**
   * Why a request to the endpoint waits now, if its rate-limit state holds it: for the message of a call
   * abandoned while it waited (the run's deadline passed).
   */
  describeHold(endpoint: string): string | undefined {
    const s = this.#endpoints.get(endpoint);
    if (s === undefined) return undefined;
    const hold = this.holdMs(endpoint);
    if (hold > 0) {
      const reading = `X-Sentry-Rate-Limit-Remaining ${s.lastRemaining ?? 'absent'}, -Limit ${s.lastLimit ?? 'absent'}`;
      return `held by Sentry's rate-limit headers for ${Math.ceil(hold / 1000)} s more (${reading}; one hold lasts at most ${this.#maxHold / 1000} s)`;
    }
    if (s.inflight + s.reserved >= s.concurrencyCap) {
      return `waiting for one of the ${s.concurrencyCap} concurrent requests Sentry's headers allow`;
    }
    return undefined;
  }

  /** Known state per endpoint (only endpoints that sent rate-limit headers). */
  snapshot(): EndpointRateLimit[] {
    const out: EndpointRateLimit[] = [];
    for (const [endpoint, s] of this.#endpoints) {
      if (s.lastRemaining === undefined && s.lastLimit === undefined) continue;
      out.push({
        endpoint,
        limit: s.lastLimit,
        remaining: s.lastRemaining,
        reset: s.reset === 0 ? undefined : s.reset,
        inflight: s.inflight,
      });
    }
    return out;
  }
}

/**
 * The headers of one answer as far as they make sense. A `Limit` below 1 (a proxy's or a misconfigured
 * server's `0`) says nothing usable: the whole reading is ignored, or every later window would be predicted
 * empty and the endpoint never asked again. `Remaining` above `Limit` is cut to it; fractions are floored.
 */
function sane(h: RateLimitHeaders): RateLimitHeaders {
  const limit = h.limit === undefined ? undefined : Math.floor(h.limit);
  if (limit !== undefined && limit < 1) {
    return { ...h, limit: undefined, remaining: undefined, reset: undefined };
  }
  let remaining = h.remaining === undefined ? undefined : Math.floor(h.remaining);
  if (remaining !== undefined && limit !== undefined) remaining = Math.min(remaining, limit);
  return { ...h, limit, remaining };
}
