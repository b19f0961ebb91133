/**
 * When to try a Sentry request again, and how long to wait first.
 *
 * Transient failures (429, 5xx, network errors, timeouts) are retried; other 4xx are answers that will not
 * change. A 429 waits until the rate-limit window ends (`X-Sentry-Rate-Limit-Reset`; Sentry sends no
 * Retry-After, but one is honoured when a proxy adds it) rather than the exponential backoff, which would
 * be either too short (another 429) or needlessly long.
 */
import type { RetryConfig } from '../config/schema.js';
import { MAX_HOLD_MS, resetToLocalMs, type RateLimitHeaders } from './rate-limit.js';
import type { SentryErrorKind } from './errors.js';

/** What one attempt ended with, as far as the retry decision cares. */
export type AttemptOutcome =
  | { kind: 'http'; status: number; headers?: RateLimitHeaders; receivedAtMs?: number }
  | { kind: Exclude<SentryErrorKind, 'http'> };

export interface RetryDecision {
  retry: boolean;
  /** Ms to wait before the next attempt (when `retry`). */
  waitMs: number;
  /** What the wait was based on, for debug logs. */
  basis?: 'backoff' | 'reset' | 'retry-after';
}

/** How often and how patiently a failed request is tried again (SENTRY_RETRY_*). */
export type RetryOptions = RetryConfig;

export interface RetryPolicyOptions {
  /** Added to a Reset-based wait so the retry lands in the new window. */
  safetyMarginMs?: number;
  /** Longest wait a header may impose. */
  maxHoldMs?: number;
  random?: () => number;
  now?: () => number;
}

export function isRetryable(outcome: AttemptOutcome): boolean {
  switch (outcome.kind) {
    case 'http':
      return outcome.status === 429 || outcome.status >= 500;
    case 'network':
    case 'timeout':
      return true;
    default:
      return false;
  }
}

export class RetryPolicy {
  readonly config: RetryOptions;
  readonly #margin: number;
  readonly #maxHold: number;
  readonly #random: () => number;
  readonly #now: () => number;

  constructor(config: RetryOptions, options: RetryPolicyOptions = {}) {
    if (!(config.tries >= 1)) throw new RangeError('retry tries must be >= 1');
    this.config = config;
    this.#margin = options.safetyMarginMs ?? 75;
    this.#maxHold = options.maxHoldMs ?? MAX_HOLD_MS;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /** Exponential backoff before attempt `attempt + 1`, after `attempt` failed attempts (1-based). */
  backoffMs(attempt: number): number {
    const { delay, maxDelay, backoff, jitter } = this.config;
    const base = Math.min(delay * Math.pow(backoff, Math.max(0, attempt - 1)), maxDelay);
    return Math.round((base + this.#random() * jitter) * 1000);
  }

  /** Decides after attempt number `attempt` (1-based) ended with `outcome`. */
  decide(outcome: AttemptOutcome, attempt: number): RetryDecision {
    if (!isRetryable(outcome) || attempt >= this.config.tries) return { retry: false, waitMs: 0 };
    if (outcome.kind === 'http' && outcome.status === 429) {
      const h = outcome.headers;
      const receivedAt = outcome.receivedAtMs ?? this.#now();
      const untilReset =
        h?.reset === undefined
          ? undefined
          : resetToLocalMs(h.reset, h.serverDateMs, receivedAt, this.#maxHold) - this.#now() + this.#margin;
      const retryAfter = h?.retryAfterMs === undefined ? undefined : Math.min(h.retryAfterMs, this.#maxHold);
      if (retryAfter !== undefined) {
        // Never earlier than the window allows, whatever Retry-After says.
        return { retry: true, waitMs: Math.max(retryAfter, untilReset ?? 0, 0), basis: 'retry-after' };
      }
      // A Reset already in the past (clock skew the Date header could not reveal) falls back to the backoff
      // rather than hammering the endpoint.
      if (untilReset !== undefined && untilReset > this.#margin) {
        return { retry: true, waitMs: untilReset, basis: 'reset' };
      }
    }
    return { retry: true, waitMs: this.backoffMs(attempt), basis: 'backoff' };
  }
}
