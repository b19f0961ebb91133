/**
 * The Sentry Web API client for one organization: every call goes through the one rate-limited queue, is
 * retried by the retry policy, follows pagination to the end, and comes back as typed objects or as a
 * `SentryApiError` carrying endpoint, status, Sentry's detail, project and attempt count.
 *
 * The client logs only at debug (retries) and trace (each exchange); the caller logs failures once per
 * cycle, using `stats()` differences for request and 429 counts.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { RetryConfig } from '../config/types.js';
import type { CallOptions, EventStatsQuery, IssueQuery, RequestObservation, SentryApi } from './api.js';
import { SentryApiError } from './errors.js';
import { defaultUserAgent, HttpTransport, TransportError, type HttpResponse } from './http.js';
import { MAX_PAGES, nextPage, PAGE_SIZE } from './pagination.js';
import {
  errorDetail,
  parseCurrentRelease,
  parseEnvironments,
  parseIssues,
  parseJsonBody,
  parseProjectKeys,
  parseProjects,
  parseStatsV2,
  type ParseContext,
} from './parse.js';
import { RequestQueue } from './queue.js';
import { headerValue, readRateLimitHeaders, type EndpointRateLimit, type Slot } from './rate-limit.js';
import { RetryPolicy, type AttemptOutcome } from './retry.js';
import { sleep } from './sleep.js';
import type {
  CurrentReleaseVersion,
  SentryEnvironment,
  SentryIssue,
  SentryProject,
  SentryProjectKey,
  StatsV2,
} from './types.js';

/** Path templates: the names endpoints carry in observations, errors and logs. */
export const ENDPOINTS = {
  projects: '/organizations/{org}/projects/',
  environments: '/projects/{org}/{project}/environments/',
  issues: '/organizations/{org}/issues/',
  projectKeys: '/projects/{org}/{project}/keys/',
  organizationProjectKeys: '/organizations/{org}/project-keys/',
  statsV2: '/organizations/{org}/stats_v2/',
  currentRelease: '/issues/{issue_id}/current-release/',
} as const;

export type EndpointTemplate = (typeof ENDPOINTS)[keyof typeof ENDPOINTS];

/** The token scope each endpoint needs, named in 401/403 errors. */
const REQUIRED_SCOPE: Record<EndpointTemplate, string> = {
  [ENDPOINTS.projects]: 'org:read',
  [ENDPOINTS.statsV2]: 'org:read',
  [ENDPOINTS.environments]: 'project:read',
  [ENDPOINTS.projectKeys]: 'project:read',
  [ENDPOINTS.organizationProjectKeys]: 'project:read',
  [ENDPOINTS.issues]: 'event:read',
  [ENDPOINTS.currentRelease]: 'event:read',
};

export interface SentryClientOptions {
  /** API root ending with a slash, e.g. `https://sentry.io/api/0/`. */
  baseUrl: string;
  token: string;
  org: string;
  /** Requests per second (may be fractional). */
  rate: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Seconds per request before it is abandoned (and retried). */
  timeoutSeconds: number;
  retry: RetryConfig;
  logger: Logger;
  /** Called for every HTTP exchange, retries and 429s included (self-metrics). */
  onRequest?: (o: RequestObservation) => void;
  /** Default `sentry-prometheus-exporter/<version>`. */
  userAgent?: string;
}

/** Cumulative counters; a cycle logs its own figures by difference. */
export interface SentryClientStats {
  /** HTTP exchanges attempted (each retry and each page counts). */
  requests: number;
  /** Exchanges answered 429. */
  rateLimited: number;
  /** API calls that failed with a SentryApiError (aborts not counted). */
  errors: number;
  /** Attempts that were retried. */
  retries: number;
}

export interface SentryClient extends SentryApi {
  stats(): SentryClientStats;
  /** Rate-limit state per endpoint as Sentry last reported it (empty for self-hosted Sentry). */
  rateLimits(): EndpointRateLimit[];
  /** Abandons pending calls (they reject with kind `aborted`) and closes the connections. */
  close(): Promise<void>;
}

/**
 * The signal a call runs under: the caller's and the client's own (fired by `close()`) in one. Linked once
 * per caller signal while calls use it, not once per call: a cycle passes the same deadline signal to
 * hundreds of queued calls, and a listener per call would pile up on it. The link is dropped when its last
 * call ends, so long-lived processes do not accumulate listeners. Linked signals are ours, so their
 * listener limit is lifted.
 */
class SignalLinker {
  readonly #closing: AbortSignal;
  readonly #links = new Map<AbortSignal, { signal: AbortSignal; users: number; unlink: () => void }>();

  constructor(closing: AbortSignal) {
    this.#closing = closing;
    setMaxListeners(0, closing);
  }

  acquire(caller: AbortSignal | undefined): { signal: AbortSignal; release: () => void } {
    if (caller === undefined) return { signal: this.#closing, release: () => undefined };
    let link = this.#links.get(caller);
    if (link === undefined) {
      const controller = new AbortController();
      setMaxListeners(0, controller.signal);
      const onAbort = () => controller.abort();
      const unlink = () => {
        caller.removeEventListener('abort', onAbort);
        this.#closing.removeEventListener('abort', onAbort);
      };
      if (caller.aborted || this.#closing.aborted) controller.abort();
      caller.addEventListener('abort', onAbort, { once: true });
      this.#closing.addEventListener('abort', onAbort, { once: true });
      link = { signal: controller.signal, users: 0, unlink };
      this.#links.set(caller, link);
    }
    link.users++;
    const current = link;
    let released = false;
    return {
      signal: current.signal,
      release: () => {
        if (released) return;
        released = true;
        if (--current.users === 0) {
          current.unlink();
          this.#links.delete(caller);
        }
      },
    };
  }
}

const seg = encodeURIComponent;

class SentryClientImpl implements SentryClient {
  readonly org: string;
  readonly #baseUrl: URL;
  readonly #token: string;
  readonly #logger: Logger;
  readonly #onRequest: ((o: RequestObservation) => void) | undefined;
  readonly #queue: RequestQueue;
  readonly #transport: HttpTransport;
  readonly #retry: RetryPolicy;
  readonly #closing = new AbortController();
  readonly #signals = new SignalLinker(this.#closing.signal);
  readonly #stats: SentryClientStats = { requests: 0, rateLimited: 0, errors: 0, retries: 0 };

  constructor(o: SentryClientOptions) {
    if (!o.baseUrl.endsWith('/')) throw new Error('Sentry baseUrl must end with a slash');
    if (o.org === '') throw new Error('Sentry organization slug is empty');
    this.org = o.org;
    this.#baseUrl = new URL(o.baseUrl);
    this.#token = o.token;
    this.#logger = o.logger;
    this.#onRequest = o.onRequest;
    this.#queue = new RequestQueue({ rate: o.rate, concurrency: o.concurrency });
    this.#transport = new HttpTransport({
      token: o.token,
      timeoutSeconds: o.timeoutSeconds,
      connections: o.concurrency,
      userAgent: o.userAgent ?? defaultUserAgent(),
    });
    this.#retry = new RetryPolicy(o.retry);
  }

  stats(): SentryClientStats {
    return { ...this.#stats };
  }

  rateLimits(): EndpointRateLimit[] {
    return this.#queue.rateLimits.snapshot();
  }

  async close(): Promise<void> {
    this.#closing.abort();
    this.#queue.clear();
    await this.#transport.close();
  }

  // --- endpoints -------------------------------------------------------------------------------------

  listProjects(opts: CallOptions = {}): Promise<SentryProject[]> {
    return this.#list(
      ENDPOINTS.projects,
      `organizations/${seg(this.org)}/projects/`,
      [['per_page', String(PAGE_SIZE)]],
      parseProjects,
      opts,
    );
  }

  listProjectEnvironments(projectSlug: string, opts: CallOptions = {}): Promise<SentryEnvironment[]> {
    return this.#list(
      ENDPOINTS.environments,
      `projects/${seg(this.org)}/${seg(projectSlug)}/environments/`,
      [],
      parseEnvironments,
      { project: projectSlug, ...opts },
    );
  }

  listIssues(query: IssueQuery, opts: CallOptions = {}): Promise<SentryIssue[]> {
    const params: Array<[string, string]> = [
      ['limit', String(PAGE_SIZE)],
      ['query', query.query],
    ];
    if (query.statsPeriod !== undefined) params.push(['statsPeriod', query.statsPeriod]);
    if (query.sort !== undefined) params.push(['sort', query.sort]);
    const ids = query.projectIds ?? [];
    if (ids.length === 0) params.push(['project', '-1']);
    for (const id of ids) params.push(['project', id]);
    if (query.environment !== undefined) params.push(['environment', query.environment]);
    return this.#list(ENDPOINTS.issues, `organizations/${seg(this.org)}/issues/`, params, parseIssues, opts);
  }

  listProjectKeys(projectSlug: string, opts: CallOptions = {}): Promise<SentryProjectKey[]> {
    return this.#list(
      ENDPOINTS.projectKeys,
      `projects/${seg(this.org)}/${seg(projectSlug)}/keys/`,
      [],
      parseProjectKeys,
      { project: projectSlug, ...opts },
    );
  }

  listOrganizationProjectKeys(opts: CallOptions = {}): Promise<SentryProjectKey[]> {
    return this.#list(
      ENDPOINTS.organizationProjectKeys,
      `organizations/${seg(this.org)}/project-keys/`,
      [],
      parseProjectKeys,
      opts,
    );
  }

  async getEventStats(query: EventStatsQuery, opts: CallOptions = {}): Promise<StatsV2> {
    const params: Array<[string, string]> = [['field', 'sum(quantity)']];
    for (const g of query.groupBy) params.push(['groupBy', g]);
    params.push(
      ['category', query.category],
      ['start', query.start.toISOString()],
      ['end', query.end.toISOString()],
      ['interval', query.interval ?? '1d'],
    );
    const { json } = await this.#getJson(
      ENDPOINTS.statsV2,
      `organizations/${seg(this.org)}/stats_v2/`,
      new URLSearchParams(params),
      opts,
    );
    return this.#counted(() => parseStatsV2(this.#ctx(ENDPOINTS.statsV2, opts), json));
  }

  async getCurrentRelease(
    issueId: string,
    environment: string | undefined,
    opts: CallOptions = {},
  ): Promise<CurrentReleaseVersion> {
    const params = new URLSearchParams();
    if (environment !== undefined) params.set('environment', environment);
    const { json } = await this.#getJson(
      ENDPOINTS.currentRelease,
      `issues/${seg(issueId)}/current-release/`,
      params,
      opts,
    );
    return this.#counted(() => parseCurrentRelease(this.#ctx(ENDPOINTS.currentRelease, opts), json));
  }

  // --- machinery -------------------------------------------------------------------------------------

  #ctx(endpoint: EndpointTemplate, opts: CallOptions): ParseContext {
    return { endpoint, project: opts.project };
  }

  /** Runs a parser, counting its failure as a failed call. */
  #counted<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      this.#stats.errors++;
      throw err;
    }
  }

  /** Follows `Link: rel="next"` until `results="false"`; a repeated cursor is an error, never an end. */
  async #list<T>(
    endpoint: EndpointTemplate,
    path: string,
    params: Array<[string, string]>,
    parse: (ctx: ParseContext, json: unknown) => T[],
    opts: CallOptions,
  ): Promise<T[]> {
    const ctx = this.#ctx(endpoint, opts);
    const items: T[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 1; ; page++) {
      const query = new URLSearchParams(params);
      if (cursor !== undefined) query.set('cursor', cursor);
      const { json, link } = await this.#getJson(endpoint, path, query, opts);
      for (const item of this.#counted(() => parse(ctx, json))) items.push(item);
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
        throw new SentryApiError(`Unexpected response from Sentry ${endpoint}: ${problem}`, {
          kind: 'parse',
          endpoint,
          project: opts.project,
        });
      }
      seen.add(next.cursor);
      cursor = next.cursor;
    }
  }

  /** One logical GET with retries: the parsed JSON body and the `Link` header. */
  async #getJson(
    endpoint: EndpointTemplate,
    path: string,
    query: URLSearchParams,
    opts: CallOptions,
  ): Promise<{ json: unknown; link: string | undefined }> {
    const qs = query.toString();
    const url = new URL(qs === '' ? path : `${path}?${qs}`, this.#baseUrl);
    const { signal, release } = this.#signals.acquire(opts.signal);
    const project = opts.project;
    let attempt = 0;
    try {
      for (;;) {
        attempt++;
        let outcome: AttemptOutcome;
        let response: HttpResponse | undefined;
        try {
          response = await this.#queue.run(
            endpoint,
            (slot) => this.#exchange(endpoint, url, slot, signal),
            signal,
          );
        } catch (err) {
          if (err instanceof TransportError && err.kind !== 'aborted') {
            outcome = { kind: err.kind };
            const decision = this.#retry.decide(outcome, attempt);
            if (!decision.retry) {
              throw this.#fail(
                new SentryApiError(
                  `Sentry ${endpoint} ${err.kind === 'timeout' ? 'timed out' : 'unreachable'}${this.#forProject(project)} after ${attempt} attempt(s): ${err.message}`,
                  { kind: err.kind, endpoint, project, attempts: attempt, cause: err },
                ),
              );
            }
            await this.#waitBeforeRetry(
              endpoint,
              project,
              undefined,
              err.kind,
              attempt,
              decision.waitMs,
              signal,
            );
            continue;
          }
          if (signal.aborted || (err instanceof TransportError && err.kind === 'aborted')) {
            throw this.#aborted(endpoint, project, attempt, err);
          }
          throw err;
        }

        if (response.status >= 200 && response.status < 300) {
          const json = this.#counted(() =>
            parseJsonBody(
              { endpoint, project },
              response.body,
              headerValue(response.headers, 'content-type'),
            ),
          );
          return { json, link: headerValue(response.headers, 'link') };
        }

        outcome = {
          kind: 'http',
          status: response.status,
          headers: readRateLimitHeaders(response.headers, response.receivedAtMs),
          receivedAtMs: response.receivedAtMs,
        };
        const decision = this.#retry.decide(outcome, attempt);
        if (!decision.retry) {
          throw this.#fail(this.#httpError(endpoint, response, project, attempt));
        }
        await this.#waitBeforeRetry(
          endpoint,
          project,
          response.status,
          decision.basis,
          attempt,
          decision.waitMs,
          signal,
        );
      }
    } finally {
      release();
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
    if (this.#onRequest !== undefined) {
      try {
        this.#onRequest({ endpoint, status, durationMs, rateLimitRemaining: remaining });
      } catch (err) {
        // An observer bug must not turn a good answer into a failed call; it is still reported.
        this.#logger.debug({ err }, 'onRequest observer threw');
      }
    }
  }

  async #waitBeforeRetry(
    endpoint: EndpointTemplate,
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
      await sleep(waitMs, signal);
    } catch (err) {
      throw this.#aborted(endpoint, project, attempt, err);
    }
  }

  #forProject(project: string | undefined): string {
    return project === undefined ? '' : ` for project ${project}`;
  }

  #httpError(
    endpoint: EndpointTemplate,
    response: HttpResponse,
    project: string | undefined,
    attempts: number,
  ): SentryApiError {
    const { status } = response;
    const detail = errorDetail(response.body);
    let message = `Sentry ${endpoint} answered HTTP ${status}${this.#forProject(project)}`;
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
    project: string | undefined,
    attempts: number,
    cause: unknown,
  ): SentryApiError {
    return new SentryApiError(`Sentry ${endpoint} call abandoned${this.#forProject(project)}`, {
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
    if (this.#token !== '' && (err.message.includes(this.#token) || err.detail?.includes(this.#token))) {
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
    return err;
  }
}

export function createSentryClient(options: SentryClientOptions): SentryClient {
  return new SentryClientImpl(options);
}
