/**
 * What /healthz answers, computed from the collectors' state where it is kept (the scheduler), with the
 * clock the collection runs on. docs/operations.md documents every field.
 */

/** A collector's last failure: the message, and where Sentry is concerned the endpoint, status and detail. */
export interface ErrorReport {
  message: string;
  /** Path template, e.g. `/organizations/{org}/stats_v2/`. */
  endpoint?: string;
  status?: number;
  /** Sentry's own `detail`, when it sent one. */
  detail?: string;
}

/**
 * `ok`: its last run succeeded; `failing`: its last run failed (it keeps what it published before);
 * `not yet run`: no run has ended yet (the first may be under way).
 */
export type CollectorState = 'ok' | 'failing' | 'not yet run';

/** A collector as /healthz reports it. */
export interface CollectorHealth {
  state: CollectorState;
  /** Unix seconds of its last successful run, when there was one. */
  lastSuccess?: number;
  /** Seconds since then. */
  lastSuccessAgeSeconds?: number;
  /** Unix seconds of when its values were last published: at the end of a run or as a run's progress. */
  lastPublished?: number;
  /** How long its last run took, whatever its outcome. */
  lastDurationSeconds?: number;
  /** Its last run failed: why. */
  lastError?: ErrorReport;
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
  lastDurationMs?: number;
  lastError?: ErrorReport;
}

/** The collectors' state: the metadata collector, then the collectors that export families. */
export interface PipelineState {
  metadata: CollectorStatus;
  metrics: CollectorStatus[];
}

function healthOf(s: CollectorStatus, now: number): CollectorHealth {
  const health: CollectorHealth = {
    state: s.lastRunOk === undefined ? 'not yet run' : s.lastRunOk ? 'ok' : 'failing',
  };
  if (s.lastSuccess !== undefined) {
    health.lastSuccess = Math.floor(s.lastSuccess / 1000);
    health.lastSuccessAgeSeconds = Math.max(0, Math.round((now - s.lastSuccess) / 1000));
  }
  if (s.lastPublished !== undefined) health.lastPublished = Math.floor(s.lastPublished / 1000);
  if (s.lastDurationMs !== undefined) health.lastDurationSeconds = s.lastDurationMs / 1000;
  if (s.lastRunOk === false && s.lastError !== undefined) health.lastError = s.lastError;
  return health;
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
  for (const s of [metadata, ...metrics]) collectors[s.name] = healthOf(s, now);
  if (metadata.lastSuccess === undefined) {
    const error = metadata.lastRunOk === false ? metadata.lastError?.message : undefined;
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

/**
 * What /healthz answers a caller without the credentials /metrics asks for: the verdict and each
 * collector's state, none of the errors (they name the Sentry URL, the organization and projects).
 */
export function publicReadiness(r: Readiness): Readiness {
  const collectors: Record<string, CollectorHealth> = {};
  for (const [name, health] of Object.entries(r.collectors)) collectors[name] = { state: health.state };
  return {
    ready: r.ready,
    ...(r.ready ? {} : { reason: r.reason?.split(':')[0] ?? 'not ready' }),
    collectors,
  };
}
