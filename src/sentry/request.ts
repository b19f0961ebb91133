/**
 * The request loop every Sentry call goes through: the one rate-limited queue, the retry policy,
 * pagination, and errors as `SentryApiError` values carrying endpoint, status, Sentry's detail, project and
 * attempt count. It knows nothing of individual endpoints: `client.ts` builds paths and parses answers.
 *
 * It logs only at debug (retries) and trace (each exchange); the caller logs failures once per collector
 * and run, using `stats()` differences for request and 429 counts.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { REQUIRED_SCOPE, type EndpointTemplate } from './endpoints.js';
import { SentryApiError } from './errors.js';
import { HttpTransport, TransportError, type HttpResponse } from './http.js';
import { MAX_PAGES, nextPage } from './pagination.js';
import { errorDetail, parseJsonBody, type ParseContext } from './parse.js';
import { RequestQueue } from './queue.js';
import { headerValue, readRateLimitHeaders, type EndpointRateLimit, type Slot } from './rate-limit.js';
import { RetryPolicy, type AttemptOutcome, type RetryOptions } from './retry.js';

/** Per-call options: a signal that abandons the call (deadline, shutdown) and the project it is about. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Project slug the call is about, carried into errors for context. */
  project?: string;
}

/** What the client reports about every HTTP exchange with Sentry (for self-metrics). */
export interface RequestObservation {
  /** Path template, e.g. `/organizations/{org}/issues/`. */
  endpoint: string;
  /** HTTP status, or `undefined` for a network error or timeout. */
  status: number | undefined;
  durationMs: number;
  /** `X-Sentry-Rate-Limit-Remaining` when Sentry sent it. */
  rateLimitRemaining: number | undefined;
}

/** Cumulative counters; a run logs its own figures by difference. */
export interface RequestStats {
  /** HTTP exchanges attempted (each retry and each page counts). */
  requests: number;
  /** Exchanges answered 429. */
  rateLimited: number;
  /** API calls that failed with a SentryApiError (aborts not counted). */
  errors: number;
  /** Attempts that were retried. */
  retries: number;
}

export interface RequesterOptions {
  /** API root ending with a slash, e.g. `https://sentry.io/api/0/`. */
  baseUrl: string;
  token: string;
  /** Requests per second (may be fractional). */
  rate: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Seconds per request before it is abandoned (and retried). */
  timeoutSeconds: number;
  retry: RetryOptions;
  logger: Logger;
  userAgent: string;
  /** Called for every HTTP exchange, retries and 429s included (self-metrics). */
  onRequest?: ((o: RequestObservation) => void) | undefined;
}

/** Turns one page's JSON into items (throws a parse error naming the endpoint). */
export type PageParser<T> = (ctx: ParseContext, json: unknown) => T[];

export class Requester {
  readonly #baseUrl: URL;
  readonly #token: string;
  readonly #logger: Logger;
  readonly #onRequest: ((o: RequestObservation) => void) | undefined;
  readonly #queue: RequestQueue;
  readonly #transport: HttpTransport;
  readonly #retry: RetryPolicy;
  /**
   * One controller per call in progress, aborted by `close()`. Not one long-lived "closing" signal combined
   * into every call: on Node 20, `AbortSignal.any` leaves a weak reference on each source signal per call
   * that is only freed with the source, so a process-long source would grow by every call ever made.
   */
  readonly #calls = new Set<AbortController>();
  #closed = false;
  readonly #stats: RequestStats = { requests: 0, rateLimited: 0, errors: 0, retries: 0 };

  constructor(o: RequesterOptions) {
    if (!o.baseUrl.endsWith('/')) throw new Error('Sentry baseUrl must end with a slash');
    this.#baseUrl = new URL(o.baseUrl);
    this.#token = o.token;
    this.#logger = o.logger;
    this.#onRequest = o.onRequest;
    this.#queue = new RequestQueue({ rate: o.rate, concurrency: o.concurrency });
    this.#transport = new HttpTransport({
      token: o.token,
      timeoutSeconds: o.timeoutSeconds,
      connections: o.concurrency,
      userAgent: o.userAgent,
    });
    this.#retry = new RetryPolicy(o.retry);
  }

  stats(): RequestStats {
    return { ...this.#stats };
  }

  rateLimits(): EndpointRateLimit[] {
    return this.#queue.rateLimits.snapshot();
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const call of this.#calls) call.abort();
    this.#queue.clear();
    await this.#transport.close();
  }

  /** One GET (with retries), its answer parsed by `parse`. */
  async get<T>(
    endpoint: EndpointTemplate,
    path: string,
    params: Array<[string, string]>,
    parse: (ctx: ParseContext, json: unknown) => T,
    opts: CallOptions,
  ): Promise<T> {
    const url = this.#url(path, params);
    const { json } = await this.#fetch(endpoint, url, opts);
    return this.#parsed(() => parse(context(endpoint, url, opts), json));
  }

  /**
   * One GET of a paginated endpoint without following it: the parsed answer and the next page's cursor when
   * the `Link` header says there are more results (for answers that are not lists, such as sessions).
   */
  async page<T>(
    endpoint: EndpointTemplate,
    path: string,
    params: Array<[string, string]>,
    parse: (ctx: ParseContext, json: unknown) => T,
    opts: CallOptions,
  ): Promise<{ value: T; next: string | undefined }> {
    const url = this.#url(path, params);
    const { json, link } = await this.#fetch(endpoint, url, opts);
    const value = this.#parsed(() => parse(context(endpoint, url, opts), json));
    const next = nextPage(link);
    if (next.kind === 'invalid') {
      this.#stats.errors++;
      throw new SentryApiError(`Unexpected response from Sentry ${where(url)}: ${next.reason}`, {
        kind: 'parse',
        endpoint,
        project: opts.project,
      });
    }
    return { value, next: next.kind === 'next' ? next.cursor : undefined };
  }

  /** Follows `Link: rel="next"` until `results="false"`; a repeated cursor is an error, never an end. */
  async list<T>(
    endpoint: EndpointTemplate,
    path: string,
    params: Array<[string, string]>,
    parse: (ctx: ParseContext, json: unknown) => T[],
    opts: CallOptions,
  ): Promise<T[]> {
    const items: T[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 1; ; page++) {
      const url = this.#url(path, cursor === undefined ? params : [...params, ['cursor', cursor]]);
      const ctx = context(endpoint, url, opts);
      const { json, link } = await this.#fetch(endpoint, url, opts);
      for (const item of this.#parsed(() => parse(ctx, json))) items.push(item);
      const next = nextPage(link);
      if (next.kind === 'none') return items;
      const problem =
        next.kind === 'invalid'
          ? next.reason
          : seen.has(next.cursor)
            ? `pagination loops: cursor "${next.cursor}" was served twice`
            : page >= MAX_PAGES
              ? `pagination did not end after ${MAX_PAGES} pages`
              : undefined;
      if (next.kind === 'invalid' || problem !== undefined) {
        this.#stats.errors++;
        throw new SentryApiError(`Unexpected response from Sentry ${ctx.url}: ${problem}`, {
          kind: 'parse',
          endpoint,
          project: opts.project,
        });
      }
      seen.add(next.cursor);
      cursor = next.cursor;
    }
  }

  #url(path: string, params: Array<[string, string]>): URL {
    const qs = new URLSearchParams(params).toString();
    return new URL(qs === '' ? path : `${path}?${qs}`, this.#baseUrl);
  }

  /** Runs a parser, counting its failure as a failed call. */
  #parsed<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      this.#stats.errors++;
      throw err;
    }
  }

  /** One logical GET with retries: the JSON body and the `Link` header. */
  async #fetch(
    endpoint: EndpointTemplate,
    url: URL,
    opts: CallOptions,
  ): Promise<{ json: unknown; link: string | undefined }> {
    const call = new AbortController();
    if (this.#closed) call.abort();
    this.#calls.add(call);
    // The caller's signal is short-lived (a collector run's deadline), so combining with it leaks nothing.
    const signal = opts.signal === undefined ? call.signal : AbortSignal.any([opts.signal, call.signal]);
    try {
      return await this.#attempts(endpoint, url, opts.project, signal);
    } finally {
      this.#calls.delete(call);
    }
  }

  async #attempts(
    endpoint: EndpointTemplate,
    url: URL,
    project: string | undefined,
    signal: AbortSignal,
  ): Promise<{ json: unknown; link: string | undefined }> {
    for (let attempt = 1; ; attempt++) {
      let response: HttpResponse;
      try {
        response = await this.#queue.run(
          endpoint,
          (slot) => this.#exchange(endpoint, url, slot, signal),
          signal,
        );
      } catch (err) {
        if (!(err instanceof TransportError && err.kind !== 'aborted')) {
          if (signal.aborted || err instanceof TransportError)
            throw this.#aborted(endpoint, url, project, attempt, err);
          throw err;
        }
        const decision = this.#retry.decide({ kind: err.kind }, attempt);
        if (!decision.retry) {
          throw this.#fail(
            new SentryApiError(
              `Sentry ${where(url)} ${err.kind === 'timeout' ? 'timed out' : 'unreachable'}${forProject(project)} after ${attempt} attempt(s): ${err.message}`,
              { kind: err.kind, endpoint, project, attempts: attempt, cause: err },
            ),
          );
        }
        await this.#waitBeforeRetry(
          endpoint,
          url,
          project,
          undefined,
          err.kind,
          attempt,
          decision.waitMs,
          signal,
        );
        continue;
      }

      if (response.status >= 200 && response.status < 300) {
        const json = this.#parsed(() =>
          parseJsonBody(
            { endpoint, url: where(url), project },
            response.body,
            headerValue(response.headers, 'content-type'),
          ),
        );
        return { json, link: headerValue(response.headers, 'link') };
      }

      const outcome: AttemptOutcome = {
        kind: 'http',
        status: response.status,
        headers: readRateLimitHeaders(response.headers, response.receivedAtMs),
        receivedAtMs: response.receivedAtMs,
      };
      const decision = this.#retry.decide(outcome, attempt);
      if (!decision.retry) throw this.#fail(this.#httpError(endpoint, url, response, project, attempt));
      await this.#waitBeforeRetry(
        endpoint,
        url,
        project,
        response.status,
        decision.basis,
        attempt,
        decision.waitMs,
        signal,
      );
    }
  }

  /** One HTTP exchange inside a queue slot; feeds the rate-limit state, stats and the observer. */
  async #exchange(
    endpoint: EndpointTemplate,
    url: URL,
    slot: Slot,
    signal: AbortSignal,
  ): Promise<HttpResponse> {
    const rateLimits = this.#queue.rateLimits;
    let response: HttpResponse;
    try {
      response = await this.#transport.get(url, signal);
    } catch (err) {
      rateLimits.release(slot);
      if (err instanceof TransportError)
        this.#observe(endpoint, undefined, err.durationMs, undefined, err.kind);
      throw err;
    }
    const headers = readRateLimitHeaders(response.headers, response.receivedAtMs);
    rateLimits.release(slot, { status: response.status, headers, receivedAtMs: response.receivedAtMs });
    this.#observe(endpoint, response.status, response.durationMs, headers.remaining, undefined);
    return response;
  }

  #observe(
    endpoint: EndpointTemplate,
    status: number | undefined,
    durationMs: number,
    remaining: number | undefined,
    failure: string | undefined,
  ): void {
    this.#stats.requests++;
    if (status === 429) this.#stats.rateLimited++;
    this.#logger.trace(
      { endpoint, status, failure, durationMs: Math.round(durationMs), rateLimitRemaining: remaining },
      'sentry request',
    );
    if (this.#onRequest === undefined) return;
    try {
      this.#onRequest({ endpoint, status, durationMs, rateLimitRemaining: remaining });
    } catch (err) {
      // An observer bug must not turn a good answer into a failed call; it is still reported.
      this.#logger.debug({ err }, 'onRequest observer threw');
    }
  }

  async #waitBeforeRetry(
    endpoint: EndpointTemplate,
    url: URL,
    project: string | undefined,
    status: number | undefined,
    reason: string | undefined,
    attempt: number,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<void> {
    this.#stats.retries++;
    this.#logger.debug(
      { endpoint, project, status, attempt, waitMs: Math.round(waitMs), reason },
      'retrying Sentry request',
    );
    try {
      await delay(Math.max(0, waitMs), undefined, { signal });
    } catch (err) {
      throw this.#aborted(endpoint, url, project, attempt, err);
    }
  }

  #httpError(
    endpoint: EndpointTemplate,
    url: URL,
    response: HttpResponse,
    project: string | undefined,
    attempts: number,
  ): SentryApiError {
    const { status } = response;
    const detail = errorDetail(response.body);
    let message = `Sentry ${where(url)} answered HTTP ${status}${forProject(project)}`;
    if (detail !== undefined) message += `: ${detail}`;
    if (status === 401 || status === 403) {
      const scope = REQUIRED_SCOPE[endpoint];
      message +=
        status === 401
          ? ` (the token is invalid or revoked, or lacks the ${scope} scope)`
          : ` (the token likely lacks the ${scope} scope, or access to this organization/project)`;
    } else if (status === 429) {
      message += ` (rate limited; gave up after ${attempts} attempts)`;
    } else if (attempts > 1) {
      message += ` (after ${attempts} attempts)`;
    }
    return new SentryApiError(message, { kind: 'http', endpoint, status, detail, project, attempts });
  }

  #aborted(
    endpoint: EndpointTemplate,
    url: URL,
    project: string | undefined,
    attempts: number,
    cause: unknown,
  ): SentryApiError {
    return new SentryApiError(`Sentry ${where(url)} call abandoned${forProject(project)}`, {
      kind: 'aborted',
      endpoint,
      project,
      attempts,
      cause,
    });
  }

  /** Counts a failed call and makes sure no message can carry the token (a server could echo it). */
  #fail(err: SentryApiError): SentryApiError {
    this.#stats.errors++;
    if (this.#token === '' || !(err.message.includes(this.#token) || err.detail?.includes(this.#token))) {
      return err;
    }
    const clean = (s: string) => s.split(this.#token).join('[redacted]');
    return new SentryApiError(clean(err.message), {
      kind: err.kind,
      endpoint: err.endpoint,
      status: err.status,
      detail: err.detail === undefined ? undefined : clean(err.detail),
      project: err.project,
      attempts: err.attempts,
    });
  }
}

/** The URL without its query, as errors name it: the real organization and project, not a template. */
function where(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function context(endpoint: EndpointTemplate, url: URL, opts: CallOptions): ParseContext {
  return { endpoint, url: where(url), project: opts.project };
}

function forProject(project: string | undefined): string {
  return project === undefined ? '' : ` for project ${project}`;
}
