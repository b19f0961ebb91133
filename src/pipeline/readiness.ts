/**
 * What /healthz answers, computed from the collectors' state where it is kept (the scheduler), with the
 * clock the collection runs on.
 */

/** A collector as /healthz reports it. */
interface CollectorHealth {
  /** Unix seconds of its last successful run, when there was one. */
  lastSuccess?: number;
  /** Unix seconds of when its values were last published: at the end of a run or as a run's progress. */
  lastPublished?: number;
  /** Its last run failed: the error, with endpoint, status and what to do. */
  error?: string;
}

/** What /healthz reports. */
export interface Readiness {
  ready: boolean;
  /** Short reason when not ready, e.g. `the project list has not been read yet`. */
  reason?: string;
  /** Unix seconds of the oldest fresh collector's last publish, when ready. */
  lastSuccess?: number;
  /** Every collector, failing ones with their last error. */
  collectors: Record<string, CollectorHealth>;
}

/** One collector's state as readiness needs it; times in ms since the epoch. */
export interface CollectorStatus {
  name: string;
  lastSuccess?: number;
  lastPublished?: number;
  lastRunOk?: boolean;
  lastError?: string;
}

/** The collectors' state: the metadata collector, then the collectors that export families. */
export interface PipelineState {
  metadata: CollectorStatus;
  metrics: CollectorStatus[];
}

/**
 * Ready once the project list has been read and at least one collector has fresh data: one collector
 * that keeps failing (a token without the scope its endpoint needs, say) does not hold the pod unready;
 * it shows in sentry_exporter_up, the error counters, and in the `collectors` part of the answer. Fresh:
 * it published values (at the end of a run, or a run's progress) within `maxAgeSeconds`
 * (SENTRY_READY_MAX_AGE). A collector slower than that (client keys, release health) counts only for a
 * while after each run; the per-cycle ones carry readiness, so an unreachable Sentry turns /healthz 503
 * within SENTRY_READY_MAX_AGE.
 */
export function readinessOf(state: PipelineState, maxAgeSeconds: number, now: number): Readiness {
  const { metadata, metrics } = state;
  const collectors: Record<string, CollectorHealth> = {};
  for (const s of [metadata, ...metrics]) {
    const health: CollectorHealth = {};
    if (s.lastSuccess !== undefined) health.lastSuccess = Math.floor(s.lastSuccess / 1000);
    if (s.lastPublished !== undefined) health.lastPublished = Math.floor(s.lastPublished / 1000);
    if (s.lastRunOk === false && s.lastError !== undefined) health.error = s.lastError;
    collectors[s.name] = health;
  }
  if (metadata.lastSuccess === undefined) {
    const error = metadata.lastError;
    return {
      ready: false,
      reason: `the project list has not been read yet${error === undefined ? '' : `: ${error}`}`,
      collectors,
    };
  }
  const maxAgeMs = maxAgeSeconds * 1000;
  const fresh = metrics.filter((s) => s.lastPublished !== undefined && now - s.lastPublished <= maxAgeMs);
  if (metrics.length > 0 && fresh.length === 0) {
    const ages = metrics
      .filter((s) => s.lastPublished !== undefined)
      .map(
        (s) =>
          `${s.name} data is ${Math.round((now - (s.lastPublished ?? now)) / 1000)}s old (max ${maxAgeSeconds}s)`,
      );
    return {
      ready: false,
      reason: ages.length === 0 ? 'no collector has succeeded yet' : `no fresh data: ${ages.join('; ')}`,
      collectors,
    };
  }
  const oldest = Math.min(...fresh.map((s) => s.lastPublished ?? now), metadata.lastSuccess);
  return { ready: true, lastSuccess: Math.floor(oldest / 1000), collectors };
}
