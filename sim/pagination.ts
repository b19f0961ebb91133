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

/** A cursor of Sentry's keyset paginators: `value:offset:is_prev` (src/sentry/utils/cursors.py). */
export interface ScoreCursor {
  value: number;
  offset: number;
  isPrev: boolean;
}

/** Reads `cursor` for a keyset-paginated list; absent: undefined; malformed: 400 like Sentry. */
export function readScoreCursor(query: URLSearchParams): ScoreCursor | undefined {
  const text = query.get('cursor');
  if (text === null) return undefined;
  const match = /^(\d+):(\d+):([01])$/.exec(text);
  if (!match) throw new HttpError(400, 'Invalid cursor parameter.');
  return { value: Number(match[1]), offset: Number(match[2]), isPrev: match[3] === '1' };
}

/** Index of the first of `scores` (descending) that is <= `value`, within [0, hi). */
function firstAtOrBelow(scores: readonly number[], value: number, hi = scores.length): number {
  let lo = 0;
  let top = Math.min(hi, scores.length);
  while (lo < top) {
    const mid = (lo + top) >> 1;
    if ((scores[mid] ?? 0) > value) lo = mid + 1;
    else top = mid;
  }
  return lo;
}

export interface ScorePage {
  /** Indexes [lo, hi) of the rows on this page. */
  lo: number;
  hi: number;
  link: string;
}

/**
 * The issue stream's pagination, as Sentry's search does it (src/sentry/api/paginator.py SequencePaginator
 * with `reverse=True`, driven by PostgresSnubaQueryExecutor.query in src/sentry/search/snuba/executors.py):
 *
 * - rows are ordered by score descending, ties by group id descending;
 * - a cursor's value is the score of the first row of the page it points to, its offset the number of rows
 *   with that same score before it; a page starts at the first row scoring <= value, plus offset (Snuba is
 *   asked `HAVING score <= value`), so rows that move above the cursor while a client pages are skipped,
 *   and a row inserted among the ties before the offset makes the next page repeat one row;
 * - `next` says `results="true"` when rows remain, and also when the page is full and more rows than a page
 *   scored <= value (the executor's guess, "HACK" in executors.py): that next page may be empty;
 * - with a cursor, `previous` says `results="true"` unless this was an empty previous page.
 *
 * `scores` are the rows' scores, descending. `overlap` (a fault) starts every page after the first that
 * many rows earlier, as an offset paginator does when that many rows were inserted above.
 */
export function paginateByScore(
  scores: readonly number[],
  cursor: ScoreCursor | undefined,
  limit: number,
  base: string,
  query: URLSearchParams,
  overlap = 0,
): ScorePage {
  const n = scores.length;
  const c = cursor ?? { value: 0, offset: 0, isPrev: false };
  const below = c.value === 0 ? 0 : firstAtOrBelow(scores, c.value);
  const position = (c.value === 0 ? (c.isPrev ? n : 0) : below) + c.offset;
  let lo: number;
  let hi: number;
  if (c.isPrev) {
    hi = Math.min(position, n);
    lo = Math.max(hi - limit, 0);
  } else {
    lo = Math.max(position - (cursor === undefined ? 0 : overlap), 0);
    hi = Math.min(lo + limit, n);
  }
  let prev: { value: number; offset: number; results: boolean };
  let next: { value: number; offset: number; results: boolean };
  if (n > 0) {
    const prevScore = scores[Math.min(lo, n - 1)] ?? 0;
    prev = { value: prevScore, offset: lo - firstAtOrBelow(scores, prevScore, lo), results: lo > 0 };
    const nextScore = scores[Math.min(hi, n - 1)] ?? 0;
    next = { value: nextScore, offset: hi - firstAtOrBelow(scores, nextScore, hi), results: hi < n };
  } else {
    prev = { value: c.value, offset: c.offset, results: false };
    next = { value: c.value, offset: c.offset, results: false };
  }
  const rowsAtOrBelow = n - below;
  if (hi - lo === limit && rowsAtOrBelow > limit) next.results = true;
  if (cursor !== undefined && (!cursor.isPrev || hi > lo)) prev.results = true;
  const text = (x: { value: number; offset: number }, isPrev: boolean): string =>
    `${x.value}:${x.offset}:${isPrev ? 1 : 0}`;
  const link = [
    linkEntry(base, query, 'previous', prev.results, text(prev, true)),
    linkEntry(base, query, 'next', next.results, text(next, false)),
  ].join(', ');
  return { lo, hi, link };
}
