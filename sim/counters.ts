/** What the simulator saw: request totals per endpoint and status, 429s, peak concurrency, recent requests. */
import type { SimCounters, SimRequestRecord } from './types.js';

const KEEP_REQUESTS = 10_000;

export class CounterBook {
  private total = 0;
  private byEndpoint: Record<string, number> = {};
  private byStatus: Record<string, number> = {};
  private rateLimited = 0;
  private maxConcurrent = 0;
  private inflight = 0;
  private connections = 0;
  private requests: SimRequestRecord[] = [];
  private statsCut = 0;
  private sessionsCut = 0;

  connection(): void {
    this.connections++;
  }

  begin(): void {
    this.inflight++;
    if (this.inflight > this.maxConcurrent) this.maxConcurrent = this.inflight;
  }

  end(): void {
    this.inflight = Math.max(0, this.inflight - 1);
  }

  /** A stats_v2 answer left rows out (Sentry's 10,000-row cut). */
  cutStats(): void {
    this.statsCut++;
  }

  /** A sessions answer left groups out without announcing a next page (Sentry's silent cut). */
  cutSessions(): void {
    this.sessionsCut++;
  }

  record(entry: SimRequestRecord): void {
    this.total++;
    this.byEndpoint[entry.endpoint] = (this.byEndpoint[entry.endpoint] ?? 0) + 1;
    const status = String(entry.status);
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    if (entry.status === 429) this.rateLimited++;
    this.requests.push(entry);
    // Trim in batches so each request stays O(1) amortized.
    if (this.requests.length > KEEP_REQUESTS * 1.2) this.requests = this.requests.slice(-KEEP_REQUESTS);
  }

  snapshot(): SimCounters {
    return {
      total: this.total,
      byEndpoint: { ...this.byEndpoint },
      byStatus: { ...this.byStatus },
      rateLimited: this.rateLimited,
      maxConcurrent: this.maxConcurrent,
      connections: this.connections,
      requests: this.requests.slice(-KEEP_REQUESTS),
      statsCut: this.statsCut,
      sessionsCut: this.sessionsCut,
    };
  }

  /** Clears the totals; requests still in flight keep counting towards concurrency. */
  reset(): void {
    this.total = 0;
    this.byEndpoint = {};
    this.byStatus = {};
    this.rateLimited = 0;
    this.maxConcurrent = this.inflight;
    this.connections = 0;
    this.requests = [];
    this.statsCut = 0;
    this.sessionsCut = 0;
  }
}
