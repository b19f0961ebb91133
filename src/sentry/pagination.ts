/**
 * Sentry's cursor pagination. List endpoints answer with a `Link` header:
 *
 *   <url>; rel="previous"; results="false"; cursor="0:0:1", <url>; rel="next"; results="true"; cursor="0:100:0"
 *
 * and there is another page exactly when the `next` link says `results="true"`. Only the cursor is taken:
 * the next request is built against our own base URL, because a self-hosted Sentry behind a proxy may put
 * its internal host name in the link.
 */

/** The largest page Sentry accepts; above it answers 400. */
export const PAGE_SIZE = 100;

/**
 * No request URL is longer: proxies in front of self-hosted Sentry commonly refuse longer ones (nginx's
 * `large_client_header_buffers` is 8 KiB by default).
 */
export const MAX_URL_BYTES = 8192;

/**
 * The response headers the client accepts, in all (undici's default, Node's `--max-http-header-size`, set
 * explicitly so that a Node flag cannot change it). Sentry repeats the request URL, query and all, in both
 * entries of its `Link` header (`Endpoint.build_cursor_link`: `request.GET.urlencode()`).
 */
export const MAX_RESPONSE_HEADER_BYTES = 16_384;

/**
 * The largest answer body the client reads (32 MiB). Sentry's largest answers are a few MiB (a page of 100
 * issues, a stats_v2 answer at its 10 000-row cap), the very largest a sessions answer at its 50,000 groups
 * (about 10 MiB); past this, memory would follow whatever a server sends. An answer within it costs at most
 * about three and a half times its size while it is read and parsed (its text, and the strings `JSON.parse` copies out
 * of it); answer-size.ts bounds what its items and values cost.
 */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/**
 * The length a URL that lists projects is kept under. Sentry's `Link` header holds it twice (previous and
 * next), built on Sentry's own host name, so it stays near half of MAX_RESPONSE_HEADER_BYTES.
 */
export const URL_BUDGET_BYTES = 4096;

/**
 * The bytes of `&project=<id>` parameters a query may carry: URL_BUDGET_BYTES less room for the base URL,
 * the path and the query's other parameters. Queries of aggregate endpoints (stats_v2, sessions) are planned
 * in batches of projects under it.
 */
export const PROJECT_PARAMS_BUDGET_BYTES = URL_BUDGET_BYTES - 1024;

/** Sentry counts hits up to this many (`MAX_HITS_LIMIT` in src/sentry/api/paginator.py); X-Hits is capped. */
const MAX_HITS_LIMIT = 1000;

/**
 * Pages in a row that bring no new item while `Link` still says `results="true"`. Sentry's issue search
 * guesses `results="true"` when a page is full, and drops deleted and auto-resolved issues after paging,
 * so one empty or short page that announces more is normal; several in a row are a list that does not end.
 */
export const MAX_IDLE_PAGES = 3;

/**
 * The items one query may list when Sentry counted them: X-Hits plus a margin of a quarter (at least one
 * page). On a first page X-Hits is exact unless Postgres found too many candidates, when Sentry estimates
 * it from a sample (within 10 % at 95 % confidence, executors.py `calculate_hits`); the margin covers that.
 * Undefined when X-Hits is no bound: absent, or at its cap (1000, or X-Max-Hits) where the real count may
 * be anything above.
 */
export function hitsBound(hits: number | undefined, maxHits: number | undefined): number | undefined {
  if (hits === undefined) return undefined;
  if (hits >= (maxHits ?? MAX_HITS_LIMIT)) return undefined;
  return hits + Math.max(PAGE_SIZE, Math.ceil(hits / 4));
}

/** A count header (`X-Hits`, `X-Max-Hits`): a non-negative integer, or undefined. */
export function countHeader(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d{1,15}\s*$/.test(value)) return undefined;
  return Number(value);
}

/**
 * Items fetched by the list calls of one collector run, shared between them (CallOptions.budget): the
 * client fails the run's calls once the total passes SENTRY_API_MAX_ITEMS, so memory stays bounded however
 * many queries a run makes and whatever Sentry answers. Without one, each list call counts on its own.
 */
export class ItemBudget {
  used = 0;
}

/**
 * Splits `values` of a repeated query parameter into groups whose URL stays under `budget` bytes, given the
 * length of the URL without them. Order is kept; every group holds at least one value.
 */
export function splitByUrlLength(
  fixedLength: number,
  name: string,
  values: readonly string[],
  budget: number,
): string[][] {
  const groups: string[][] = [];
  let group: string[] = [];
  let length = fixedLength;
  for (const value of values) {
    const extra = name.length + encodeURIComponent(value).length + 2; // '&' or '?', and '='
    if (group.length > 0 && length + extra > budget) {
      groups.push(group);
      group = [];
      length = fixedLength;
    }
    group.push(value);
    length += extra;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

export interface LinkEntry {
  url: string;
  rel: string | undefined;
  results: boolean | undefined;
  cursor: string | undefined;
}

/** Parses a `Link` header into its entries; tolerant of spacing and of commas inside `<...>` or quotes. */
export function parseLinkHeader(header: string): LinkEntry[] {
  const entries: LinkEntry[] = [];
  let i = 0;
  while (i < header.length) {
    const open = header.indexOf('<', i);
    if (open === -1) break;
    const close = header.indexOf('>', open + 1);
    if (close === -1) break;
    const url = header.slice(open + 1, close);
    const params: Record<string, string> = {};
    i = close + 1;
    // Parameters run until the next top-level comma.
    for (;;) {
      while (i < header.length && (header[i] === ' ' || header[i] === '\t')) i++;
      if (header[i] !== ';') break;
      i++;
      while (i < header.length && header[i] === ' ') i++;
      const eq = header.indexOf('=', i);
      if (eq === -1) break;
      const name = header.slice(i, eq).trim().toLowerCase();
      i = eq + 1;
      let value: string;
      if (header[i] === '"') {
        const end = header.indexOf('"', i + 1);
        value = header.slice(i + 1, end === -1 ? header.length : end);
        i = end === -1 ? header.length : end + 1;
      } else {
        let end = i;
        while (end < header.length && header[end] !== ';' && header[end] !== ',') end++;
        value = header.slice(i, end).trim();
        i = end;
      }
      params[name] = value;
    }
    const results = params['results'];
    entries.push({
      url,
      rel: params['rel'],
      results: results === undefined ? undefined : results.toLowerCase() === 'true',
      cursor: params['cursor'],
    });
    const comma = header.indexOf(',', i);
    if (comma === -1) break;
    i = comma + 1;
  }
  return entries;
}

export type NextPage =
  { kind: 'none' } | { kind: 'next'; cursor: string } | { kind: 'invalid'; reason: string };

/**
 * The cursor of the next page, if any. A header that says there are more results but gives no usable
 * cursor is reported as invalid, never read as "last page".
 */
export function nextPage(linkHeader: string | undefined): NextPage {
  if (linkHeader === undefined || linkHeader.trim() === '') return { kind: 'none' };
  const next = parseLinkHeader(linkHeader).find((e) => e.rel === 'next');
  if (next === undefined || next.results !== true) return { kind: 'none' };
  let cursor = next.cursor;
  if (cursor === undefined || cursor === '') {
    // Some proxies strip the parameters; the cursor is also in the link's own query string.
    try {
      cursor = new URL(next.url, 'http://placeholder/').searchParams.get('cursor') ?? undefined;
    } catch {
      cursor = undefined;
    }
  }
  if (cursor === undefined || cursor === '') {
    return { kind: 'invalid', reason: 'Link rel="next" says results="true" but carries no cursor' };
  }
  return { kind: 'next', cursor };
}
