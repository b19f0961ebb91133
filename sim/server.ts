/**
 * The simulator's HTTP server: routes requests to the endpoint handlers and wraps them in what sentry.io adds
 * around every answer (authentication, rate limiting with its headers, latency) plus the injected faults.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CounterBook } from './counters.js';
import { generateDataset } from './dataset.js';
import {
  FaultInjector,
  GONE_MESSAGE,
  breakGroups,
  htmlPageResponse,
  tinyItemsBody,
  serverErrorResponse,
  truncate,
  uriTooLongResponse,
  wrongType,
} from './faults.js';
import type { FaultKind } from './faults.js';
import { HttpError, NOT_FOUND, PERMISSION_DENIED } from './http-error.js';
import { IssueQueryEngine } from './issue-query.js';
import { RateLimiter } from './rate-limit.js';
import type { RateDecision } from './rate-limit.js';
import { ROUTES, matchRoute } from './routes.js';
import type { Route } from './routes.js';
import { computeTruth, performanceTruth } from './truth.js';
import type { Faults, SentrySimulator, SimOptions, TokenStatus } from './types.js';

export const DEFAULT_RATE_LIMIT = { perSecond: 40, concurrent: 25 } as const;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A JSON answer; `body` undefined is an answer without a body (DRF's `Response(status=404)`). */
function json(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  if (body === undefined) return { status, headers, body: '' };
  return { status, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

function queryRecord(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of params) {
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[key] = [prev, value];
  }
  return out;
}

function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match ? (match[1] ?? '') : '';
}

function nonNegativeInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
  return v;
}

export async function startSimulator(opts: SimOptions = {}): Promise<SentrySimulator> {
  const now = opts.now ?? Date.now;
  const org = opts.org ?? 'acme';
  const token = opts.token ?? 'sim-token';
  const host = opts.host ?? '127.0.0.1';
  const seed = nonNegativeInt('seed', opts.seed, 1);
  const mode = opts.mode ?? 'sentry.io';
  const io = mode === 'sentry.io';
  const projectCount = nonNegativeInt('projects', opts.projects, 20);
  const data = generateDataset({
    seed,
    projects: projectCount,
    environmentsPerProject: nonNegativeInt('environmentsPerProject', opts.environmentsPerProject, 2),
    ...(opts.projectsWithoutEnvironments === undefined
      ? {}
      : {
          projectsWithoutEnvironments: nonNegativeInt(
            'projectsWithoutEnvironments',
            opts.projectsWithoutEnvironments,
            1,
          ),
        }),
    issuesPerProject: nonNegativeInt('issuesPerProject', opts.issuesPerProject, 60),
    ...(opts.deletedProjects === undefined
      ? {}
      : { deletedProjects: nonNegativeInt('deletedProjects', opts.deletedProjects, 1) }),
    outcomeVariety: opts.outcomeVariety ?? 1,
    org,
    now: now(),
    monitors: nonNegativeInt('monitors', opts.monitors, Math.ceil(projectCount / 2)),
    monitorRelease: opts.monitorRelease ?? (io ? 'current' : 'older'),
  });
  const engine = new IssueQueryEngine(data);
  const limiter = new RateLimiter(
    opts.rateLimit === undefined ? (io ? { ...DEFAULT_RATE_LIMIT } : false) : opts.rateLimit,
  );
  const rateLimitHeaders = opts.rateLimitHeaders ?? io;
  const multiProjectStream = opts.multiProjectStream ?? true;
  const projectSummaryEnvironments = opts.projectSummaryEnvironments ?? io;
  const organizationProjectKeys = opts.organizationProjectKeys ?? io;
  const statsSeriesByProject = opts.statsSeriesByProject ?? !io;
  const sessionUnhandledStatus = opts.sessionUnhandledStatus ?? io;
  const eventsRelease = opts.eventsRelease ?? (io ? 'current' : 'before-spans');
  const performanceView = opts.performanceView ?? true;
  const faults = new FaultInjector(
    seed,
    ROUTES.map((r) => r.template),
  );
  const counters = new CounterBook();
  const timers = new Set<NodeJS.Timeout>();
  let latencyMs = nonNegativeInt('latencyMs', opts.latencyMs, 0);
  let tokenStatus: TokenStatus = 'valid';
  let tokens: ReadonlySet<string> = new Set([token]);
  const countTexts = new Map<string, string>();

  /** Decides the answer; everything but the (possibly delayed) write happens at arrival. */
  function decide(
    req: IncomingMessage,
    url: URL,
    matched: { route: Route; params: string[] },
    arrival: number,
    rate: RateDecision,
  ): { answer: Answer | 'reset'; fault: FaultKind | undefined } {
    const template = matched.route.template;
    if (!rate.allowed) return { answer: json(429, { detail: rate.detail }, rate.headers), fault: undefined };
    const presented = bearer(req);
    if (presented === undefined) {
      return {
        answer: json(401, { detail: 'Authentication credentials were not provided.' }, rate.headers),
        fault: undefined,
      };
    }
    if (!tokens.has(presented) || tokenStatus === 'revoked') {
      return { answer: json(401, { detail: 'Invalid token' }, rate.headers), fault: undefined };
    }
    if (tokenStatus === 'missing-scope') {
      return { answer: json(403, { detail: PERMISSION_DENIED }, rate.headers), fault: undefined };
    }
    const fault = faults.decide(template);
    const deprecation = faults.deprecation(template);
    if (deprecation?.gone === true) {
      return { answer: json(410, GONE_MESSAGE, { ...rate.headers, ...deprecation.headers }), fault };
    }
    if (template.endsWith('/current-release/') && faults.releaseFails(matched.params.at(-1))) {
      return {
        answer: {
          ...serverErrorResponse(0),
          headers: { ...serverErrorResponse(0).headers, ...rate.headers },
        },
        fault,
      };
    }
    if (fault === 'reset') return { answer: 'reset', fault };
    if (fault === 'serverError') return { answer: { ...serverErrorResponse(faults.variant(3)) }, fault };
    if (fault === 'html') return { answer: htmlPageResponse(), fault };
    if (fault === 'forbidden' || faults.refuses(url.searchParams.getAll('project')))
      return { answer: json(403, { detail: PERMISSION_DENIED }, rate.headers), fault };
    let result;
    try {
      result = matched.route.handle({
        data,
        engine,
        query: url.searchParams,
        params: matched.params,
        base: `http://${req.headers.host ?? `${host}:${port}`}${url.pathname}`,
        now: arrival,
        multiProjectStream,
        projectSummaryEnvironments,
        organizationProjectKeys,
        statsSeriesByProject,
        onStatsCut: () => counters.cutStats(),
        sessionUnhandledStatus,
        onSessionsCut: () => counters.cutSessions(),
        issueListFaults: faults.issueList,
        countTexts,
        eventsRelease,
        performanceView,
      });
    } catch (err) {
      if (err instanceof HttpError)
        return { answer: json(err.status, { detail: err.detail }, rate.headers), fault };
      console.error(`sentry simulator: ${template} failed`, err);
      return { answer: json(500, { detail: 'Internal Error' }, rate.headers), fault };
    }
    const headers = { ...rate.headers, ...result.headers, ...deprecation?.headers };
    if (result.status === 200 && fault === 'wrongType') {
      return { answer: json(200, wrongType(template, result.body, faults.wrongTypeAll), headers), fault };
    }
    const groups = faults.groupFaults(template);
    let body = result.status === 200 && groups ? breakGroups(template, result.body, groups) : result.body;
    const pad = faults.padItems(template);
    if (result.status === 200 && pad !== undefined && Array.isArray(body)) {
      const padding = 'x'.repeat(pad);
      body = (body as Array<Record<string, unknown>>).map((item) => ({ ...item, padding }));
    }
    const answer = json(result.status, body, headers);
    if (result.status === 200 && fault === 'malformed') answer.body = truncate(answer.body);
    const tiny = faults.tinyItems(template);
    if (result.status === 200 && tiny !== undefined) answer.body = tinyItemsBody(tiny);
    return { answer, fault };
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    // Data answers use the simulator clock; rate-limit windows and request times use the wall clock, which is
    // what clients pace themselves by (X-Sentry-Rate-Limit-Reset is compared with their own clock).
    const arrival = now();
    const wall = Date.now();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://sim.invalid');
    } catch {
      url = new URL('http://sim.invalid/');
    }
    let matched: { route: Route; params: string[] } | undefined;
    try {
      matched = matchRoute(url.pathname);
    } catch {
      matched = undefined;
    }
    const endpoint = matched?.route.template ?? '(unmatched)';
    counters.begin();
    let rate: RateDecision | undefined;
    let timer: NodeJS.Timeout | undefined;
    res.on('close', () => {
      counters.end();
      rate?.release();
      if (timer) {
        clearTimeout(timer);
        timers.delete(timer);
      }
    });

    let answer: Answer | 'reset';
    let fault: FaultKind | undefined;
    const urlBytes = Buffer.byteLength(req.url ?? '');
    const maxUrlBytes = faults.maxUrlBytes;
    if (maxUrlBytes !== undefined && urlBytes > maxUrlBytes) {
      // A proxy in front of Sentry refuses the request line; Sentry never sees it.
      answer = { ...uriTooLongResponse() };
    } else if (!matched) {
      answer = json(404, { detail: NOT_FOUND });
    } else if (req.method !== 'GET') {
      answer = json(405, { detail: `Method "${req.method ?? ''}" not allowed.` });
    } else {
      rate = limiter.check(bearer(req) ?? '', matched.route.template, wall, rateLimitHeaders);
      ({ answer, fault } = decide(req, url, matched, arrival, rate));
      if (answer !== 'reset') {
        const extra = faults.headers(matched.route.template);
        if (Object.keys(extra).length > 0) answer = { ...answer, headers: { ...answer.headers, ...extra } };
      }
    }
    counters.record({
      endpoint,
      query: queryRecord(url.searchParams),
      status: answer === 'reset' ? 0 : answer.status,
      urlBytes,
      at: wall,
    });

    const final = answer;
    const write = (): void => {
      if (timer) timers.delete(timer);
      timer = undefined;
      if (res.destroyed) return;
      if (final === 'reset') {
        req.socket.destroy();
        return;
      }
      const body = Buffer.from(final.body);
      res.writeHead(final.status, { ...final.headers, 'Content-Length': String(body.length) });
      res.end(body);
    };
    const delay = latencyMs + (fault === 'hang' ? faults.hangMs : 0);
    // Drain the request body (GETs have none) so keep-alive connections stay usable.
    req.resume();
    if (delay <= 0) write();
    else {
      timer = setTimeout(write, delay);
      timers.add(timer);
    }
  }

  // Sentry (behind its own web server) takes request lines far longer than Node's default 16 KiB, and
  // repeats them in its Link header: what the client then has to take is the problem, as with Sentry.
  const server = createServer({ keepAlive: true, maxHeaderSize: 256 * 1024 }, onRequest);
  server.on('connection', () => counters.connection());
  let port = opts.port ?? 0;
  let listening = false;
  let closed = false;

  async function listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen({ host, port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    port = (server.address() as AddressInfo).port;
    listening = true;
  }

  async function stopListening(): Promise<void> {
    if (!listening) return;
    listening = false;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  await listen();
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}/api/0/`,
    port,
    mode,
    org,
    token,
    truth: (t = {}) => computeTruth(data, now(), { sessionUnhandledStatus, ...t }),
    performanceTruth: (q) => performanceTruth(data, now(), eventsRelease, q),
    counters: () => counters.snapshot(),
    resetCounters: () => counters.reset(),
    setFaults: (f: Faults) => faults.set(f),
    setRateLimit: (r) => limiter.setConfig(r === undefined ? { ...DEFAULT_RATE_LIMIT } : r),
    setLatency: (ms: number) => {
      latencyMs = nonNegativeInt('latency', ms, 0);
    },
    setTokenStatus: (s: TokenStatus) => {
      tokenStatus = s;
    },
    acceptTokens: (list: readonly string[]) => {
      tokens = new Set(list);
    },
    setIssueCount: (issueId: string, count: string) => {
      const issue = data.issuesById.get(issueId);
      const only = issue?.envs.length === 1 ? issue.envs[0] : undefined;
      if (issue === undefined || only === undefined || !/^\d+$/.test(count)) {
        throw new RangeError(`setIssueCount needs an issue with one environment and a count of digits`);
      }
      only.count = Number(count);
      issue.totalCount = only.count;
      countTexts.set(issueId, count);
      engine.clear();
    },
    setIssueFirstSeen: (issueId: string, firstSeenMs: number) => {
      const issue = data.issuesById.get(issueId);
      if (issue === undefined) throw new RangeError(`no issue ${issueId}`);
      issue.firstSeenMs = firstSeenMs;
      issue.firstSeen = new Date(firstSeenMs).toISOString();
      if (issue.lastSeenMs < firstSeenMs) {
        issue.lastSeenMs = firstSeenMs;
        issue.lastSeen = issue.firstSeen;
      }
      engine.clear();
    },
    stop: stopListening,
    start: async () => {
      if (closed) throw new Error('the simulator is closed');
      if (!listening) await listen();
    },
    close: async () => {
      closed = true;
      await stopListening();
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
