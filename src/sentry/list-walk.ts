/**
 * The bounds of walking a paginated list: no answer of Sentry's can make a query endless or memory grow
 * without limit. Items are deduplicated by key (a list that shifts while it is paged repeats items), and a
 * walk whose page announces more must stop, with the reason, when: its cursor was served before; the query
 * already listed more than X-Hits allows (see `hitsBound`) or SENTRY_API_MAX_ITEMS; the collector run
 * (a shared `ItemBudget`) listed SENTRY_API_MAX_ITEMS; MAX_IDLE_PAGES pages in a row brought nothing new;
 * or it took more than twice the pages its item bound needs.
 */
import { MAX_IDLE_PAGES, PAGE_SIZE, ItemBudget, hitsBound, nextPage } from './pagination.js';

/** What the walk needs of one answer besides its items. */
export interface PageHeaders {
  link: string | undefined;
  /** `X-Hits` / `X-Max-Hits`, when sent (the issue stream). */
  hits: number | undefined;
  maxHits: number | undefined;
}

export class ListWalk<T> {
  /** Pages taken so far. */
  page = 0;
  private listed = 0;
  private idle = 0;
  private hits: { hits: number; bound: number } | undefined;
  private readonly keys: Set<string> | undefined;
  private readonly cursors = new Set<string>();
  private readonly budget: ItemBudget;

  constructor(
    /** SENTRY_API_MAX_ITEMS. */
    private readonly maxItems: number,
    /** Shared by the calls of one collector run, when given. */
    private readonly shared: ItemBudget | undefined,
    private readonly key: ((item: T) => string) | undefined,
  ) {
    this.keys = key === undefined ? undefined : new Set();
    this.budget = shared ?? new ItemBudget();
  }

  /** The page's items not listed before in this walk, and how many it repeated. */
  take(parsed: T[]): { fresh: T[]; repeated: number } {
    this.page++;
    let fresh = parsed;
    if (this.keys !== undefined && this.key !== undefined) {
      fresh = [];
      for (const item of parsed) {
        const k = this.key(item);
        if (this.keys.has(k)) continue;
        this.keys.add(k);
        fresh.push(item);
      }
    }
    this.listed += fresh.length;
    this.budget.used += fresh.length;
    this.idle = fresh.length === 0 ? this.idle + 1 : 0;
    return { fresh, repeated: parsed.length - fresh.length };
  }

  /**
   * The cursor of the next page, `undefined` at the end of the list; a `{ problem }` when the page
   * announced more but the walk must not follow it.
   */
  next(headers: PageHeaders): string | undefined | { problem: string } {
    if (this.hits === undefined && headers.hits !== undefined) {
      const bound = hitsBound(headers.hits, headers.maxHits);
      if (bound !== undefined) this.hits = { hits: headers.hits, bound };
    }
    const next = nextPage(headers.link);
    if (next.kind === 'none') return undefined;
    if (next.kind === 'invalid') return { problem: next.reason };
    const problem = this.problem(next.cursor);
    if (problem !== undefined) return { problem };
    this.cursors.add(next.cursor);
    return next.cursor;
  }

  private problem(cursor: string): string | undefined {
    if (this.cursors.has(cursor)) return `pagination loops: cursor "${cursor}" was served twice`;
    const max = this.maxItems;
    const { listed, hits, idle, page } = this;
    if (hits !== undefined && listed >= hits.bound) {
      return `pagination does not end: ${listed} items listed and more announced, but X-Hits said ${hits.hits} (allowed: ${hits.bound}, with a margin for Sentry's estimate)`;
    }
    if (listed >= max) {
      return `pagination does not end: ${listed} items listed and more announced, the most one query may list (SENTRY_API_MAX_ITEMS)`;
    }
    if (this.shared !== undefined && this.budget.used >= max) {
      return `pagination does not end: this collector run listed ${this.budget.used} items and more are announced, the most one run may list (SENTRY_API_MAX_ITEMS)`;
    }
    if (idle >= MAX_IDLE_PAGES) {
      return `pagination does not end: ${idle} pages in a row brought no new item, yet announce more (results="true")`;
    }
    const maxPages = 2 * Math.ceil(Math.min(hits?.bound ?? max, max) / PAGE_SIZE) + MAX_IDLE_PAGES;
    if (page >= maxPages) {
      return `pagination does not end: ${page} pages for ${listed} items, and more announced`;
    }
    return undefined;
  }
}
