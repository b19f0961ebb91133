/**
 * One HTTP GET to Sentry: keep-alive connections (undici), the bearer token, a hard per-request timeout
 * covering headers and body, and the caller's AbortSignal. It reads the body fully and reports failures as
 * `TransportError` kinds the retry policy understands; interpreting statuses and bodies is the client's job.
 */
import { Agent, request } from 'undici';
import { VERSION } from '../version.js';
import { MAX_RESPONSE_BYTES, MAX_RESPONSE_HEADER_BYTES } from './pagination.js';
import type { HeaderBag } from './rate-limit.js';

export interface TransportOptions {
  /** Seconds per request (headers and body together). */
  timeout: number;
  /** Connections kept per origin; the queue's concurrency is the natural value. */
  connections: number;
  userAgent: string;
  /** The largest body read; default MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
}

/** Looks at a 2xx body's bytes as they arrive; `false` stops reading it (the answer is refused). */
export interface BodyScan {
  feed(chunk: Uint8Array): boolean;
}

export interface HttpResponse {
  status: number;
  headers: HeaderBag;
  /** The body; empty when `refused`. */
  body: string;
  /** A 2xx body the scan stopped reading: the bytes read until then. */
  refusedAfterBytes?: number;
  /** Local clock when the response was complete. */
  receivedAtMs: number;
  durationMs: number;
}

/** Why no response arrived. Never carries the request headers (the token). */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly kind: 'network' | 'timeout' | 'aborted' | 'request',
    message: string,
    readonly durationMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `sentry-prometheus-exporter/<version>`. */
export function defaultUserAgent(): string {
  return `sentry-prometheus-exporter/${VERSION}`;
}

/** A short, token-free description of a low-level failure (`ECONNRESET`, `UND_ERR_SOCKET`...). */
function describeCause(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/**
 * Reads a body as text, decoding each chunk as it comes (the chunks are let go at once: the body's bytes
 * and its text are never held twice over), handing the bytes to `scan` first. When the scan refuses, the
 * rest is not read: the stream is destroyed, and with it the connection.
 */
async function readBody(
  stream: AsyncIterable<Uint8Array> & { destroy(): unknown },
  scan: BodyScan | undefined,
): Promise<{ body: string; refusedAfterBytes?: number }> {
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    bytes += chunk.length;
    if (scan !== undefined && !scan.feed(chunk)) {
      stream.destroy();
      return { body: '', refusedAfterBytes: bytes };
    }
    parts.push(decoder.decode(chunk, { stream: true }));
  }
  parts.push(decoder.decode());
  return { body: parts.join('') };
}

export class HttpTransport {
  readonly #agent: Agent;
  readonly #userAgent: string;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;

  constructor(options: TransportOptions) {
    this.#maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.#timeoutMs = Math.max(1, Math.round(options.timeout * 1000));
    this.#agent = new Agent({
      connections: Math.max(1, options.connections),
      keepAliveTimeout: 30_000,
      // Backstops; the AbortSignal in `get` enforces the overall limit.
      headersTimeout: this.#timeoutMs + 1000,
      bodyTimeout: this.#timeoutMs + 1000,
      connect: { timeout: this.#timeoutMs },
      maxHeaderSize: MAX_RESPONSE_HEADER_BYTES,
      maxResponseSize: this.#maxResponseBytes,
    });
    this.#userAgent = options.userAgent;
  }

  /**
   * One GET with `token` as bearer (the token may change between requests: a rotated token file). A 2xx
   * body is handed to `scan` as it arrives, and no more of it is read once the scan says so.
   */
  async get(url: URL, token: string, signal?: AbortSignal, scan?: BodyScan): Promise<HttpResponse> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    if (signal?.aborted) throw new TransportError('aborted', 'request aborted before it was sent', 0);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    try {
      const res = await request(url, {
        method: 'GET',
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          'user-agent': this.#userAgent,
        },
        dispatcher: this.#agent,
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      const read = await readBody(res.body, ok ? scan : undefined);
      return {
        status: res.statusCode,
        headers: res.headers,
        body: read.body,
        ...(read.refusedAfterBytes === undefined ? {} : { refusedAfterBytes: read.refusedAfterBytes }),
        receivedAtMs: Date.now(),
        durationMs: elapsed(),
      };
    } catch (err) {
      if (timeout.aborted && !signal?.aborted) {
        throw new TransportError(
          'timeout',
          `no complete answer within ${this.#timeoutMs / 1000}s`,
          elapsed(),
          {
            cause: err,
          },
        );
      }
      if (signal?.aborted) throw new TransportError('aborted', 'request aborted', elapsed(), { cause: err });
      if ((err as { code?: unknown }).code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
        throw new TransportError(
          'request',
          `the answer is larger than ${this.#maxResponseBytes} bytes (UND_ERR_RES_EXCEEDED_MAX_SIZE)`,
          elapsed(),
          { cause: err },
        );
      }
      if ((err as { code?: unknown }).code === 'UND_ERR_HEADERS_OVERFLOW') {
        throw new TransportError(
          'request',
          `the response headers exceed ${MAX_RESPONSE_HEADER_BYTES} bytes (UND_ERR_HEADERS_OVERFLOW); Sentry repeats the request URL in its Link header`,
          elapsed(),
          { cause: err },
        );
      }
      throw new TransportError('network', `connection failed (${describeCause(err)})`, elapsed(), {
        cause: err,
      });
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  /** Closes at once, failing requests still in flight. */
  async destroy(): Promise<void> {
    await this.#agent.destroy();
  }
}
