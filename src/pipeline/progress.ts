/**
 * The publishing of a collector run's progress (`CollectContext.publish`): at most one publish at a time,
 * at most one per `gapMs`, and only the latest rows offered meanwhile; nothing after the run has ended.
 */
export class ProgressPublisher<Rows> {
  private pending: { rows: Rows } | undefined;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastAt = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly publish: (rows: Rows) => Promise<void>,
    private readonly gapMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Publishes these rows now, or in place of earlier pending ones once the gap has passed. */
  offer(rows: Rows): void {
    if (this.closed) return;
    this.pending = { rows };
    this.kick();
  }

  private kick(): void {
    if (this.closed || this.running !== undefined || this.timer !== undefined || this.pending === undefined)
      return;
    const wait = this.lastAt + this.gapMs - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, wait);
      return;
    }
    const { rows } = this.pending;
    this.pending = undefined;
    this.lastAt = performance.now();
    this.running = this.publish(rows)
      .catch(this.onError)
      .finally(() => {
        this.running = undefined;
        this.kick();
      });
  }

  /**
   * Ends the run's progress: no publish after this, the one under way is waited for. With `flush`, rows
   * still pending are published first (a run that failed keeps the progress it made).
   */
  async close(flush: boolean): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    const pending = this.pending;
    this.pending = undefined;
    if (flush && pending !== undefined) await this.publish(pending.rows).catch(this.onError);
  }
}
