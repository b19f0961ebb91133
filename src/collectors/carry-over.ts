/**
 * Counters must not go down but at their reset: Prometheus reads a drop as a reset and `increase()` then
 * counts the whole value again. A project whose numbers cannot be read for a while (refused, 403) keeps the
 * rows of its last readable run in the same billing cycle, for at most `maxAgeMs`; after that, or in a new
 * cycle, its series are left out, never written as 0.
 */
export class CarryOver<Row> {
  private readonly last = new Map<string, { rows: Row[]; at: number; cycle: number }>();

  constructor(
    private readonly projectOf: (row: Row) => string,
    private readonly maxAgeMs: number,
  ) {}

  /**
   * This run's rows, with the last rows of the projects it could not read (`missing`, slugs); remembers this
   * run's rows of every other project of `read`.
   */
  merge(
    rows: readonly Row[],
    read: readonly string[],
    missing: ReadonlySet<string>,
    at: { now: number; cycle: number },
  ): { rows: Row[]; carried: string[] } {
    const byProject = new Map<string, Row[]>(read.filter((p) => !missing.has(p)).map((p) => [p, []]));
    for (const row of rows) byProject.get(this.projectOf(row))?.push(row);
    for (const [project, own] of byProject)
      this.last.set(project, { rows: own, at: at.now, cycle: at.cycle });
    const carried: string[] = [];
    const out = [...rows];
    for (const project of missing) {
      const kept = this.last.get(project);
      if (kept === undefined || kept.cycle !== at.cycle || at.now - kept.at > this.maxAgeMs) {
        this.last.delete(project);
        continue;
      }
      carried.push(project);
      out.push(...kept.rows);
    }
    return { rows: out, carried };
  }
}
