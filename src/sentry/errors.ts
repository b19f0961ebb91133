/**
 * Errors from talking to Sentry, as values that carry their context: which endpoint (the path template,
 * never a URL with the token or query), what status, and Sentry's own `detail` text when it sent one.
 */
export type SentryErrorKind =
  /** Sentry answered with a non-2xx status (after retries, for retryable ones). */
  | 'http'
  /** The connection failed or was reset. */
  | 'network'
  /** No answer within SENTRY_API_TIMEOUT. */
  | 'timeout'
  /** Sentry answered 2xx but the body is not what the endpoint documents. */
  | 'parse'
  /**
   * Sentry answered 2xx, but the answer reached the most rows or data points the endpoint returns, so it
   * may have been cut without a word (stats_v2, sessions), and no smaller question can avoid that.
   */
  | 'cut'
  /** The request was abandoned because the exporter is shutting down or the cycle deadline passed. */
  | 'aborted'
  /**
   * The exchange is one the client refuses: a URL longer than proxies accept (never sent), or response
   * headers past the client's limit. Not retried: the same request would fail the same way.
   */
  | 'request';

export interface SentryErrorContext {
  kind: SentryErrorKind;
  /** Path template, e.g. `/organizations/{org}/issues/`. */
  endpoint: string;
  /** HTTP status, when Sentry answered. */
  status?: number | undefined;
  /** Sentry's `detail` field, when the body had one. */
  detail?: string | undefined;
  /** Project slug, when the request was about one project. */
  project?: string | undefined;
  /** How many attempts were made before giving up. */
  attempts?: number | undefined;
  cause?: unknown;
}

export class SentryApiError extends Error {
  override readonly name = 'SentryApiError';
  readonly kind: SentryErrorKind;
  readonly endpoint: string;
  readonly status: number | undefined;
  readonly detail: string | undefined;
  readonly project: string | undefined;
  readonly attempts: number | undefined;

  constructor(message: string, ctx: SentryErrorContext) {
    super(message, ctx.cause === undefined ? undefined : { cause: ctx.cause });
    this.kind = ctx.kind;
    this.endpoint = ctx.endpoint;
    this.status = ctx.status;
    this.detail = ctx.detail;
    this.project = ctx.project;
    this.attempts = ctx.attempts;
  }

  /** A plain object for structured logs (pino): no stack noise, no secrets. */
  toLog(): Record<string, unknown> {
    return {
      kind: this.kind,
      endpoint: this.endpoint,
      status: this.status,
      detail: this.detail,
      project: this.project,
      attempts: this.attempts,
      message: this.message,
    };
  }
}
