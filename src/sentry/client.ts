/**
 * The Sentry Web API for one organization, one method per endpoint: each builds its path and parameters,
 * hands them to the request loop (`request.ts`: queue, retries, pagination, errors) and parses the answer
 * into the typed values of `types.ts`. docs/sentry-api.md says what each endpoint answers, with sources.
 */
import { withoutUserinfo } from '../config/formats.js';
import { fixedToken, type TokenSource } from '../config/token-file.js';
import type { EventStatsQuery, IssueQuery, SentryApi, SessionsQuery, TransactionStatsQuery } from './api.js';
import { ENDPOINTS } from './endpoints.js';
import { TRANSACTION_QUANTILES } from './types.js';
import { SentryApiError } from './errors.js';
import { defaultUserAgent } from './http.js';
import { PAGE_SIZE, URL_BUDGET_BYTES, splitByUrlLength } from './pagination.js';
import {
  parseApiIndex,
  parseCurrentRelease,
  parseEnvironments,
  parseIssues,
  parseMonitors,
  parseOrganizationProjectKeys,
  parseProjectKeys,
  parseProjects,
  parseSessionGroups,
  parseSessions,
  parseStatsV2,
  sessionGroupKey,
} from './parse.js';
import { parseTransactionStats, type TransactionFields } from './parse-events.js';
import type { EndpointRateLimit } from './rate-limit.js';
import type { CallOptions, RequestStats } from './api.js';
import { Requester, type RequesterOptions } from './request.js';
import type {
  CurrentReleaseVersion,
  SentryEnvironment,
  SentryIssue,
  SentryMonitor,
  SentryProject,
  SentryProjectKey,
  SessionGroup,
  SessionsPage,
  StatsV2,
  EventsDataset,
  TransactionStatsPage,
} from './types.js';

export type SentryClientOptions = Omit<RequesterOptions, 'token' | 'userAgent' | 'maxItems'> & {
  /** SENTRY_AUTH_TOKEN, or the watched SENTRY_AUTH_TOKEN_FILE. */
  token: string | TokenSource;
  /** SENTRY_EXPORTER_ORG. */
  org: string;
  /** Default DEFAULT_MAX_ITEMS. */
  maxItems?: number;
  /** Default `sentry-prometheus-exporter/<version>`. */
  userAgent?: string;
};

export interface SentryClient extends SentryApi {
  stats(): RequestStats;
  /** Rate-limit state per endpoint as Sentry last reported it (empty for self-hosted Sentry). */
  rateLimits(): EndpointRateLimit[];
  /** Abandons pending calls (they reject with kind `aborted`) and closes the connections. */
  close(): Promise<void>;
}

const seg = encodeURIComponent;

class SentryClientImpl implements SentryClient {
  readonly org: string;
  readonly #requests: Requester;
  readonly #orgPath: string;
  readonly #baseUrl: string;

  constructor(o: SentryClientOptions) {
    if (o.org === '') throw new Error('Sentry organization slug is empty');
    this.org = o.org;
    this.#orgPath = seg(o.org);
    this.#baseUrl = o.baseUrl;
    this.#requests = new Requester({
      ...o,
      token: typeof o.token === 'string' ? fixedToken(o.token) : o.token,
      maxItems: o.maxItems ?? DEFAULT_MAX_ITEMS,
      userAgent: o.userAgent ?? defaultUserAgent(),
    });
  }

  stats(): RequestStats {
    return this.#requests.stats();
  }

  rateLimits(): EndpointRateLimit[] {
    return this.#requests.rateLimits();
  }

  close(): Promise<void> {
    return this.#requests.close();
  }

  async listProjects(opts: CallOptions = {}): Promise<SentryProject[]> {
    try {
      return await this.#requests.list(
        ENDPOINTS.projects,
        `organizations/${this.#orgPath}/projects/`,
        [['per_page', String(PAGE_SIZE)]],
        parseProjects,
        opts,
        // An offset-paginated list by slug: a project created while it is paged shifts the pages.
        (p) => p.id,
      );
    } catch (err) {
      throw err instanceof SentryApiError ? await this.#explainFirstCall(err) : err;
    }
  }

  /**
   * The project list is the first call, where a wrong setting shows. A base URL that does not end in
   * /api/0/ is the likeliest cause, so it is named first: Sentry's API index answers at `<root>/api/0/`
   * without a token (src/sentry/api/endpoints/index.py, `{"version": "0"}`), and when it does there, the
   * message gives the URL to set. Otherwise a 404 from Sentry itself (its JSON `detail`) means the
   * organization slug is wrong or not visible to the token; a 404 from something else, a redirect, or a page
   * that is not JSON (Sentry's web UI answers HTML on the same paths) means SENTRY_BASE_URL does not point at
   * the API.
   */
  async #explainFirstCall(err: SentryApiError): Promise<SentryApiError> {
    const notJson = err.kind === 'parse' && /expected JSON/.test(err.message);
    const redirect = err.status !== undefined && err.status >= 300 && err.status < 400;
    if (err.status !== 404 && !notJson && !redirect) return err;
    const hints: string[] = [];
    // Shown without the credentials a proxy URL may carry.
    const base = withoutUserinfo(this.#baseUrl);
    if (!new URL(this.#baseUrl).pathname.endsWith('/api/0/')) {
      const api = await this.#apiRoot();
      hints.push(
        api === undefined
          ? `check SENTRY_BASE_URL first: ${base} does not end in /api/0/, as Sentry's API does (e.g. ${withoutUserinfo(new URL('api/0/', this.#baseUrl).href)})`
          : `check SENTRY_BASE_URL first: Sentry's API answers at ${api}, not at ${base}; set SENTRY_BASE_URL=${api}`,
      );
    }
    if (err.status === 404 && err.detail !== undefined) {
      hints.push(
        `Sentry does not know the organization "${this.org}" or the token cannot see it: check SENTRY_EXPORTER_ORG`,
      );
    } else if (hints.length === 0) {
      hints.push(`the answer did not come from Sentry's API: check SENTRY_BASE_URL (${base})`);
    }
    return new SentryApiError(`${err.message}; ${hints.join('; ')}`, {
      kind: err.kind,
      endpoint: err.endpoint,
      status: err.status,
      detail: err.detail,
      attempts: err.attempts,
      cause: err,
    });
  }

  /** Where Sentry's API index answers, of the base URL with /api/0/ added or at its host's root; if anywhere. */
  async #apiRoot(): Promise<string | undefined> {
    for (const path of ['api/0/', '/api/0/']) {
      try {
        await this.#requests.get(ENDPOINTS.index, path, [], parseApiIndex, {
          signal: AbortSignal.timeout(10_000),
        });
        return withoutUserinfo(new URL(path, this.#baseUrl).href);
      } catch {
        // not the API there either
      }
    }
    return undefined;
  }

  listProjectEnvironments(projectSlug: string, opts: CallOptions = {}): Promise<SentryEnvironment[]> {
    return this.#requests.list(
      ENDPOINTS.environments,
      `projects/${this.#orgPath}/${seg(projectSlug)}/environments/`,
      [],
      parseEnvironments,
      { project: projectSlug, ...opts },
    );
  }

  /**
   * One query, or one per group of projects when naming them all would make a URL longer than
   * URL_BUDGET_BYTES (Sentry repeats the URL twice in its `Link` header, and proxies refuse long URLs).
   * The groups hold distinct projects, so their issues never overlap; within each, issues are
   * deduplicated by id.
   */
  async forEachIssuePage(
    query: IssueQuery,
    onPage: (issues: SentryIssue[]) => void | Promise<void>,
    opts: CallOptions = {},
  ): Promise<void> {
    const path = `organizations/${this.#orgPath}/issues/`;
    const params: Array<[string, string]> = [
      ['limit', String(PAGE_SIZE)],
      ['query', query.query],
    ];
    if (query.statsPeriod !== undefined) params.push(['statsPeriod', query.statsPeriod]);
    if (query.groupStatsPeriod !== undefined) params.push(['groupStatsPeriod', query.groupStatsPeriod]);
    if (query.sort !== undefined) params.push(['sort', query.sort]);
    const environment: Array<[string, string]> =
      query.environment === undefined ? [] : [['environment', query.environment]];
    const ids = query.projectIds ?? [];
    const walk = (projects: readonly string[]): Promise<void> =>
      this.#requests.forEachPage(
        ENDPOINTS.issues,
        path,
        [...params, ...projects.map((id): [string, string] => ['project', id]), ...environment],
        parseIssues,
        onPage,
        opts,
        (issue) => issue.id,
      );
    if (ids.length === 0) return walk(['-1']);
    // The longest URL a group gets: its parameters, the project list, and a cursor of the next pages.
    const fixed =
      new URL(`${path}?${new URLSearchParams([...params, ...environment]).toString()}`, this.#baseUrl).href
        .length + CURSOR_ALLOWANCE;
    for (const group of splitByUrlLength(fixed, 'project', ids, URL_BUDGET_BYTES)) await walk(group);
  }

  listProjectKeys(projectSlug: string, opts: CallOptions = {}): Promise<SentryProjectKey[]> {
    return this.#requests.list(
      ENDPOINTS.projectKeys,
      `projects/${this.#orgPath}/${seg(projectSlug)}/keys/`,
      [['per_page', String(PAGE_SIZE)]],
      parseProjectKeys,
      { project: projectSlug, ...opts },
    );
  }

  listOrganizationProjectKeys(
    opts: CallOptions = {},
  ): Promise<Array<SentryProjectKey & { projectId: string }>> {
    return this.#requests.list(
      ENDPOINTS.organizationProjectKeys,
      `organizations/${this.#orgPath}/project-keys/`,
      // Without project=-1 an organization endpoint answers for the caller's member projects only.
      [
        ['per_page', String(PAGE_SIZE)],
        ['project', '-1'],
      ],
      parseOrganizationProjectKeys,
      opts,
    );
  }

  getEventStats(query: EventStatsQuery, opts: CallOptions = {}): Promise<StatsV2> {
    const params: Array<[string, string]> = [['field', 'sum(quantity)']];
    for (const g of query.groupBy) params.push(['groupBy', g]);
    for (const c of query.categories ?? []) params.push(['category', c]);
    for (const o of query.outcomes ?? []) params.push(['outcome', o]);
    for (const id of query.projectIds ?? []) params.push(['project', id]);
    params.push(
      ['start', query.start.toISOString()],
      ['end', query.end.toISOString()],
      ['interval', query.interval ?? '1d'],
    );
    return this.#requests.get(
      ENDPOINTS.statsV2,
      `organizations/${this.#orgPath}/stats_v2/`,
      params,
      parseStatsV2(query.groupBy),
      opts,
    );
  }

  async getSessions(
    query: SessionsQuery,
    opts: CallOptions & { cursor?: string } = {},
  ): Promise<SessionsPage> {
    const params = sessionsParams(query);
    if (opts.cursor !== undefined) params.push(['cursor', opts.cursor]);
    const { value, next } = await this.#requests.page(
      ENDPOINTS.sessions,
      `organizations/${this.#orgPath}/sessions/`,
      params,
      parseSessions(query.fields),
      opts,
    );
    return { ...value, next };
  }

  listSessionGroups(query: SessionsQuery, opts: CallOptions = {}): Promise<SessionGroup[]> {
    return this.#requests.list(
      ENDPOINTS.sessions,
      `organizations/${this.#orgPath}/sessions/`,
      sessionsParams(query),
      parseSessionGroups(query.fields),
      opts,
      // Offset pages of Snuba rows: tied groups could come again on a later page.
      sessionGroupKey,
    );
  }

  getCurrentRelease(
    issueId: string,
    environment: string | undefined,
    opts: CallOptions = {},
  ): Promise<CurrentReleaseVersion> {
    return this.#requests.get(
      ENDPOINTS.currentRelease,
      `organizations/${this.#orgPath}/issues/${seg(issueId)}/current-release/`,
      environment === undefined ? [] : [['environment', environment]],
      parseCurrentRelease,
      opts,
    );
  }

  listMonitors(opts: CallOptions = {}): Promise<SentryMonitor[]> {
    return this.#requests.list(
      ENDPOINTS.monitors,
      `organizations/${this.#orgPath}/monitors/`,
      [
        ['per_page', String(PAGE_SIZE)],
        // Every project the token can see, not only the member ones.
        ['project', '-1'],
        // The list is offset-paginated; the default order (status, then latest check-in) moves monitors
        // between pages as check-ins arrive while the pages are read, the name order does not.
        ['sort', 'name'],
      ],
      parseMonitors,
      opts,
      // Offset pages: a monitor added or removed while the list is paged shifts the pages.
      (m) => m.id,
    );
  }

  async getTransactionStats(
    query: TransactionStatsQuery,
    opts: CallOptions & { cursor?: string } = {},
  ): Promise<TransactionStatsPage> {
    const params = transactionStatsParams(query);
    if (opts.cursor !== undefined) params.push(['cursor', opts.cursor]);
    const { value, next } = await this.#requests.page(
      ENDPOINTS.events,
      `organizations/${this.#orgPath}/events/`,
      params,
      parseTransactionStats(transactionFields(query.dataset, query.byEnvironment === true)),
      opts,
    );
    return { ...value, next };
  }
}

/**
 * The fields of a transaction table in each dataset (docs/sentry-api.md Part 4): the duration column is
 * `span.duration` in the spans dataset (`sentry.duration_ms`, src/sentry/search/eap/spans/attributes.py) and
 * `transaction.duration` in the SnQL ones.
 */
export function transactionFields(dataset: EventsDataset, byEnvironment: boolean): TransactionFields {
  const duration = dataset === 'spans' ? 'span.duration' : 'transaction.duration';
  return {
    project: 'project',
    transaction: 'transaction',
    ...(byEnvironment ? { environment: 'environment' } : {}),
    count: 'count()',
    rate: 'epm()',
    failureRate: 'failure_rate()',
    quantiles: TRANSACTION_QUANTILES.map((q) => `p${Math.round(q * 100)}(${duration})`),
  };
}

/**
 * What keeps a dataset's rows to transactions: the segment spans of the spans dataset
 * (`is_transaction` is `sentry.is_segment`), the transaction events of discover (which also holds errors);
 * the transactions dataset holds nothing else.
 */
const TRANSACTION_CONDITION: Record<EventsDataset, string> = {
  spans: 'is_transaction:true',
  transactions: '',
  discover: 'event.type:transaction',
};

export function transactionStatsParams(q: TransactionStatsQuery): Array<[string, string]> {
  const fields = transactionFields(q.dataset, q.byEnvironment === true);
  // `discover` is the default dataset: servers from before the `dataset` parameter never see one.
  const params: Array<[string, string]> = q.dataset === 'discover' ? [] : [['dataset', q.dataset]];
  for (const f of [
    fields.project,
    fields.transaction,
    ...(fields.environment === undefined ? [] : [fields.environment]),
    fields.count,
    fields.rate,
    fields.failureRate,
    ...fields.quantiles,
  ])
    params.push(['field', f]);
  const query = [TRANSACTION_CONDITION[q.dataset], q.query?.trim() ?? ''].filter((t) => t !== '').join(' ');
  if (query !== '') params.push(['query', query]);
  params.push(['statsPeriod', q.statsPeriod]);
  const ids = q.projectIds ?? [];
  for (const id of ids.length === 0 ? ['-1'] : ids) params.push(['project', id]);
  for (const e of q.environments ?? []) params.push(['environment', e]);
  // Busiest first; ties in a stable order, so that offset pages neither repeat nor skip a row.
  params.push(['sort', `-${fields.count}`], ['sort', fields.project], ['sort', fields.transaction]);
  if (fields.environment !== undefined) params.push(['sort', fields.environment]);
  params.push(['per_page', String(q.perPage)]);
  if (q.dataset === 'spans') {
    // The full-fidelity tier, and plain aggregates over the stored transactions (not extrapolated by their
    // sampling weights): the numbers mean what they mean in the other datasets.
    params.push(['sampling', 'HIGHEST_ACCURACY'], ['disableAggregateExtrapolation', '1']);
  }
  return params;
}

function sessionsParams(query: SessionsQuery): Array<[string, string]> {
  const params: Array<[string, string]> = query.fields.map((f) => ['field', f]);
  for (const g of query.groupBy) params.push(['groupBy', g]);
  const ids = query.projectIds ?? [];
  if (ids.length === 0) params.push(['project', '-1']);
  for (const id of ids) params.push(['project', id]);
  params.push(
    ['start', query.start.toISOString()],
    ['end', query.end.toISOString()],
    ['interval', query.interval],
  );
  if (query.query !== undefined) params.push(['query', query.query]);
  if (query.orderBy !== undefined) params.push(['orderBy', query.orderBy]);
  if (query.perPage !== undefined) params.push(['per_page', String(query.perPage)]);
  return params;
}
/** Room left in a URL for `&cursor=<value>:<offset>:<is_prev>`. */
const CURSOR_ALLOWANCE = 64;

/** SENTRY_API_MAX_ITEMS's default. */
const DEFAULT_MAX_ITEMS = 50_000;

export function createSentryClient(options: SentryClientOptions): SentryClient {
  return new SentryClientImpl(options);
}
