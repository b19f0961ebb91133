/**
 * Resource limits of the HTTP server. Every scrape is a small GET with no body, so the limits are tight:
 * they bound what one misbehaving or hostile client can hold (memory, sockets, time) without getting in the
 * way of Prometheus, which sends a few hundred bytes of headers and reads a cached body.
 */
export interface ServerLimits {
  /** Largest request head (request line + headers) in bytes; larger gets `431`. Node's own default is 16 KiB. */
  maxHeaderSize: number;
  /**
   * Milliseconds a client may take to send the complete request head. Drops slowloris-style clients that
   * trickle headers one byte at a time; must not exceed `requestTimeout`.
   */
  headersTimeout: number;
  /** Milliseconds a client may take to send the whole request (head and body); `408` after that. */
  requestTimeout: number;
  /** Milliseconds a socket may sit idle (no bytes either way) before it is destroyed. */
  connectionTimeout: number;
  /**
   * Milliseconds an idle keep-alive connection is kept between requests. Longer than the common 60 s scrape
   * interval so Prometheus reuses its connection (and TLS session) instead of reconnecting on every scrape.
   */
  keepAliveTimeout: number;
  /**
   * How often Node checks open connections for `headersTimeout`/`requestTimeout`, in milliseconds. Node's
   * default (30 s) would let a slow client live up to 30 s past its deadline.
   */
  connectionsCheckingInterval: number;
  /** Open sockets at most; further connections are closed at once by the kernel-facing accept loop. */
  maxConnections: number;
  /** Largest request body in bytes; no route takes a body, so anything sizeable is refused with `413`. */
  bodyLimit: number;
  /** Longest URL path shown in logs; longer ones are cut, so a huge request line cannot flood the log. */
  maxLoggedUrlLength: number;
}

/** The defaults used by `createHttpServer` when no override is given. */
export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxHeaderSize: 16 * 1024,
  headersTimeout: 10_000,
  requestTimeout: 10_000,
  connectionTimeout: 30_000,
  keepAliveTimeout: 65_000,
  connectionsCheckingInterval: 1_000,
  maxConnections: 512,
  bodyLimit: 1024,
  maxLoggedUrlLength: 200,
});

/** Applies overrides to the defaults and rejects combinations Node would silently misbehave with. */
export function resolveLimits(overrides: Partial<ServerLimits> = {}): ServerLimits {
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...overrides };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new RangeError(`server limit ${key} must be a positive integer, got ${String(value)}`);
    }
  }
  if (limits.headersTimeout > limits.requestTimeout) {
    throw new RangeError(
      `server limit headersTimeout (${limits.headersTimeout}) must not exceed requestTimeout (${limits.requestTimeout})`,
    );
  }
  return limits;
}
