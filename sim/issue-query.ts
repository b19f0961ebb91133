/**
 * Answers an organization issues query: candidate issues from the project/environment indexes, filtered by the
 * parsed search and the stats period, sorted the way Sentry sorts. Results are cached per query shape for a
 * second, so paging through a large result does not re-filter and re-sort for every page.
 */
import type { Dataset, SimIssue, SimProject } from './entities.js';
import type { ParsedSearch } from './issue-search.js';

export type IssueSort = 'date' | 'new' | 'freq' | 'user';

export interface IssueQuerySpec {
  projects: SimProject[];
  /** Environment names; empty: all environments. */
  environments: string[];
  search: ParsedSearch;
  /** Cache identity of `search` (the raw query string). */
  searchKey: string;
  /** Only issues whose lastSeen is within [periodStart, periodEnd]. */
  periodStart: number;
  periodEnd: number | null;
  /** Cache identity of the period (statsPeriod or start/end as given). */
  periodKey: string;
  sort: IssueSort;
}

/** One result row: the issue and its counts restricted to the queried environments. */
export interface IssueHit {
  issue: SimIssue;
  count: number;
  userCount: number;
  /** The first queried environment the issue has events in, or null. */
  environment: string | null;
}

const CACHE_TTL_MS = 1000;
const CACHE_MAX = 256;

export class IssueQueryEngine {
  private readonly cache = new Map<string, { at: number; hits: IssueHit[] }>();

  constructor(private readonly data: Dataset) {}

  /** Forgets cached answers (after the data changed). */
  clear(): void {
    this.cache.clear();
  }

  run(spec: IssueQuerySpec, now: number): IssueHit[] {
    const key = [
      spec.projects.map((p) => p.index).join(','),
      spec.environments.join('\u0001'),
      spec.searchKey,
      spec.periodKey,
      spec.sort,
    ].join('\u0000');
    const cached = this.cache.get(key);
    if (cached && now - cached.at >= 0 && now - cached.at < CACHE_TTL_MS) return cached.hits;
    const hits = this.compute(spec, now);
    if (this.cache.size >= CACHE_MAX) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(key, { at: now, hits });
    return hits;
  }

  private candidates(spec: IssueQuerySpec): SimIssue[] {
    const out: SimIssue[] = [];
    if (spec.environments.length === 0) {
      for (const project of spec.projects) {
        const list = this.data.issuesByProject.get(project);
        if (list) for (const issue of list) out.push(issue);
      }
      return out;
    }
    const seen = new Set<SimIssue>();
    for (const project of spec.projects) {
      for (const env of spec.environments) {
        const list = this.data.issuesByProjectEnv.get(`${project.index}\u0000${env}`);
        if (!list) continue;
        for (const issue of list) {
          if (spec.environments.length > 1) {
            if (seen.has(issue)) continue;
            seen.add(issue);
          }
          out.push(issue);
        }
      }
    }
    return out;
  }

  private compute(spec: IssueQuerySpec, now: number): IssueHit[] {
    const { search } = spec;
    if (search.matchesNothing) return [];
    const bounds = search.bounds.map((b) => ({
      field: b.field,
      kind: b.kind,
      at: b.absolute ?? now - (b.agoMs ?? 0),
    }));
    const hits: IssueHit[] = [];
    for (const issue of this.candidates(spec)) {
      if (search.statuses && !search.statuses.has(issue.status)) continue;
      if (search.excludedStatuses.has(issue.status)) continue;
      if (search.levels && !search.levels.has(issue.level)) continue;
      if (search.excludedLevels.has(issue.level)) continue;
      if (issue.lastSeenMs < spec.periodStart) continue;
      if (spec.periodEnd !== null && issue.lastSeenMs > spec.periodEnd) continue;
      let inBounds = true;
      for (const b of bounds) {
        const t = b.field === 'firstSeen' ? issue.firstSeenMs : issue.lastSeenMs;
        if (b.kind === 'after' ? t < b.at : t >= b.at) {
          inBounds = false;
          break;
        }
      }
      if (!inBounds) continue;
      if (search.text && !issue.titleLower.includes(search.text)) continue;
      if (spec.environments.length === 0) {
        hits.push({ issue, count: issue.totalCount, userCount: issue.totalUserCount, environment: null });
        continue;
      }
      let count = 0;
      let userCount = 0;
      let environment: string | null = null;
      for (const e of issue.envs) {
        if (e.env === null || !spec.environments.includes(e.env)) continue;
        count += e.count;
        userCount += e.userCount;
        environment ??= e.env;
      }
      hits.push({ issue, count, userCount, environment });
    }
    hits.sort(comparator(spec.sort));
    return hits;
  }
}

/**
 * The score Sentry sorts and pages by (PostgresSnubaQueryExecutor.aggregation_defs in
 * src/sentry/search/snuba/executors.py): `new` and `date` are the first and last event times truncated to
 * the second, in milliseconds (`multiply(toUInt64(min(...)), 1000)`), so issues of the same second tie;
 * `freq` the event count, `user` the user count.
 */
export function issueScore(hit: IssueHit, sort: IssueSort): number {
  switch (sort) {
    case 'new':
      return Math.floor(hit.issue.firstSeenMs / 1000) * 1000;
    case 'freq':
      return hit.count;
    case 'user':
      return hit.userCount;
    default:
      return Math.floor(hit.issue.lastSeenMs / 1000) * 1000;
  }
}

/** Numeric comparison of two decimal ids. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Descending by score, ties by issue id descending: SequencePaginator sorts `(score, group_id)` pairs with
 * `reverse=True` (src/sentry/api/paginator.py).
 */
function comparator(sort: IssueSort): (a: IssueHit, b: IssueHit) => number {
  return (a, b) => issueScore(b, sort) - issueScore(a, sort) || compareIds(b.issue.id, a.issue.id);
}
