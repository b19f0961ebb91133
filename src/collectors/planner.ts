/**
 * Questions to Sentry's aggregate endpoints (stats_v2, sessions), asked so that no answer is used that
 * Sentry may have cut. Both cut their answers at a fixed number of rows or data points without a word
 * (docs/sentry-api.md, Parts 2 and 3), so a question about many projects is asked in batches:
 *
 * - **plan**: consecutive projects, each batch expected to fill at most a share of the answer's limit (from
 *   the rows each project had in the last run, or a first guess) and to keep its URL within
 *   PROJECT_PARAMS_BUDGET_BYTES;
 * - **ask and check**: an answer that may have reached the limit is never used: its batch is planned again
 *   with what the answer showed (else halved), down to one project, which the query asks another way (per
 *   category, per time range, per release) or gives up on with a `cut` error;
 * - **refusals**: a 403 names no project: Sentry refuses the whole request when one listed project is no
 *   longer accessible (src/sentry/api/bases/organization.py, `get_projects`), as when it was deleted after
 *   the project list was read. When the token can read the organization's data at all (asked once per
 *   run), the batch is halved until the refused projects are found; they are left out and reported. A
 *   token without access fails the run.
 *
 * What a run observed is kept for the next run's plan only when the run succeeded.
 */
import type { Logger } from 'pino';
import { SentryApiError } from '../sentry/errors.js';
import { PROJECT_PARAMS_BUDGET_BYTES } from '../sentry/pagination.js';
import type { ProjectInfo } from './collector.js';

/** A batch of projects; `all`: the whole selection, asked as `project=-1` (every project the token sees). */
export interface Batch {
  projects: readonly ProjectInfo[];
  all: boolean;
}

/** How an answer measures against the endpoint's limit. */
interface Measure {
  /** Rows (or groups) per project id in the answer. */
  rows: ReadonlyMap<string, number>;
  /** The answer reached the limit: Sentry may have left rows out. */
  cut: boolean;
}

/** One logical question, asked of as many batches as it takes. */
export interface CutSafeQuery<Answer, Item> {
  /**
   * Names the question for the planner's memory (rows per project from one run to the next); without it,
   * nothing is remembered (a question asked only to split another one).
   */
  readonly key?: string;
  /** The rows one batch may be planned to hold. */
  readonly target: number;
  /** Whether a selection of every project may be asked as `project=-1` when it fits one answer. */
  readonly allowAll: boolean;
  /** Rows a project is expected to add, given what the last run saw of it (undefined: nothing). */
  estimate(project: ProjectInfo, lastRun: number | undefined): number;
  ask(batch: Batch, signal: AbortSignal): Promise<Answer>;
  measure(answer: Answer): Measure;
  items(answer: Answer): Item[];
  /** One project whose answer is cut even alone: asked another way, or a `cut` error. */
  alone(project: ProjectInfo, answer: Answer, run: PlannerRun): Promise<Item[]>;
  /** Asks the endpoint for the whole organization; rejects when the token may not. */
  probe(signal: AbortSignal): Promise<unknown>;
}

/**
 * How long a project refused alone is left out of the next runs before it is asked again: a project the
 * token's user may not read (closed membership lists it anyway) is found once an hour, not every run.
 */
export const REFUSED_FOR_MS = 3_600_000;

/**
 * The planner of one collector: what each question's projects held in the last successful run, and the
 * projects refused alone (id -> when), left out until REFUSED_FOR_MS has passed.
 */
export class CutSafePlanner {
  private readonly remembered = new Map<string, Map<string, number>>();
  private readonly refused = new Map<string, number>();

  /** A run at `now` (ms): its questions share one signal, one access probe and one report. */
  run(signal: AbortSignal, now: number): PlannerRun {
    for (const [id, at] of this.refused) if (now - at >= REFUSED_FOR_MS) this.refused.delete(id);
    return new PlannerRun(signal, this.remembered, this.refused, now);
  }
}

export class PlannerRun {
  /** Answers found at the limit, asked again smaller. */
  splits = 0;
  /**
   * Project ids refused (403) alone while the organization's data was readable (deleted, moved, or not
   * readable by the token's user), this run or within REFUSED_FOR_MS: their items are missing.
   */
  readonly gone = new Set<string>();
  /** Of those, the ones found this run. */
  private readonly found = new Set<string>();
  private access: Promise<boolean> | undefined;
  /** Rows per project per question seen this run: complete answers, and lower bounds from cut ones. */
  private readonly observed = new Map<string, Map<string, number>>();
  private readonly seenInCut = new Map<string, Map<string, number>>();

  constructor(
    readonly signal: AbortSignal,
    private readonly remembered: Map<string, Map<string, number>>,
    private readonly refused: Map<string, number>,
    private readonly now: number,
  ) {}

  /** Whether the project is left out of this run, refused within REFUSED_FOR_MS. */
  isRefused(projectId: string): boolean {
    return this.refused.has(projectId);
  }

  /** Every item of the question for these projects, from answers that are not cut. */
  async fetch<A, I>(query: CutSafeQuery<A, I>, all: readonly ProjectInfo[]): Promise<I[]> {
    const projects = all.filter((p) => {
      if (!this.refused.has(p.id)) return true;
      this.gone.add(p.id);
      return false;
    });
    if (projects.length === 0) return [];
    const parts = await Promise.all(
      this.plan(query, projects, query.allowAll).map((b) => this.ask(query, b)),
    );
    return parts.flat();
  }

  /**
   * Ends a successful run: what it observed plans the next run, and the projects it found gone are
   * logged once.
   */
  finish(logger: Logger, endpoint: string): void {
    for (const [key, rows] of this.observed) this.remembered.set(key, rows);
    if (this.splits > 0) {
      logger.info(
        { endpoint, splits: this.splits },
        "answers that may have reached Sentry's row limit were split and asked again",
      );
    }
    if (this.found.size > 0) {
      logger.info(
        { endpoint, projectIds: [...this.found].slice(0, 10), count: this.found.size },
        `projects refused (403): deleted since the project list was read, or not readable by the token's user; left out for ${REFUSED_FOR_MS / 60_000} minutes, their counters kept as they were`,
      );
    }
  }

  private estimate<A, I>(query: CutSafeQuery<A, I>, p: ProjectInfo): number {
    const key = query.key;
    const last = key === undefined ? undefined : this.remembered.get(key)?.get(p.id);
    const seen = key === undefined ? 0 : (this.seenInCut.get(key)?.get(p.id) ?? 0);
    return Math.max(1, query.estimate(p, last), seen);
  }

  /** Consecutive projects, each batch within the row target and the URL budget. */
  private plan<A, I>(
    query: CutSafeQuery<A, I>,
    projects: readonly ProjectInfo[],
    allowAll: boolean,
  ): Batch[] {
    const estimates = projects.map((p) => this.estimate(query, p));
    if (allowAll && estimates.reduce((a, b) => a + b, 0) <= query.target) return [{ projects, all: true }];
    const batches: Batch[] = [];
    let batch: ProjectInfo[] = [];
    let rows = 0;
    let bytes = 0;
    projects.forEach((p, i) => {
      const estimate = estimates[i] ?? 1;
      const param = '&project='.length + encodeURIComponent(p.id).length;
      if (
        batch.length > 0 &&
        (rows + estimate > query.target || bytes + param > PROJECT_PARAMS_BUDGET_BYTES)
      ) {
        batches.push({ projects: batch, all: false });
        batch = [];
        rows = 0;
        bytes = 0;
      }
      batch.push(p);
      rows += estimate;
      bytes += param;
    });
    if (batch.length > 0) batches.push({ projects: batch, all: false });
    return batches;
  }

  private record(
    key: string | undefined,
    into: Map<string, Map<string, number>>,
    id: string,
    rows: number,
  ): void {
    if (key === undefined) return;
    const map = into.get(key) ?? new Map<string, number>();
    map.set(id, Math.max(map.get(id) ?? 0, rows));
    into.set(key, map);
  }

  private async ask<A, I>(query: CutSafeQuery<A, I>, batch: Batch): Promise<I[]> {
    let answer: A;
    try {
      answer = await query.ask(batch, this.signal);
    } catch (err) {
      return this.onRefusal(query, batch, err);
    }
    const { rows, cut } = query.measure(answer);
    if (!cut) {
      for (const p of batch.projects) this.record(query.key, this.observed, p.id, rows.get(p.id) ?? 0);
      return query.items(answer);
    }
    this.splits++;
    // What the cut answer showed is a lower bound for the plan of its parts, and of the next run.
    for (const [id, n] of rows) this.record(query.key, this.seenInCut, id, n);
    const [only, ...others] = batch.projects;
    if (only === undefined) return [];
    if (others.length === 0) {
      this.record(query.key, this.observed, only.id, rows.get(only.id) ?? 0);
      return query.alone(only, answer, this);
    }
    let parts = this.plan(query, batch.projects, false);
    if (parts.length === 1) parts = halves(batch.projects);
    return (await Promise.all(parts.map((b) => this.ask(query, b)))).flat();
  }

  private async onRefusal<A, I>(query: CutSafeQuery<A, I>, batch: Batch, err: unknown): Promise<I[]> {
    if (!(err instanceof SentryApiError && err.status === 403) || batch.all) throw err;
    this.access ??= query.probe(this.signal).then(
      () => true,
      () => false,
    );
    if (!(await this.access)) throw err;
    if (batch.projects.length > 1) {
      return (await Promise.all(halves(batch.projects).map((b) => this.ask(query, b)))).flat();
    }
    for (const p of batch.projects) {
      this.gone.add(p.id);
      this.found.add(p.id);
      this.refused.set(p.id, this.now);
      this.record(query.key, this.observed, p.id, 0);
    }
    return [];
  }
}

function halves(projects: readonly ProjectInfo[]): Batch[] {
  const half = Math.ceil(projects.length / 2);
  return [
    { projects: projects.slice(0, half), all: false },
    { projects: projects.slice(half), all: false },
  ];
}
