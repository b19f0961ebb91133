/**
 * sentry.io's API rate limiting: a fixed one-second window (aligned to whole epoch seconds) per token and
 * endpoint, plus a limit on concurrent requests per token. A refused request does not use a window slot.
 */
export interface RateLimitConfig {
  perSecond: number;
  concurrent: number;
}

export interface RateDecision {
  allowed: boolean;
  /** 429 detail text when refused. */
  detail?: string;
  headers: Record<string, string>;
  /** Call once the response is finished, for an allowed request. */
  release: () => void;
}

export class RateLimiter {
  private readonly windows = new Map<string, { second: number; used: number }>();
  private readonly inflight = new Map<string, number>();

  private config: RateLimitConfig | false = false;

  constructor(config: RateLimitConfig | false) {
    this.setConfig(config);
  }

  setConfig(config: RateLimitConfig | false): void {
    if (config !== false) {
      for (const field of ['perSecond', 'concurrent'] as const) {
        const v = config[field];
        if (!Number.isInteger(v) || v < 1)
          throw new RangeError(`rateLimit.${field} must be a positive integer, got ${v}`);
      }
      config = { perSecond: config.perSecond, concurrent: config.concurrent };
    }
    this.config = config;
    this.windows.clear();
  }

  /** Counts in-flight requests even with limits off, so re-enabling them starts from the truth. */
  check(token: string, endpoint: string, nowMs: number, emitHeaders: boolean): RateDecision {
    const second = Math.floor(nowMs / 1000);
    const key = `${token}\u0000${endpoint}`;
    let window = this.windows.get(key);
    if (!window || window.second !== second) {
      window = { second, used: 0 };
      this.windows.set(key, window);
    }
    const inflight = this.inflight.get(token) ?? 0;
    const config = this.config;
    const headers = (remaining: number, concurrentRemaining: number): Record<string, string> =>
      config && emitHeaders
        ? {
            'X-Sentry-Rate-Limit-Limit': String(config.perSecond),
            'X-Sentry-Rate-Limit-Remaining': String(Math.max(0, remaining)),
            'X-Sentry-Rate-Limit-Reset': String(second + 1),
            'X-Sentry-Rate-Limit-ConcurrentLimit': String(config.concurrent),
            'X-Sentry-Rate-Limit-ConcurrentRemaining': String(Math.max(0, concurrentRemaining)),
          }
        : {};
    // Self-hosted Sentry (no headers) does not rate limit the API either.
    if (config && emitHeaders) {
      if (window.used >= config.perSecond) {
        return {
          allowed: false,
          detail: `You are attempting to use this endpoint too frequently. Limit is ${config.perSecond} requests in 1 seconds`,
          headers: headers(0, config.concurrent - inflight),
          release: () => {},
        };
      }
      if (inflight >= config.concurrent) {
        return {
          allowed: false,
          detail: `You are attempting to go above the allowed concurrency for this endpoint. Concurrency limit is ${config.concurrent}`,
          headers: headers(config.perSecond - window.used, 0),
          release: () => {},
        };
      }
    }
    window.used++;
    this.inflight.set(token, inflight + 1);
    let released = false;
    return {
      allowed: true,
      headers: config ? headers(config.perSecond - window.used, config.concurrent - inflight - 1) : {},
      release: () => {
        if (released) return;
        released = true;
        const n = (this.inflight.get(token) ?? 1) - 1;
        if (n <= 0) this.inflight.delete(token);
        else this.inflight.set(token, n);
      },
    };
  }
}
