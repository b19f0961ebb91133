/**
 * What every HTTP exchange with Sentry leaves behind: the request counts of `RequestStats`, a trace line, the
 * observer's report (self-metrics), and once per endpoint a warning when Sentry says the endpoint is
 * deprecated (its `X-Sentry-Deprecation-Date` header, src/sentry/api/helpers/deprecation.py).
 */
import type { Logger } from 'pino';
import type { RequestObservation, RequestStats } from './api.js';
import { deprecation } from './failures.js';
import { headerValue, type HeaderBag } from './rate-limit.js';

/** One exchange: the answer's status and headers, or why there was none. */
export interface Exchange {
  status: number | undefined;
  durationMs: number;
  headers?: HeaderBag;
  /** `X-Sentry-Rate-Limit-Remaining`, as read. */
  remaining?: number | undefined;
  failure?: string;
}

export class ExchangeLog {
  /** Endpoints whose deprecation was logged. */
  readonly #warned = new Set<string>();

  constructor(
    private readonly logger: Logger,
    private readonly onRequest: ((o: RequestObservation) => void) | undefined,
    private readonly stats: RequestStats,
  ) {}

  observe(endpoint: string, url: URL, e: Exchange): void {
    this.stats.requests++;
    if (e.status === 429) this.stats.rateLimited++;
    this.logger.trace(
      {
        endpoint,
        status: e.status,
        failure: e.failure,
        durationMs: Math.round(e.durationMs),
        rateLimitRemaining: e.remaining,
        // The size of what was sent, not the URL itself (it names projects and environments).
        urlBytes: url.href.length,
      },
      'sentry request',
    );
    // A 410 is Sentry's answer on a deprecated endpoint during a brownout, headers or not.
    const deprecated =
      e.headers === undefined
        ? undefined
        : e.status === 410 || headerValue(e.headers, 'x-sentry-deprecation-date') !== undefined;
    if (deprecated === true && e.headers !== undefined && !this.#warned.has(endpoint)) {
      this.#warned.add(endpoint);
      this.logger.warn(
        { endpoint, status: e.status },
        `Sentry says ${endpoint} is deprecated${deprecation({ headers: e.headers })}: a later Sentry release may answer 410 Gone there (sentry_exporter_api_deprecated)`,
      );
    }
    if (this.onRequest === undefined) return;
    try {
      this.onRequest({
        endpoint,
        status: e.status,
        durationMs: e.durationMs,
        rateLimitRemaining: e.remaining,
        ...(deprecated === undefined ? {} : { deprecated }),
      });
    } catch (err) {
      // An observer bug must not turn a good answer into a failed call; it is still reported.
      this.logger.debug({ err }, 'onRequest observer threw');
    }
  }
}
