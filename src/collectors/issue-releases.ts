import type { SentryApi } from '../sentry/api.js';
import { SentryApiError } from '../sentry/errors.js';

/**
 * Failed lookups after which a run asks no more (the rest wait for the next run): when Sentry's lookups fail
 * one after another, a run must not spend its time and the rate budget retrying a thousand of them.
 */
export const MAX_FAILED_LOOKUPS = 20;

/** What one run's lookups came to. */
export interface ReleaseResolution {
  /** Issues gone from Sentry since the listing (404): their release is None this run. */
  vanished: string[];
  /** Lookups asked. */
  lookups: number;
  /**
   * Lookups that failed (after the client's retries) or were not asked after MAX_FAILED_LOOKUPS failures:
   * their series are left out until their release is known (a stale answer is still served), and they are
   * asked again next run.
   */
  failed: number;
  /** The first failure, for the log. */
  firstFailure: SentryApiError | undefined;
}

/** An open issue in one environment: one `sentry_open_issue_events` series, one current release. */
export interface ReleaseTarget {
  issueId: string;
  project: string;
  environment: string | null;
}

interface Entry {
  release: string | null;
  fetchedAt: number;
}

export interface ReleaseCacheOptions {
  api: SentryApi;
  /** How long an answer is fresh (SENTRY_METADATA_INTERVAL), ms. */
  ttlMs: number;
  /** How often the collector runs (SENTRY_POLL_INTERVAL), ms: sets how many stale answers a run refreshes. */
  intervalMs: number;
  /** Lookups under way at a time. */
  concurrency: number;
}

/**
 * The current release of each open issue in its environment (`GET .../issues/{id}/current-release/`, one
 * request per series), remembered across runs. It rarely changes, so an answer is fresh for
 * SENTRY_METADATA_INTERVAL; a steady run asks only about series it has not seen before.
 *
 * Progress is never thrown away: each answer is kept as soon as it arrives, so a run abandoned at its deadline
 * leaves its answers to the next one, and a first run longer than the deadline still converges. A stale answer
 * is still served while it is refreshed (the series never disappears or changes to a placeholder), and a run
 * refreshes only its share of the stale answers (as many as expire per poll interval on average), so the
 * answers fetched together at start-up do not all come due in the same run again.
 */
export class ReleaseCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: ReleaseCacheOptions) {}

  /**
   * Resolves the release of every target, in the order given (newest issues first): what is known is
   * reported at once through `onKnown`, the rest as each answer arrives. Answers for series that are no longer
   * targets are forgotten. An issue gone from Sentry since the listing (404) is reported as `null` and not
   * kept. A lookup that fails otherwise (after the client's retries) is one missing label, not a failed run:
   * its series is not reported (a stale answer still is), it is counted in the result and asked again next
   * run. Rejects only when `signal` fires; the answers that arrived until then are kept.
   */
  async resolve(
    targets: readonly ReleaseTarget[],
    now: number,
    signal: AbortSignal,
    onKnown: (index: number, release: string | null) => void,
  ): Promise<ReleaseResolution> {
    const keys = targets.map(releaseKey);
    const wanted = new Set(keys);
    for (const key of this.entries.keys()) if (!wanted.has(key)) this.entries.delete(key);

    const missing: number[] = [];
    const stale: number[] = [];
    targets.forEach((_, i) => {
      const entry = this.entries.get(keys[i]!);
      if (entry === undefined) {
        missing.push(i);
        return;
      }
      onKnown(i, entry.release);
      if (now - entry.fetchedAt >= this.opts.ttlMs) stale.push(i);
    });
    const share = Math.ceil((targets.length * this.opts.intervalMs) / Math.max(1, this.opts.ttlMs));
    const fetchedAt = (i: number) => this.entries.get(keys[i]!)?.fetchedAt ?? 0;
    const refresh = stale.sort((a, b) => fetchedAt(a) - fetchedAt(b) || a - b).slice(0, Math.max(1, share));

    const vanished = new Set<string>();
    const work = [...missing, ...refresh];
    let failed = 0;
    let firstFailure: SentryApiError | undefined;
    let asked = 0;
    const lookup = async (i: number): Promise<void> => {
      const target = targets[i]!;
      let release: string | null;
      try {
        release = await this.opts.api.getCurrentRelease(target.issueId, target.environment ?? undefined, {
          signal,
          project: target.project,
        });
      } catch (err) {
        // The run was abandoned (deadline, shutdown): so is the lookup.
        if (signal.aborted || !(err instanceof SentryApiError)) throw err;
        // Deleted or merged in Sentry since the listing: no release this run (not kept), not a failure.
        if (err.status === 404) {
          vanished.add(target.issueId);
          onKnown(i, null);
          return;
        }
        failed++;
        firstFailure ??= err;
        return;
      }
      this.entries.set(keys[i]!, { release, fetchedAt: now });
      onKnown(i, release);
    };
    // In the order given, a few at a time; past MAX_FAILED_LOOKUPS failures, no more are asked this run.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < work.length && failed < MAX_FAILED_LOOKUPS) {
        signal.throwIfAborted();
        const i = work[next++]!;
        asked++;
        await lookup(i);
      }
    };
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(this.opts.concurrency, work.length)) }, worker),
    );
    return { vanished: [...vanished], lookups: asked, failed: failed + (work.length - next), firstFailure };
  }
}

function releaseKey(t: ReleaseTarget): string {
  return `${t.issueId}\u0000${t.environment ?? ''}`;
}
