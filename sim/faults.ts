/**
 * Injected failures: which one (if any) hits a request, decided by a PRNG of its own so that fault decisions
 * never disturb the generated data, and what the faulty answer looks like.
 */
import type { Faults } from './types.js';
import { Prng } from './prng.js';

export type FaultKind = 'serverError' | 'reset' | 'hang' | 'malformed' | 'html' | 'wrongType' | 'forbidden';

export interface IssueListFaults {
  overlapItems: number;
  endlessPages: Faults['endlessPages'];
  omitHits: boolean;
}

const ORDER: Array<[FaultKind, keyof Faults]> = [
  ['serverError', 'serverErrorRate'],
  ['reset', 'resetRate'],
  ['hang', 'hangRate'],
  ['malformed', 'malformedRate'],
  ['html', 'htmlRate'],
  ['wrongType', 'wrongTypeRate'],
  ['forbidden', 'forbiddenRate'],
];

export class FaultInjector {
  private faults: Faults = {};
  private readonly rng: Prng;

  constructor(
    seed: number,
    private readonly knownEndpoints: readonly string[],
  ) {
    this.rng = new Prng(seed ^ 0xfa017);
  }

  /** Answers that still get `headers` (`headersTimes`); undefined: every one. */
  private headersLeft: number | undefined;

  set(faults: Faults): void {
    for (const field of [
      'padItems',
      'overlapItems',
      'maxUrlBytes',
      'tinyItems',
      'headersTimes',
      'malformedGroups',
    ] as const) {
      const v = faults[field];
      if (v !== undefined && !(Number.isInteger(v) && v >= 0)) {
        throw new RangeError(`${field} must be a non-negative integer, got ${String(v)}`);
      }
    }
    const endless = faults.endlessPages;
    if (endless !== undefined && !['fresh', 'repeat', 'empty'].includes(endless)) {
      throw new RangeError(`endlessPages must be fresh, repeat or empty, got ${String(endless)}`);
    }
    for (const endpoint of faults.endpoints ?? []) {
      if (!this.knownEndpoints.includes(endpoint)) {
        throw new RangeError(
          `unknown endpoint template "${endpoint}"; known: ${this.knownEndpoints.join(', ')}`,
        );
      }
    }
    for (const [, field] of ORDER) {
      const rate = faults[field];
      if (rate !== undefined && (typeof rate !== 'number' || rate < 0 || rate > 1)) {
        throw new RangeError(`${field} must be between 0 and 1, got ${String(rate)}`);
      }
    }
    this.faults = { ...faults };
    this.headersLeft = faults.headersTimes;
  }

  /** Whether the faults that are not drawn per request (they hold for every answer) apply to `endpoint`. */
  private applies(endpoint: string): boolean {
    const { endpoints } = this.faults;
    return endpoints === undefined || endpoints.includes(endpoint);
  }

  /** `padItems`, when it applies to `endpoint`. */
  padItems(endpoint: string): number | undefined {
    return this.applies(endpoint) ? this.faults.padItems : undefined;
  }

  /** `tinyItems`, when it applies to `endpoint`. */
  tinyItems(endpoint: string): number | undefined {
    return this.applies(endpoint) ? this.faults.tinyItems : undefined;
  }

  /** The extra headers of this answer of `endpoint` (counted against `headersTimes`). */
  headers(endpoint: string): Record<string, string> {
    const { headers } = this.faults;
    if (headers === undefined || !this.applies(endpoint)) return {};
    if (this.headersLeft !== undefined) {
      if (this.headersLeft <= 0) return {};
      this.headersLeft--;
    }
    return headers;
  }

  /** Sentry's deprecation headers, and whether the answer is its 410, when `deprecated` applies. */
  deprecation(endpoint: string): { headers: Record<string, string>; gone: boolean } | undefined {
    const d = this.faults.deprecated;
    if (d === undefined || !this.applies(endpoint)) return undefined;
    const headers: Record<string, string> = { 'X-Sentry-Deprecation-Date': d.date };
    if (d.replacement !== undefined) headers['X-Sentry-Replacement-Endpoint'] = d.replacement;
    return { headers, gone: d.gone === true };
  }

  /** Whether the current-release lookup of `issueId` fails (`releaseErrorsFor`). */
  releaseFails(issueId: string | undefined): boolean {
    return issueId !== undefined && (this.faults.releaseErrorsFor ?? []).includes(issueId);
  }

  get wrongTypeAll(): boolean {
    return this.faults.wrongTypeItems === 'all';
  }

  /** The groups faults of aggregate answers, when they apply to `endpoint`. */
  groupFaults(endpoint: string): { malformed: number; repeat: boolean } | undefined {
    const malformed = this.faults.malformedGroups ?? 0;
    const repeat = this.faults.repeatFirstGroup === true;
    if ((malformed === 0 && !repeat) || !this.applies(endpoint)) return undefined;
    return { malformed, repeat };
  }

  get hangMs(): number {
    return this.faults.hangMs ?? 30_000;
  }

  /** The faults that shape the issue list's pages (not drawn per request: they hold for every page). */
  get issueList(): IssueListFaults {
    return {
      overlapItems: this.faults.overlapItems ?? 0,
      endlessPages: this.faults.endlessPages,
      omitHits: this.faults.omitHits ?? false,
    };
  }

  /** Whether a request naming these projects is refused (Faults.refusedProjects). */
  refuses(projects: readonly string[]): boolean {
    const refused = this.faults.refusedProjects ?? [];
    return projects.some((p) => refused.includes(p));
  }

  get maxUrlBytes(): number | undefined {
    return this.faults.maxUrlBytes;
  }

  /** One draw per request; the rates are cumulative slices of [0, 1). */
  decide(endpoint: string): FaultKind | undefined {
    const { endpoints } = this.faults;
    if (endpoints && !endpoints.includes(endpoint)) return undefined;
    const total = ORDER.reduce(
      (sum, [, field]) => sum + ((this.faults[field] as number | undefined) ?? 0),
      0,
    );
    if (total <= 0) return undefined;
    let r = this.rng.next();
    for (const [kind, field] of ORDER) {
      const rate = (this.faults[field] as number | undefined) ?? 0;
      if (r < rate) return kind;
      r -= rate;
    }
    return undefined;
  }

  /** A second draw, to vary the shape of a fault (status, body kind). */
  variant(n: number): number {
    return Math.floor(this.rng.next() * n);
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const HTML_ERROR = (status: number, text: string): string =>
  `<html>\r\n<head><title>${status} ${text}</title></head>\r\n<body>\r\n<center><h1>${status} ${text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;

export function serverErrorResponse(variant: number): RawResponse {
  switch (variant) {
    case 0:
      return {
        status: 500,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ detail: 'Internal Error', errorId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' }),
      };
    case 1:
      return { status: 502, headers: { 'Content-Type': 'text/html' }, body: HTML_ERROR(502, 'Bad Gateway') };
    default:
      return {
        status: 503,
        headers: { 'Content-Type': 'text/html' },
        body: HTML_ERROR(503, 'Service Temporarily Unavailable'),
      };
  }
}

/** nginx's answer to a request line longer than its buffers. */
export function uriTooLongResponse(): RawResponse {
  return {
    status: 414,
    headers: { 'Content-Type': 'text/html' },
    body: HTML_ERROR(414, 'Request-URI Too Large'),
  };
}

export function htmlPageResponse(): RawResponse {
  return {
    status: 200,
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
    body: '<!DOCTYPE html>\n<html lang="en"><head><title>Login | Sentry</title></head><body><div id="blk_router">Please sign in to continue.</div></body></html>\n',
  };
}

/** The JSON cut off in the middle, as a proxy dropping the tail would leave it. */
export function truncate(json: string): string {
  return json.slice(0, Math.max(1, Math.floor(json.length / 2)));
}

/**
 * The endpoint's 200 body with one field of the wrong type (or the wrong top-level shape); with `all`, the
 * same field of every item of a list answer.
 */
export function wrongType(endpoint: string, body: unknown, all = false): unknown {
  if (all && Array.isArray(body)) return body.map((item) => (wrongType(endpoint, [item]) as unknown[])[0]);
  const first = Array.isArray(body) ? (body[0] as Record<string, unknown> | undefined) : undefined;
  switch (endpoint) {
    case '/organizations/{org}/projects/':
      return { projects: body };
    case '/organizations/{org}/issues/':
      if (first) return [{ ...first, count: 'abc' }, ...(body as unknown[]).slice(1)];
      return { issues: body };
    case '/projects/{org}/{project}/environments/':
      if (first) return [{ ...first, isHidden: 'no' }, ...(body as unknown[]).slice(1)];
      return { environments: body };
    case '/projects/{org}/{project}/keys/':
    case '/organizations/{org}/project-keys/':
      if (first)
        return [{ ...first, rateLimit: 'unlimited', isActive: 'yes' }, ...(body as unknown[]).slice(1)];
      return { keys: body };
    case '/organizations/{org}/stats_v2/':
      return { ...(body as Record<string, unknown>), groups: 'none' };
    case '/issues/{issue_id}/current-release/':
    case '/organizations/{org}/issues/{issue_id}/current-release/':
      return { currentRelease: 42 };
    case '/organizations/{org}/monitors/':
      // The shape the spec claims: environments as one object.
      if (first) return [{ ...first, environments: {} }, ...(body as unknown[]).slice(1)];
      return { monitors: body };
    case '/organizations/{org}/events/':
      // A row whose count is text.
      if (Array.isArray((body as { data?: unknown }).data) && (body as { data: unknown[] }).data.length > 0) {
        const rows = (body as { data: Array<Record<string, unknown>> }).data;
        return { ...(body as object), data: [{ ...rows[0], 'count()': 'many' }, ...rows.slice(1)] };
      }
      return { ...(body as object), data: 'none' };
    default:
      return { unexpected: true };
  }
}

/** Sentry's answer on a deprecated URL during a brownout (src/sentry/api/helpers/deprecation.py GONE_MESSAGE). */
export const GONE_MESSAGE = { message: 'This API no longer exists.' };

/** `[[],[],…]`: `n` empty arrays, valid JSON. */
export function tinyItemsBody(n: number): string {
  return n === 0 ? '[]' : `[${'[],'.repeat(n - 1)}[]]`;
}

/**
 * An aggregate answer (stats_v2, sessions) whose first `malformed` groups carry a total Sentry never sends
 * (`"12"` as a stats_v2 quantity, `-1` for every sessions total), and whose first group comes twice with
 * `repeat`.
 */
export function breakGroups(
  endpoint: string,
  body: unknown,
  { malformed, repeat }: { malformed: number; repeat: boolean },
): unknown {
  const o = body as { groups?: Array<{ totals: Record<string, unknown> }> };
  if (!Array.isArray(o.groups)) return body;
  const stats = endpoint === '/organizations/{org}/stats_v2/';
  const groups = o.groups.map((g, i) => {
    if (i >= malformed) return g;
    const totals = Object.fromEntries(Object.keys(g.totals).map((k) => [k, stats ? '12' : -1]));
    return { ...g, totals };
  });
  if (repeat && groups.length > 0) groups.push(structuredClone(groups[0]!));
  return { ...o, groups };
}
