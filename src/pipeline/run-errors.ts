/** A collector run's failure, as the log and /healthz tell it. */
import { SentryApiError } from '../sentry/errors.js';
import type { ErrorReport } from './readiness.js';

/**
 * A failure for the log: Sentry errors with their endpoint, status and detail; others with message and
 * name. When the run's signal fired (deadline or shutdown), its reason is added: the client only knows that
 * its call was abandoned, the operator needs to know why.
 */
export function errorForLog(err: unknown, signal?: AbortSignal): Record<string, unknown> {
  const base: Record<string, unknown> =
    err instanceof SentryApiError
      ? err.toLog()
      : {
          message: err instanceof Error ? err.message : String(err),
          name: err instanceof Error ? err.name : typeof err,
        };
  if (signal === undefined || !signal.aborted) return base;
  const reason: unknown = signal.reason;
  return { ...base, aborted: reason instanceof Error ? reason.message : String(reason) };
}

/** The failure for /healthz and the status page: its message (with why a call was abandoned) and context. */
export function errorReport(err: unknown, signal: AbortSignal): ErrorReport {
  let message = err instanceof Error ? err.message : String(err);
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    message += ` (${reason instanceof Error ? reason.message : String(reason)})`;
  }
  if (!(err instanceof SentryApiError)) return { message };
  return {
    message,
    endpoint: err.endpoint,
    ...(err.status === undefined ? {} : { status: err.status }),
    ...(err.detail === undefined ? {} : { detail: err.detail }),
  };
}
