/**
 * Sentry's cursor pagination: `cursor=<value>:<offset>:<is_prev>` and a `Link` header with a previous and a
 * next entry, `results="true"` only where that page has items.
 */
import { HttpError } from './http-error.js';

export interface PageRequest {
  offset: number;
  limit: number;
}

/** Reads `cursor` and the page size parameter (`per_page`, or `limit` on the issues endpoint). */
export function readPage(query: URLSearchParams, sizeParam: 'per_page' | 'limit'): PageRequest {
  let offset = 0;
  const cursor = query.get('cursor');
  if (cursor !== null) {
    const match = /^(\d+):(\d+):([01])$/.exec(cursor);
    if (!match) throw new HttpError(400, 'Invalid cursor parameter.');
    offset = Number(match[2]);
  }
  let limit = 100;
  const size = query.get(sizeParam);
  if (size !== null) {
    if (!/^\d+$/.test(size) || Number(size) < 1) throw new HttpError(400, `Invalid ${sizeParam} parameter.`);
    limit = Number(size);
    if (limit > 100) throw new HttpError(400, `Invalid ${sizeParam} parameter. Cannot exceed 100.`);
  }
  return { offset, limit };
}

/** Like Sentry's LINK_HEADER: the other parameters url-encoded, then `&cursor=` with the cursor as is. */
export function linkEntry(
  base: string,
  query: URLSearchParams,
  rel: string,
  results: boolean,
  cursor: string,
): string {
  const params = new URLSearchParams(query);
  params.delete('cursor');
  return `<${base}?${params.toString()}&cursor=${cursor}>; rel="${rel}"; results="${results}"; cursor="${cursor}"`;
}

/** The page of `items` and the `Link` header for it. `base` is the absolute URL of the endpoint. */
export function paginate<T>(
  items: readonly T[],
  page: PageRequest,
  base: string,
  query: URLSearchParams,
): { items: T[]; link: string } {
  const { offset, limit } = page;
  const prevCursor = `0:${Math.max(0, offset - limit)}:1`;
  const nextCursor = `0:${offset + limit}:0`;
  const link = [
    linkEntry(base, query, 'previous', offset > 0, prevCursor),
    linkEntry(base, query, 'next', offset + limit < items.length, nextCursor),
  ].join(', ');
  return { items: items.slice(offset, offset + limit), link };
}
