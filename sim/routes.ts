/**
 * The endpoints the simulator serves: path patterns, their counter templates, the query parameters each one
 * understands, and the handlers that turn a request into Sentry's answer.
 */
import { parseDuration } from './durations.js';
import type { Dataset, SimProject } from './entities.js';
import { eventsAnswer } from './events.js';
import type { EventsRelease } from './events.js';
import type { IssueListFaults } from './faults.js';
import { HttpError, NOT_FOUND, PERMISSION_DENIED } from './http-error.js';
import { issueScore } from './issue-query.js';
import type { IssueHit, IssueQueryEngine, IssueSort } from './issue-query.js';
import { SearchSyntaxError, parseSearch } from './issue-search.js';
import { listMonitors } from './monitors.js';
import { paginate, paginateByScore, readPage, readScoreCursor } from './pagination.js';
import { currentReleaseJson, environmentJson, issueJson, keyJson, projectJson } from './serialize.js';
import { sessionsAnswer } from './sessions.js';
import { statsV2 } from './stats-v2.js';

interface RouteContext {
  data: Dataset;
  engine: IssueQueryEngine;
  query: URLSearchParams;
  /** Path parameters in pattern order. */
  params: string[];
  /** Absolute URL of the requested path (no query), for Link headers. */
  base: string;
  now: number;
  multiProjectStream: boolean;
  projectSummaryEnvironments: boolean;
  organizationProjectKeys: boolean;
  statsSeriesByProject: boolean;
  /** Called when a stats_v2 answer is cut at 10,000 rows. */
  onStatsCut: () => void;
  /** Release health with the `unhandled` session status (current releases) or without (older ones). */
  sessionUnhandledStatus: boolean;
  /** Called when a sessions answer leaves groups out without announcing a next page. */
  onSessionsCut: () => void;
  /** Faults that shape the issue list's pages. */
  issueListFaults: IssueListFaults;
  /** Issue id -> the `count` text to send (SentrySimulator.setIssueCount). */
  countTexts: ReadonlyMap<string, string>;
  /** Which release's events endpoint (and datasets) to answer like. */
  eventsRelease: EventsRelease;
  /** The organization has the Discover or Performance feature; without, the events endpoint is a 404. */
  performanceView: boolean;
}

interface RouteResult {
  status: number;
  /** JSON; `undefined` for an answer without a body. */
  body: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  template: string;
  pattern: RegExp;
  /** Query parameters the handler interprets; others are ignored, as Sentry ignores them. */
  queryParams: readonly string[];
  handle(ctx: RouteContext): RouteResult;
}

function requireOrg(ctx: RouteContext, slug: string | undefined): void {
  if (slug !== ctx.data.org.slug && slug !== ctx.data.org.id) throw new HttpError(404, NOT_FOUND);
}

function requireProject(ctx: RouteContext, idOrSlug: string | undefined): SimProject {
  const project =
    ctx.data.projectsBySlug.get(idOrSlug ?? '') ?? ctx.data.projectsById.get(idOrSlug ?? '') ?? undefined;
  if (!project) throw new HttpError(404, NOT_FOUND);
  return project;
}

function listResult<T>(ctx: RouteContext, items: readonly T[], toJson: (item: T) => unknown): RouteResult {
  const page = readPage(ctx.query, 'per_page');
  const { items: pageItems, link } = paginate(items, page, ctx.base, ctx.query);
  return { status: 200, body: pageItems.map(toJson), headers: { Link: link } };
}

const projectsRoute: Route = {
  template: '/organizations/{org}/projects/',
  pattern: /^\/api\/0\/organizations\/([^/]+)\/projects\/$/,
  queryParams: ['cursor', 'per_page', 'query'],
  handle(ctx) {
    requireOrg(ctx, ctx.params[0]);
    let projects = [...ctx.data.projects].sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
    const text = ctx.query.get('query')?.trim();
    if (text) {
      for (const token of text.split(/\s+/)) {
        const [key, value] = token.includes(':') ? token.split(':', 2) : ['', token];
        projects = projects.filter((p) => {
          if (key === 'id') return p.id === value;
          if (key === 'slug') return p.slug === value;
          const needle = (value ?? '').toLowerCase();
          return p.slug.includes(needle) || p.name.toLowerCase().includes(needle);
        });
      }
    }
    return listResult(ctx, projects, (p) => projectJson(p, ctx.projectSummaryEnvironments));
  },
};

/** Like Sentry, this endpoint is not paginated: the whole list, ordered by name, and no Link header. */
const environmentsRoute: Route = {
  template: '/projects/{org}/{project}/environments/',
  pattern: /^\/api\/0\/projects\/([^/]+)\/([^/]+)\/environments\/$/,
  queryParams: ['visibility'],
  handle(ctx) {
    requireOrg(ctx, ctx.params[0]);
    const project = requireProject(ctx, ctx.params[1]);
    const visibility = ctx.query.get('visibility') ?? 'visible';
    if (!['visible', 'hidden', 'all'].includes(visibility)) {
      throw new HttpError(
        400,
        "Invalid value for 'visibility', valid values are: ['all', 'hidden', 'visible']",
      );
    }
    const envs = project.environments
      .filter((e) => visibility === 'all' || (visibility === 'hidden') === e.isHidden)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { status: 200, body: envs.map(environmentJson) };
  },
};

const SORTS: Record<string, IssueSort> = {
  date: 'date',
  new: 'new',
  freq: 'freq',
  user: 'user',
  inbox: 'date',
  recommended: 'date',
  trends: 'date',
};

function issueProjects(ctx: RouteContext): SimProject[] {
  const raw = ctx.query.getAll('project').filter((v) => v !== '');
  const all = raw.length === 0 || raw.includes('-1');
  let projects: SimProject[];
  if (all) {
    projects = ctx.data.projects;
  } else {
    const seen = new Set<SimProject>();
    for (const id of raw) {
      if (!/^-?\d+$/.test(id)) throw new HttpError(400, 'Invalid project parameter. Values must be numbers.');
      const project = ctx.data.projectsById.get(id);
      if (!project) throw new HttpError(403, PERMISSION_DENIED);
      seen.add(project);
    }
    projects = [...seen];
  }
  if (!ctx.multiProjectStream && (all || projects.length > 1)) {
    throw new HttpError(400, 'You do not have the multi project stream feature enabled');
  }
  return projects;
}

function issuePeriod(ctx: RouteContext): { start: number; end: number | null; key: string } {
  const startText = ctx.query.get('start');
  const endText = ctx.query.get('end');
  if (startText !== null || endText !== null) {
    const start = Date.parse(startText ?? '');
    const end = Date.parse(endText ?? '');
    if (Number.isNaN(start) || Number.isNaN(end)) {
      throw new HttpError(400, 'start and end are both required and must be ISO 8601 dates');
    }
    return { start, end, key: `${start}-${end}` };
  }
  const period = ctx.query.get('statsPeriod') || '14d';
  const ms = parseDuration(period);
  if (ms === undefined) throw new HttpError(400, `Invalid statsPeriod: "${period}"`);
  return { start: ctx.now - ms, end: null, key: period };
}

const issuesRoute: Route = {
  template: '/organizations/{org}/issues/',
  pattern: /^\/api\/0\/organizations\/([^/]+)\/issues\/$/,
  queryParams: [
    'project',
    'environment',
    'query',
    'statsPeriod',
    'start',
    'end',
    'groupStatsPeriod',
    'shortIdLookup',
    'sort',
    'limit',
    'cursor',
    'collapse',
    'expand',
    'viewId',
  ],
  handle(ctx) {
    requireOrg(ctx, ctx.params[0]);
    const page = readPage(ctx.query, 'limit');
    const projects = issueProjects(ctx);
    const environments = [...new Set(ctx.query.getAll('environment').filter((e) => e !== ''))];
    for (const env of environments)
      if (!ctx.data.orgEnvironments.has(env)) throw new HttpError(404, NOT_FOUND);
    const sortText = ctx.query.get('sort') || 'date';
    const sort = SORTS[sortText];
    if (!sort) throw new HttpError(400, `Invalid sort: "${sortText}"`);
    const groupStatsPeriod = ctx.query.get('groupStatsPeriod') ?? '24h';
    if (!['', '14d', '24h', 'auto'].includes(groupStatsPeriod)) {
      throw new HttpError(400, 'Invalid groupStatsPeriod. Valid choices are "", "24h", "14d", and "auto"');
    }
    const queryText = ctx.query.get('query') ?? 'is:unresolved';
    let search;
    try {
      search = parseSearch(queryText);
    } catch (err) {
      if (err instanceof SearchSyntaxError) throw new HttpError(400, err.message);
      throw err;
    }
    const period = issuePeriod(ctx);
    const hits = ctx.engine.run(
      {
        projects,
        environments,
        search,
        searchKey: queryText,
        periodStart: period.start,
        periodEnd: period.end,
        periodKey: period.key,
        sort,
      },
      ctx.now,
    );
    const faults = ctx.issueListFaults;
    const cursor = readScoreCursor(ctx.query);
    let items: IssueHit[];
    let link: string;
    if (faults.endlessPages !== undefined) {
      ({ items, link } = endlessPage(hits, cursor, page.limit, ctx, faults.endlessPages));
    } else {
      const scores = hits.map((h) => issueScore(h, sort));
      const at = paginateByScore(scores, cursor, page.limit, ctx.base, ctx.query, faults.overlapItems);
      items = hits.slice(at.lo, at.hi);
      link = at.link;
    }
    const collapse = new Set(ctx.query.getAll('collapse'));
    const body = items.map((hit) => {
      const json = issueJson(hit, ctx.data, ctx.now, groupStatsPeriod);
      const count = ctx.countTexts.get(hit.issue.id);
      if (count !== undefined) json.count = count;
      if (collapse.has('stats')) delete json.stats;
      if (collapse.has('lifetime')) delete json.lifetime;
      if (collapse.has('filtered')) delete json.filtered;
      if (collapse.has('unhandled')) delete json.isUnhandled;
      return json;
    });
    const headers: Record<string, string> = { Link: link };
    // X-Hits counts the whole query (on later pages Sentry estimates it from a sample, which for a query
    // Postgres narrows to few candidates is the same number), capped at MAX_HITS_LIMIT; with no candidate
    // at all Sentry takes its empty-result path and sends none (executors.py, paginator.py).
    if (hits.length > 0 && !faults.omitHits) {
      headers['X-Hits'] = String(Math.min(hits.length, MAX_HITS_LIMIT));
      headers['X-Max-Hits'] = String(MAX_HITS_LIMIT);
    }
    return { status: 200, body, headers };
  },
};

/** `MAX_HITS_LIMIT` in src/sentry/api/paginator.py. */
const MAX_HITS_LIMIT = 1000;

/** Synthetic issue ids of the `fresh` endless pages start here (far above the generated ones). */
const FRESH_IDS = 9_000_000_000;

/**
 * The `endlessPages` fault: the first page is the real one; every later one (cursor `1:<n>:0`) is the
 * first page again (`repeat`), empty (`empty`) or a page of issues never listed before (`fresh`, copies of
 * the real ones under new ids); each announces one more.
 */
function endlessPage(
  hits: readonly IssueHit[],
  cursor: ReturnType<typeof readScoreCursor>,
  limit: number,
  ctx: RouteContext,
  mode: NonNullable<IssueListFaults['endlessPages']>,
): { items: IssueHit[]; link: string } {
  // Its own cursors are `1:<n>:0`; a real cursor met when the fault starts counts as page 1.
  const n = cursor === undefined ? 0 : cursor.value === 1 ? cursor.offset : 1;
  const first = hits.slice(0, limit);
  let items: IssueHit[];
  if (n === 0 || mode === 'repeat') items = first;
  else if (mode === 'empty' || hits.length === 0) items = [];
  else {
    items = Array.from({ length: limit }, (_, i) => {
      const hit = hits[i % hits.length] as IssueHit;
      return { ...hit, issue: { ...hit.issue, id: String(FRESH_IDS + n * limit + i) } };
    });
  }
  const params = new URLSearchParams(ctx.query);
  params.delete('cursor');
  const url = `${ctx.base}?${params.toString()}`;
  const link =
    `<${url}&cursor=1:${n}:1>; rel="previous"; results="${n > 0}"; cursor="1:${n}:1", ` +
    `<${url}&cursor=1:${n + 1}:0>; rel="next"; results="true"; cursor="1:${n + 1}:0"`;
  return { items, link };
}

const projectKeysRoute: Route = {
  template: '/projects/{org}/{project}/keys/',
  pattern: /^\/api\/0\/projects\/([^/]+)\/([^/]+)\/keys\/$/,
  queryParams: ['cursor', 'status', 'per_page'],
  handle(ctx) {
    requireOrg(ctx, ctx.params[0]);
    const project = requireProject(ctx, ctx.params[1]);
    const status = ctx.query.get('status');
    const keys = (ctx.data.keysByProject.get(project) ?? []).filter(
      (k) => status === null || status === '' || (status === 'active') === k.isActive,
    );
    return listResult(ctx, keys, (k) => keyJson(k, ctx.data));
  },
};

const orgKeysRoute: Route = {
  template: '/organizations/{org}/project-keys/',
  pattern: /^\/api\/0\/organizations\/([^/]+)\/project-keys\/$/,
  queryParams: ['cursor', 'team', 'status', 'per_page'],
  handle(ctx) {
    // Added in December 2025 (getsentry/sentry PR #105027): older releases have no such route.
    if (!ctx.organizationProjectKeys) throw new HttpError(404, NOT_FOUND);
    requireOrg(ctx, ctx.params[0]);
    const status = ctx.query.get('status');
    if (status !== null && status !== 'active' && status !== 'inactive') {
      throw new HttpError(400, `Invalid status: "${status}". Valid values are "active" and "inactive".`);
    }
    const team = ctx.query.get('team');
    const keys = ctx.data.keys.filter(
      (k) =>
        (status === null || (status === 'active') === k.isActive) &&
        (team === null || k.project.team.slug === team || k.project.team.id === team),
    );
    return listResult(ctx, keys, (k) => keyJson(k, ctx.data));
  },
};

const statsRoute: Route = {
  template: '/organizations/{org}/stats_v2/',
  pattern: /^\/api\/0\/organizations\/([^/]+)\/stats_v2\/$/,
  queryParams: [
    'field',
    'groupBy',
    'category',
    'outcome',
    'reason',
    'project',
    'start',
    'end',
    'statsPeriod',
    'interval',
  ],
  handle(ctx) {
    requireOrg(ctx, ctx.params[0]);
    return {
      status: 200,
      body: statsV2(ctx.data, ctx.query, ctx.now, ctx.statsSeriesByProject, ctx.onStatsCut),
    };
  },
};

/**
 * Release health (src/sentry/api/endpoints/organization_sessions.py): always paginated with a Link header;
 * see sim/sessions.ts for what it answers. `includeTotals` and `includeSeries` are not read by Sentry's code
 * (both are always sent), so they are not listed.
 */
const sessionsRoute: Route = {
  template: '/organizations/{org}/sessions/',
  pattern: /^\/api\/0\/organizations\/([^/]+)\/sessions\/$/,
  queryParams: [
    'field',
    'groupBy',
    'orderBy',
    'project',
    'environment',
    'query',
    'statsPeriod',
    'start',
    'end',
    'interval',
    'per_page',
    'cursor',
  ],
  handle(ctx) {
    requireOrg(ctx, ctx.params[0]);
    const { body, link } = sessionsAnswer({
      data: ctx.data,
      query: ctx.query,
      base: ctx.base,
      now: ctx.now,
      unhandledStatus: ctx.sessionUnhandledStatus,
      onCut: ctx.onSessionsCut,
    });
    return { status: 200, body, headers: { Link: link } };
  },
};

function currentRelease(ctx: RouteContext, issueId: string | undefined): RouteResult {
  const issue = ctx.data.issuesById.get(issueId ?? '');
  if (!issue) throw new HttpError(404, NOT_FOUND);
  const environment = ctx.query.get('environment') || undefined;
  return { status: 200, body: currentReleaseJson(issue, environment) };
}

/**
 * GroupCurrentReleaseEndpoint answers on an organization URL and on a deprecated one without the
 * organization (src/sentry/api/urls.py, create_group_urls); the exporter uses the former.
 */
const orgCurrentReleaseRoute: Route = {
  template: '/organizations/{org}/issues/{issue_id}/current-release/',
  pattern: /^\/api\/0\/organizations\/([^/]+)\/issues\/([^/]+)\/current-release\/$/,
  queryParams: ['environment'],
  handle(ctx) {
    requireOrg(ctx, ctx.params[0]);
    return currentRelease(ctx, ctx.params[1]);
  },
};

const currentReleaseRoute: Route = {
  template: '/issues/{issue_id}/current-release/',
  pattern: /^\/api\/0\/issues\/([^/]+)\/current-release\/$/,
  queryParams: ['environment'],
  handle(ctx) {
    return currentRelease(ctx, ctx.params[0]);
  },
};

/** Cron monitors (sim/monitors.ts): offset pages, like OrganizationMonitorIndexEndpoint. */
const monitorsRoute: Route = {
  template: '/organizations/{org}/monitors/',
  pattern: /^\/api\/0\/organizations\/([^/]+)\/monitors\/$/,
  queryParams: ['project', 'environment', 'cursor', 'per_page', 'sort', 'asc'],
  handle(ctx) {
    requireOrg(ctx, ctx.params[0]);
    const { body, link } = listMonitors({
      monitors: ctx.data.monitors,
      release: ctx.data.monitorRelease,
      projectsById: ctx.data.projectsById,
      orgEnvironments: ctx.data.orgEnvironments,
      query: ctx.query,
      base: ctx.base,
    });
    return { status: 200, body, headers: { Link: link } };
  },
};

/**
 * The Explore/Discover table (sim/events.ts): aggregate tables of transactions from the spans,
 * transactions or discover dataset, offset pages.
 */
const eventsRoute: Route = {
  template: '/organizations/{org}/events/',
  pattern: /^\/api\/0\/organizations\/([^/]+)\/events\/$/,
  queryParams: [
    'dataset',
    'field',
    'query',
    'statsPeriod',
    'start',
    'end',
    'project',
    'environment',
    'sort',
    'per_page',
    'cursor',
    'sampling',
    'disableAggregateExtrapolation',
  ],
  handle(ctx) {
    requireOrg(ctx, ctx.params[0]);
    return eventsAnswer({
      data: ctx.data,
      query: ctx.query,
      base: ctx.base,
      now: ctx.now,
      release: ctx.eventsRelease,
      performanceView: ctx.performanceView,
      globalViews: ctx.multiProjectStream,
    });
  },
};

export const ROUTES: readonly Route[] = [
  projectsRoute,
  environmentsRoute,
  issuesRoute,
  projectKeysRoute,
  orgKeysRoute,
  statsRoute,
  sessionsRoute,
  orgCurrentReleaseRoute,
  currentReleaseRoute,
  monitorsRoute,
  eventsRoute,
];

/** Endpoint template -> the query parameters the simulator interprets (for contract tests). */
export const ACCEPTED_QUERY_PARAMS: Record<string, readonly string[]> = Object.fromEntries(
  ROUTES.map((r) => [r.template, r.queryParams]),
);

export function matchRoute(pathname: string): { route: Route; params: string[] } | undefined {
  for (const route of ROUTES) {
    const match = route.pattern.exec(pathname);
    if (match) return { route, params: match.slice(1).map((p) => decodeURIComponent(p)) };
  }
  return undefined;
}
