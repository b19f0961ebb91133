/**
 * The request loop every Sentry call goes through: the one rate-limited queue, the retry policy,
 * pagination, and errors as `SentryApiError` values carrying endpoint, status, Sentry's detail, project and
 * attempt count. It knows nothing of individual endpoints: `client.ts` builds paths and parses answers.
 *
 * Lists are walked within the bounds of `ListWalk` (list-walk.ts), so that no answer of Sentry's can make a
 * query endless or memory grow without limit.
 *
 * It logs only at debug (retries) and trace (each exchange); the caller logs failures once per collector
 * and run, using `stats()` differences for request and 429 counts.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { SentryConfig } from '../config/schema.js';
import type { TokenSource } from '../config/token-file.js';
import type { CallOptions, RequestObservation, RequestStats } from './api.js';
import { callerScope, type Caller } from './caller.js';
import type { EndpointTemplate } from './endpoints.js';
import { SentryApiError } from './errors.js';
import { HttpTransport, TransportError, type HttpResponse } from './http.js';
import { ListWalk, type PageHeaders } from './list-walk.js';
import { MAX_URL_BYTES, countHeader, nextPage } from './pagination.js';
import { abandoned, forProject, httpError, where } from './failures.js';
import { answerScan, refused } from './answer-size.js';
import { ExchangeLog } from './exchange-log.js';
import { ItemCheck, malformedShare, type ParseContext } from './json.js';
import { parseJsonBody } from './parse.js';
import { RequestQueue } from './queue.js';
import { headerValue, readRateLimitHeaders, type EndpointRateLimit, type Slot } from './rate-limit.js';
import { RetryPolicy, type AttemptOutcome } from './retry.js';

/**
 * The request loop's settings, named as in the configuration (SentryConfig: SENTRY_BASE_URL,
 * SENTRY_API_MAX_ITEMS, SENTRY_API_RATE, SENTRY_API_CONCURRENCY, SENTRY_API_TIMEOUT, SENTRY_RETRY_*), and
 * what it reports to.
 */
export type RequesterOptions = Pick<
  SentryConfig,
  'baseUrl' | 'maxItems' | 'rate' | 'concurrency' | 'timeout' | 'retry'
> & {
  /** The token of each request (a rotated token file is picked up). */
  token: TokenSource;
  /** The largest answer body read (default MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number | undefined;
  logger: Logger;
  userAgent: string;
  /** Called for every HTTP exchange, retries and 429s included (self-metrics). */
  onRequest?: ((o: RequestObservation) => void) | undefined;
  /** Items a list repeated within one query, dropped (self-metrics). */
  onDuplicates?: ((endpoint: string, count: number) => void) | undefined;
  /** Malformed items left out of a list answer (self-metrics). */
  onSkipped?: ((endpoint: string, count: number) => void) | undefined;
};

/** One answer: its JSON, and what a list walk needs from its headers. */
interface Answer extends PageHeaders {
  json: unknown;
}

export class Requester {
  readonly #baseUrl: URL;
  readonly #tokens: TokenSource;
  readonly #maxItems: number;
  readonly #logger: Logger;
  readonly #exchanges: ExchangeLog;
  readonly #onDuplicates: ((endpoint: string, count: number) => void) | undefined;
  readonly #onSkipped: ((endpoint: string, count: number) => void) | undefined;
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
    this.#tokens = o.token;
    this.#maxItems = o.maxItems;
    this.#logger = o.logger;
    this.#exchanges = new ExchangeLog(o.logger, o.onRequest, this.#stats);
    this.#onDuplicates = o.onDuplicates;
    this.#onSkipped = o.onSkipped;
    this.#queue = new RequestQueue({ rate: o.rate, concurrency: o.concurrency });
    this.#transport = new HttpTransport({
      maxResponseBytes: o.maxResponseBytes,
      timeout: o.timeout,
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
    const ctx = this.#context(endpoint, url, opts);
    const value = this.#parsed(() => parse(ctx, json));
    this.#settle(ctx, opts, true);
    return value;
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
    const ctx = this.#context(endpoint, url, opts);
    const value = this.#parsed(() => parse(ctx, json));
    this.#settle(ctx, opts, true);
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

  /**
   * Follows `Link: rel="next"` until `results="false"`. With `key`, an item whose key was already listed
   * in this query is dropped and counted (a list that shifted while it was paged). The walk fails, naming
   * the endpoint and the reason, when a page announces more but: its cursor was served before; the query
   * already listed more than X-Hits allows (see `hitsBound`) or SENTRY_API_MAX_ITEMS; the collector run
   * (`opts.budget`) listed SENTRY_API_MAX_ITEMS; MAX_IDLE_PAGES pages in a row brought nothing new; or it
   * took more than twice the pages its item bound needs.
   */
  async list<T>(
    endpoint: EndpointTemplate,
    path: string,
    params: Array<[string, string]>,
    parse: (ctx: ParseContext, json: unknown) => T[],
    opts: CallOptions,
    key?: (item: T) => string,
  ): Promise<T[]> {
    const items: T[] = [];
    await this.forEachPage(
      endpoint,
      path,
      params,
      parse,
      (page) => {
        for (const item of page) items.push(item);
      },
      opts,
      key,
    );
    return items;
  }

  /**
   * The walk of `list`, with the same bounds, handing each page's new items to `onPage` as the page arrives
   * (and waiting for it) instead of gathering them: the caller can aggregate a long list without holding
   * all of it.
   */
  async forEachPage<T>(
    endpoint: EndpointTemplate,
    path: string,
    params: Array<[string, string]>,
    parse: (ctx: ParseContext, json: unknown) => T[],
    onPage: (items: T[]) => void | Promise<void>,
    opts: CallOptions,
    key?: (item: T) => string,
  ): Promise<void> {
    const walk = new ListWalk(this.#maxItems, opts.budget, key);
    // One check for the whole walk: its share of malformed items is judged over every page read so far.
    const check = opts.skipped === undefined ? undefined : new ItemCheck();
    let cursor: string | undefined;
    for (;;) {
      const url = this.#url(path, cursor === undefined ? params : [...params, ['cursor', cursor]]);
      const ctx = this.#context(endpoint, url, opts, check);
      const answer = await this.#fetch(endpoint, url, opts);
      const { fresh, repeated } = walk.take(this.#parsed(() => parse(ctx, answer.json)));
      const next = walk.next(answer);
      this.#settle(ctx, opts, typeof next !== 'string');
      if (repeated > 0) {
        this.#onDuplicates?.(endpoint, repeated);
        this.#logger.debug(
          { endpoint, project: opts.project, page: walk.page, duplicates: repeated },
          'Sentry listed items again on a later page (the list shifted while paged); dropped',
        );
      }
      await onPage(fresh);
      if (next === undefined) return;
      if (typeof next !== 'string') {
        this.#stats.errors++;
        throw new SentryApiError(`Unexpected response from Sentry ${ctx.url}: ${next.problem}`, {
          kind: 'parse',
          endpoint,
          project: opts.project,
        });
      }
      cursor = next;
    }
  }

  /**
   * Where a parse happens; with `opts.skipped`, malformed items are left out and counted in a check (the
   * walk's, for the pages of a list), which `#settle` judges.
   */
  #context(endpoint: EndpointTemplate, url: URL, opts: CallOptions, check?: ItemCheck): ParseContext {
    const ctx: ParseContext = { endpoint, url: where(url), project: opts.project };
    if (opts.skipped !== undefined) ctx.check = check ?? new ItemCheck();
    return ctx;
  }

  /**
   * Counts the groups an aggregate answer repeated (dropped by the parser), and judges the malformed items
   * counted so far in the call: more than half of them fails it (`malformedShare`). Otherwise, at the call's
   * end (`last`), they are recorded in `opts.skipped` and counted (sentry_exporter_items_skipped_total).
   */
  #settle(ctx: ParseContext, opts: CallOptions, last: boolean): void {
    if (ctx.repeated !== undefined && ctx.repeated > 0) {
      this.#onDuplicates?.(ctx.endpoint, ctx.repeated);
      this.#logger.debug(
        { endpoint: ctx.endpoint, project: opts.project, duplicates: ctx.repeated },
        'Sentry repeated groups within one answer; each counted once',
      );
    }
    const check = ctx.check;
    const first = check?.examples[0];
    if (check === undefined || first === undefined) return;
    const shapeChanged = malformedShare(ctx, check);
    if (shapeChanged !== undefined) throw this.#fail(shapeChanged);
    if (!last) return;
    opts.skipped?.add(first, check.malformed);
    this.#onSkipped?.(ctx.endpoint, check.malformed);
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

  /** One logical GET with retries: the JSON body, the `Link` header and the hit counts. */
  async #fetch(endpoint: EndpointTemplate, url: URL, opts: CallOptions): Promise<Answer> {
    if (url.href.length > MAX_URL_BYTES) {
      throw this.#fail(
        new SentryApiError(
          `Request to Sentry ${where(url)} not sent${forProject(opts.project)}: its URL would be ${url.href.length} bytes, more than the ${MAX_URL_BYTES} proxies accept`,
          { kind: 'request', endpoint, project: opts.project, attempts: 0 },
        ),
      );
    }
    const call = new AbortController();
    if (this.#closed) call.abort();
    this.#calls.add(call);
    // The caller's signal is short-lived (a collector run's deadline), so combining with it leaks nothing.
    const signal = opts.signal === undefined ? call.signal : AbortSignal.any([opts.signal, call.signal]);
    try {
      return await this.#attempts(endpoint, url, opts.project, signal, callerScope.getStore());
    } finally {
      this.#calls.delete(call);
    }
  }

  async #attempts(
    endpoint: EndpointTemplate,
    url: URL,
    project: string | undefined,
    signal: AbortSignal,
    caller: Caller | undefined,
  ): Promise<Answer> {
    let tokenRetried = false;
    for (let attempt = 1; ; attempt++) {
      let response: HttpResponse;
      let token: string;
      let refusal: string | undefined;
      try {
        ({ response, token, refusal } = await this.#queue.run(
          endpoint,
          (slot) => this.#exchange(endpoint, url, slot, signal, caller),
          signal,
          caller?.name,
        ));
      } catch (err) {
        if (!(err instanceof TransportError && err.kind !== 'aborted')) {
          if (signal.aborted || err instanceof TransportError)
            throw abandoned(endpoint, url, project, attempt, err);
          throw err;
        }
        const decision = this.#retry.decide({ kind: err.kind }, attempt);
        if (!decision.retry) {
          const what =
            err.kind === 'timeout' ? 'timed out' : err.kind === 'request' ? 'answer refused' : 'unreachable';
          throw this.#fail(
            new SentryApiError(
              `Sentry ${where(url)} ${what}${forProject(project)} after ${attempt} attempt(s): ${err.message}`,
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
        const ctx = { endpoint, url: where(url), project };
        // Not retried: the same question would get the same answer.
        if (refusal !== undefined) throw this.#fail(refused(ctx, refusal, response.refusedAfterBytes));
        const json = this.#parsed(() =>
          parseJsonBody(ctx, response.body, headerValue(response.headers, 'content-type')),
        );
        return {
          json,
          link: headerValue(response.headers, 'link'),
          hits: countHeader(headerValue(response.headers, 'x-hits')),
          maxHits: countHeader(headerValue(response.headers, 'x-max-hits')),
        };
      }

      // A rotated token file: the request is tried once more with the token now in the file.
      if (response.status === 401 && !tokenRetried && this.#tokens.refused(token)) {
        tokenRetried = true;
        this.#stats.retries++;
        this.#logger.debug(
          { endpoint, project },
          'Sentry refused the token (401) and the token file holds a new one; trying again with it',
        );
        continue;
      }

      const outcome: AttemptOutcome = {
        kind: 'http',
        status: response.status,
        headers: readRateLimitHeaders(response.headers, response.receivedAtMs),
        receivedAtMs: response.receivedAtMs,
      };
      const decision = this.#retry.decide(outcome, attempt);
      if (!decision.retry)
        throw this.#fail(httpError(endpoint, url, response, project, attempt, this.#tokens.refusalNote()));
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
    caller: Caller | undefined,
  ): Promise<{ response: HttpResponse; token: string; refusal: string | undefined }> {
    if (caller !== undefined) caller.requests++;
    const rateLimits = this.#queue.rateLimits;
    // Read at sending time: a token rotated while the request waited in the queue is already used.
    const token = this.#tokens.current();
    // Counts the answer's items and values as it arrives: past the caps the rest is not read.
    const scan = answerScan(endpoint);
    let response: HttpResponse;
    try {
      response = await this.#transport.get(url, token, signal, scan);
    } catch (err) {
      rateLimits.release(slot);
      if (err instanceof TransportError)
        this.#exchanges.observe(endpoint, url, {
          status: undefined,
          durationMs: err.durationMs,
          failure: err.kind,
        });
      throw err;
    }
    const headers = readRateLimitHeaders(response.headers, response.receivedAtMs);
    rateLimits.release(slot, { status: response.status, headers, receivedAtMs: response.receivedAtMs });
    this.#exchanges.observe(endpoint, url, {
      status: response.status,
      durationMs: response.durationMs,
      headers: response.headers,
      remaining: headers.remaining,
    });
    return { response, token, refusal: scan.refusal() };
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
      throw abandoned(endpoint, url, project, attempt, err);
    }
  }

  /** Counts a failed call and makes sure no message can carry a token (a server could echo it). */
  #fail(err: SentryApiError): SentryApiError {
    this.#stats.errors++;
    const tokens = this.#tokens.secrets().filter((t) => t !== '');
    if (!tokens.some((t) => err.message.includes(t) || err.detail?.includes(t))) return err;
    const clean = (s: string) => tokens.reduce((text, t) => text.split(t).join('[redacted]'), s);
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
