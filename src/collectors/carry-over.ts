/** How CarryOver reads and writes the counter rows of one family. */
export interface CounterRows<Row> {
  /** The project slug a row belongs to. */
  project: (row: Row) => string;
  /** The row's series within its project (its labels other than the project). */
  series: (row: Row) => string;
  /** The row's counter value. */
  value: (row: Row) => number;
  /** The row with another counter value. */
  withValue: (row: Row, value: number) => Row;
}

/**
 * Counters must not go down but at their reset: Prometheus reads a drop as a reset and `increase()` then
 * counts the whole value again. Within one billing cycle, Sentry's totals since the cycle began only grow;
 * what can make them look smaller is a part of an answer left out (a malformed group skipped, a project
 * refused for a while). So, per billing cycle:
 * - a project whose numbers cannot be read (refused, 403) keeps the rows of its last readable run, for at
 *   most `maxAgeMs`; after that its series are left out, never written as 0;
 * - a project that is read keeps every series it had earlier in the cycle, each at least at its earlier
 *   value: a series missing from this run's answer stays as it was, a smaller value stays at the larger.
 * A new cycle starts from Sentry's values alone: that is the counters' documented reset.
 */
export class CarryOver<Row> {
  private readonly last = new Map<string, { rows: Map<string, Row>; at: number; cycle: number }>();

  constructor(
    private readonly rows: CounterRows<Row>,
    private readonly maxAgeMs: number,
  ) {}

  /**
   * This run's rows of the projects of `read`, floored at their earlier values of the cycle, with the last
   * rows of the projects it could not read (`missing`, slugs). `carried`: the missing projects whose rows
   * were kept; `floored`: how many series of read projects kept an earlier value.
   */
  merge(
    rows: readonly Row[],
    read: readonly string[],
    missing: ReadonlySet<string>,
    at: { now: number; cycle: number },
  ): { rows: Row[]; carried: string[]; floored: number } {
    const { project, series, value, withValue } = this.rows;
    const byProject = new Map<string, Map<string, Row>>(
      read.filter((p) => !missing.has(p)).map((p) => [p, new Map()]),
    );
    const others: Row[] = []; // rows of projects not in `read`: passed on as they are
    for (const row of rows) {
      const own = byProject.get(project(row));
      if (own === undefined) others.push(row);
      else own.set(series(row), row);
    }
    let floored = 0;
    for (const [slug, own] of byProject) {
      const before = this.last.get(slug);
      if (before !== undefined && before.cycle === at.cycle) {
        for (const [key, old] of before.rows) {
          const now = own.get(key);
          if (now === undefined || value(now) < value(old)) {
            own.set(key, now === undefined ? old : withValue(now, value(old)));
            floored++;
          }
        }
      }
      this.last.set(slug, { rows: own, at: at.now, cycle: at.cycle });
    }
    const carried: string[] = [];
    const out = [...others, ...[...byProject.values()].flatMap((own) => [...own.values()])];
    for (const slug of missing) {
      const kept = this.last.get(slug);
      if (kept === undefined || kept.cycle !== at.cycle || at.now - kept.at > this.maxAgeMs) {
        this.last.delete(slug);
        continue;
      }
      carried.push(slug);
      out.push(...kept.rows.values());
    }
    // Projects neither read nor missing (deleted, or no longer selected) are forgotten.
    for (const slug of this.last.keys())
      if (!byProject.has(slug) && !missing.has(slug)) this.last.delete(slug);
    return { rows: out, carried, floored };
  }
}
