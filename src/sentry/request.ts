/**
 * The request loop every Sentry call goes through: the one rate-limited queue, the retry policy,
 * pagination, and errors as `SentryApiError` values carrying endpoint, status, Sentry's detail, project and
 * attempt count. It knows nothing of individual endpoints: `client.ts` builds paths and parses answers.
 *
 * Lists are walked with bounds, so that no answer of Sentry's can make a query endless or memory grow
 * without limit: items are deduplicated by id (a list that shifts while it is paged repeats items), a
 * query stops with an error past X-Hits (when Sentry counted), past SENTRY_API_MAX_ITEMS, on a repeated
 * cursor, and on pages that keep announcing more without bringing anything new.
 *
 * It logs only at debug (retries) and trace (each exchange); the caller logs failures once per collector
 * and run, using `stats()` differences for request and 429 counts.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { TokenSource } from '../config/token-file.js';
import { REQUIRED_SCOPE, type EndpointTemplate } from './endpoints.js';
import { SentryApiError } from './errors.js';
import { HttpTransport, TransportError, type HttpResponse } from './http.js';
import {
  MAX_IDLE_PAGES,
  MAX_URL_BYTES,
  PAGE_SIZE,
  ItemBudget,
  countHeader,
  hitsBound,
  nextPage,
  type NextPage,
} from './pagination.js';
import { errorDetail, parseJsonBody, type ParseContext } from './parse.js';
import { RequestQueue } from './queue.js';
import { headerValue, readRateLimitHeaders, type EndpointRateLimit, type Slot } from './rate-limit.js';
import { RetryPolicy, type AttemptOutcome, type RetryOptions } from './retry.js';

/** Per-call options: a signal that abandons the call (deadline, shutdown) and the project it is about. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Project slug the call is about, carried into errors for context. */
  project?: string;
  /**
   * Lists: a malformed item is left out and recorded here (the caller logs them once per run) instead of
   * failing the call. Without it, one malformed item fails the call.
   */
  skipped?: SkippedItems;
  /** Lists: the item count shared by the calls of one collector run (see `ItemBudget`). */
  budget?: ItemBudget;
}

/** Items left out of list answers because they were malformed, per endpoint, for one log line per run. */
export class SkippedItems {
  readonly #byEndpoint = new Map<string, { count: number; example: string }>();

  add(problem: SentryApiError): void {
    const entry = this.#byEndpoint.get(problem.endpoint);
    if (entry) entry.count++;
    else this.#byEndpoint.set(problem.endpoint, { count: 1, example: problem.message });
  }

  get count(): number {
    let n = 0;
    for (const e of this.#byEndpoint.values()) n += e.count;
    return n;
  }

  /** Per endpoint: how many, and the first problem's message (it names the URL and the field). */
  toLog(): Array<{ endpoint: string; count: number; example: string }> {
    return [...this.#byEndpoint].map(([endpoint, e]) => ({ endpoint, ...e }));
  }
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
  /** The token of each request (a rotated token file is picked up). */
  token: TokenSource;
  /** SENTRY_API_MAX_ITEMS: most items one list call, or one collector run's calls together, may fetch. */
  maxItems: number;
  /** The largest answer body read (default MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number | undefined;
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
  /** Items a list repeated within one query, dropped (self-metrics). */
  onDuplicates?: ((endpoint: string, count: number) => void) | undefined;
  /** Malformed items left out of a list answer (self-metrics). */
  onSkipped?: ((endpoint: string, count: number) => void) | undefined;
}

/** One answer of a list: what the walk needs from its headers. */
interface Answer {
  json: unknown;
  link: string | undefined;
  /** `X-Hits` / `X-Max-Hits`, when sent (the issue stream). */
  hits: number | undefined;
  maxHits: number | undefined;
}

/** Turns one page's JSON into items (throws a parse error naming the endpoint). */
export type PageParser<T> = (ctx: ParseContext, json: unknown) => T[];

export class Requester {
  readonly #baseUrl: URL;
  readonly #tokens: TokenSource;
  readonly #maxItems: number;
  readonly #logger: Logger;
  readonly #onRequest: ((o: RequestObservation) => void) | undefined;
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
    this.#onRequest = o.onRequest;
    this.#onDuplicates = o.onDuplicates;
    this.#onSkipped = o.onSkipped;
    this.#queue = new RequestQueue({ rate: o.rate, concurrency: o.concurrency });
    this.#transport = new HttpTransport({
      maxResponseBytes: o.maxResponseBytes,
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
    let listed = 0;
    const keys = key === undefined ? undefined : new Set<string>();
    const cursors = new Set<string>();
    const budget = opts.budget ?? new ItemBudget();
    let hits: { hits: number; bound: number } | undefined;
    let idle = 0;
    let cursor: string | undefined;
    for (let page = 1; ; page++) {
      const url = this.#url(path, cursor === undefined ? params : [...params, ['cursor', cursor]]);
      const ctx = context(endpoint, url, opts);
      if (opts.skipped !== undefined) {
        const sink = opts.skipped;
        ctx.skip = (problem) => {
          sink.add(problem);
          this.#onSkipped?.(endpoint, 1);
        };
      }
      const answer = await this.#fetch(endpoint, url, opts);
      const parsed = this.#parsed(() => parse(ctx, answer.json));
      let items = parsed;
      if (keys !== undefined && key !== undefined) {
        items = [];
        for (const item of parsed) {
          const k = key(item);
          if (keys.has(k)) continue;
          keys.add(k);
          items.push(item);
        }
      }
      const fresh = items.length;
      const repeated = parsed.length - fresh;
      listed += fresh;
      budget.used += fresh;
      if (repeated > 0) {
        this.#onDuplicates?.(endpoint, repeated);
        this.#logger.debug(
          { endpoint, project: opts.project, page, duplicates: repeated },
          'Sentry listed items again on a later page (the list shifted while paged); dropped',
        );
      }
      await onPage(items);
      if (hits === undefined && answer.hits !== undefined) {
        const bound = hitsBound(answer.hits, answer.maxHits);
        if (bound !== undefined) hits = { hits: answer.hits, bound };
      }
      idle = fresh === 0 ? idle + 1 : 0;
      const next = nextPage(answer.link);
      if (next.kind === 'none') return;
      const problem = this.#walkProblem(next, cursors, {
        page,
        items: listed,
        runItems: budget.used,
        idle,
        hits,
        shared: opts.budget !== undefined,
      });
      if (next.kind === 'invalid' || problem !== undefined) {
        this.#stats.errors++;
        throw new SentryApiError(`Unexpected response from Sentry ${ctx.url}: ${problem}`, {
          kind: 'parse',
          endpoint,
          project: opts.project,
        });
      }
      cursors.add(next.cursor);
      cursor = next.cursor;
    }
  }

  /** Why a list whose page announced more must not be followed further, if it must not. */
  #walkProblem(
    next: NextPage,
    cursors: ReadonlySet<string>,
    w: {
      page: number;
      items: number;
      runItems: number;
      idle: number;
      hits: { hits: number; bound: number } | undefined;
      shared: boolean;
    },
  ): string | undefined {
    if (next.kind === 'invalid') return next.reason;
    if (next.kind === 'none') return undefined;
    if (cursors.has(next.cursor)) return `pagination loops: cursor "${next.cursor}" was served twice`;
    const max = this.#maxItems;
    if (w.hits !== undefined && w.items >= w.hits.bound) {
      return `pagination does not end: ${w.items} items listed and more announced, but X-Hits said ${w.hits.hits} (allowed: ${w.hits.bound}, with a margin for Sentry's estimate)`;
    }
    if (w.items >= max) {
      return `pagination does not end: ${w.items} items listed and more announced, the most one query may list (SENTRY_API_MAX_ITEMS)`;
    }
    if (w.shared && w.runItems >= max) {
      return `pagination does not end: this collector run listed ${w.runItems} items and more are announced, the most one run may list (SENTRY_API_MAX_ITEMS)`;
    }
    if (w.idle >= MAX_IDLE_PAGES) {
      return `pagination does not end: ${w.idle} pages in a row brought no new item, yet announce more (results="true")`;
    }
    const maxPages = 2 * Math.ceil(Math.min(w.hits?.bound ?? max, max) / PAGE_SIZE) + MAX_IDLE_PAGES;
    if (w.page >= maxPages) {
      return `pagination does not end: ${w.page} pages for ${w.items} items, and more announced`;
    }
    return undefined;
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
  ): Promise<Answer> {
    let tokenRetried = false;
    for (let attempt = 1; ; attempt++) {
      let response: HttpResponse;
      let token: string;
      try {
        ({ response, token } = await this.#queue.run(
          endpoint,
          (slot) => this.#exchange(endpoint, url, slot, signal),
          signal,
        ));
      } catch (err) {
        if (!(err instanceof TransportError && err.kind !== 'aborted')) {
          if (signal.aborted || err instanceof TransportError)
            throw this.#aborted(endpoint, url, project, attempt, err);
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
        const json = this.#parsed(() =>
          parseJsonBody(
            { endpoint, url: where(url), project },
            response.body,
            headerValue(response.headers, 'content-type'),
          ),
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
  ): Promise<{ response: HttpResponse; token: string }> {
    const rateLimits = this.#queue.rateLimits;
    // Read at sending time: a token rotated while the request waited in the queue is already used.
    const token = this.#tokens.current();
    let response: HttpResponse;
    try {
      response = await this.#transport.get(url, token, signal);
    } catch (err) {
      rateLimits.release(slot);
      if (err instanceof TransportError)
        this.#observe(endpoint, url, undefined, err.durationMs, undefined, err.kind);
      throw err;
    }
    const headers = readRateLimitHeaders(response.headers, response.receivedAtMs);
    rateLimits.release(slot, { status: response.status, headers, receivedAtMs: response.receivedAtMs });
    this.#observe(endpoint, url, response.status, response.durationMs, headers.remaining, undefined);
    return { response, token };
  }

  #observe(
    endpoint: EndpointTemplate,
    url: URL,
    status: number | undefined,
    durationMs: number,
    remaining: number | undefined,
    failure: string | undefined,
  ): void {
    this.#stats.requests++;
    if (status === 429) this.#stats.rateLimited++;
    this.#logger.trace(
      {
        endpoint,
        status,
        failure,
        durationMs: Math.round(durationMs),
        rateLimitRemaining: remaining,
        // The size of what was sent, not the URL itself (it names projects and environments).
        urlBytes: url.href.length,
      },
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
      const note = status === 401 ? this.#tokens.refusalNote() : undefined;
      message +=
        status === 401
          ? ` (the token is invalid or revoked, or lacks the ${scope} scope${note === undefined ? '' : `; ${note}`})`
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
