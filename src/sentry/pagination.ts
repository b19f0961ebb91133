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

/** A page count no real organization reaches; past it the server is assumed to be looping. */
export const MAX_PAGES = 10_000;

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
