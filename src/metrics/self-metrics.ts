import { Counter, Gauge, Registry } from 'prom-client';
import type { RequestObservation } from '../sentry/api.js';
import { CachedRendering } from './rendering.js';
import type { Rendered, ServedSource } from './rendering.js';

/**
 * The collection's own metrics (prefix `sentry_exporter_`), kept where the collection runs (the process
 * metrics are the serving thread's: serving-metrics.ts). A rendering is served for up to a second
 * (`current`), and `invalidate` (called when a collector run or a cycle ends) makes the next one render
 * afresh, so what a run changed shows at once.
 */
export class SelfMetrics implements ServedSource {
  readonly registry = new Registry();
  readonly up: Gauge;
  readonly collectionDuration: Gauge<'collector'>;
  readonly lastSuccess: Gauge<'collector'>;
  readonly collectorInterval: Gauge<'collector'>;
  readonly collectionErrors: Counter<'collector'>;
  readonly cycleDuration: Gauge;
  readonly cycles: Counter<'result'>;
  readonly cyclesSkipped: Counter;
  readonly apiRequests: Counter<'endpoint' | 'code'>;
  /** Registered at the first Sentry answer that carries the header: until then there is nothing to say. */
  private rateLimitRemaining: Gauge | undefined;
  /** Registered when Sentry first says an endpoint is deprecated. */
  private apiDeprecated: Gauge<'endpoint'> | undefined;
  private readonly deprecatedEndpoints = new Set<string>();
  readonly tokenReloads: Counter;
  readonly duplicateItems: Counter<'endpoint'>;
  readonly skippedItems: Counter<'endpoint'>;
  readonly series: Gauge<'family'>;
  private readonly rendering: CachedRendering;

  constructor(opts: {
    pollInterval: number;
    version: string;
    /** How long a rendering is served (default SELF_METRICS_MAX_AGE_MS). */
    maxAgeMs?: number;
  }) {
    const every = `Updated by the background collection, every ${opts.pollInterval}s.`;
    const registers = [this.registry];

    new Gauge({
      name: 'sentry_exporter_build_info',
      help: 'Version of the exporter; the value is always 1.',
      labelNames: ['version'],
      registers,
    }).set({ version: opts.version }, 1);
    this.up = new Gauge({
      name: 'sentry_exporter_up',
      help: `0 when the latest run of a collector failed, else 1 (a collector whose first run has not ended has not failed). ${every}`,
      registers,
    });
    this.collectionDuration = new Gauge({
      name: 'sentry_exporter_collection_duration_seconds',
      help: `Duration of the collector's last run. ${every}`,
      labelNames: ['collector'],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'sentry_exporter_last_success_timestamp_seconds',
      help: `Unix time of the collector's last successful run (its values are from then). ${every}`,
      labelNames: ['collector'],
      registers,
    });
    this.collectorInterval = new Gauge({
      name: 'sentry_exporter_collector_interval_seconds',
      help: 'Seconds between runs of the collector: how often its data is refreshed.',
      labelNames: ['collector'],
      registers,
    });
    this.collectionErrors = new Counter({
      name: 'sentry_exporter_collection_errors_total',
      help: 'Collector runs that failed (after retries); the collector keeps its last good values.',
      labelNames: ['collector'],
      registers,
    });
    this.cycleDuration = new Gauge({
      name: 'sentry_exporter_cycle_duration_seconds',
      help: `Duration of the last collection cycle. ${every}`,
      registers,
    });
    this.cycles = new Counter({
      name: 'sentry_exporter_cycles_total',
      help: 'Collection cycles run, by result (success, partial, failure).',
      labelNames: ['result'],
      registers,
    });
    this.cyclesSkipped = new Counter({
      name: 'sentry_exporter_cycles_skipped_total',
      help: "Collector runs skipped because the collector's previous run was still going.",
      registers,
    });
    this.apiRequests = new Counter({
      name: 'sentry_exporter_api_requests_total',
      help: 'Requests sent to the Sentry API, by endpoint template and HTTP status ("error": no answer).',
      labelNames: ['endpoint', 'code'],
      registers,
    });
    this.tokenReloads = new Counter({
      name: 'sentry_exporter_token_reloads_total',
      help: 'New tokens taken from SENTRY_AUTH_TOKEN_FILE while running (a rotated Secret).',
      registers,
    });
    this.duplicateItems = new Counter({
      name: 'sentry_exporter_duplicate_items_total',
      help: 'Items a Sentry list repeated within one paginated query (the list shifted while paged), and groups a stats_v2 or sessions answer repeated; dropped.',
      labelNames: ['endpoint'],
      registers,
    });
    this.skippedItems = new Counter({
      name: 'sentry_exporter_items_skipped_total',
      help: 'Malformed items of Sentry list answers and groups of its stats_v2 and sessions answers, left out (the rest of the answer is used).',
      labelNames: ['endpoint'],
      registers,
    });
    this.series = new Gauge({
      name: 'sentry_exporter_series',
      help: 'Series of each family the collectors export, in the exposition as now published: what the exporter costs in Prometheus.',
      labelNames: ['family'],
      registers,
    });
    this.cyclesSkipped.inc(0);
    this.tokenReloads.inc(0);
    this.rendering = new CachedRendering(() => this.registry.metrics(), opts.maxAgeMs);
  }

  /** Makes the next `current()` render afresh (a rendering already under way is not reused). */
  invalidate(): void {
    this.rendering.invalidate();
  }

  /** The self-metrics as text and gzip member, rendered at most once per `maxAgeMs`. */
  current(): Promise<Rendered> {
    return this.rendering.current();
  }

  /** The current rendering when it is still fresh, without rendering (a scrape's synchronous path). */
  peek(): Rendered | undefined {
    return this.rendering.peek();
  }

  /** Feeds the Sentry client's per-request reports into the counters. */
  observeRequest(o: RequestObservation): void {
    this.apiRequests.inc({ endpoint: o.endpoint, code: o.status === undefined ? 'error' : String(o.status) });
    if (o.deprecated === true || (o.deprecated === false && this.deprecatedEndpoints.has(o.endpoint))) {
      this.apiDeprecated ??= new Gauge({
        name: 'sentry_exporter_api_deprecated',
        help: "1 while Sentry's latest answer of the endpoint said it is deprecated (X-Sentry-Deprecation-Date, or 410 Gone): a later Sentry release may remove it; the log names the date and the replacement. 0 once it no longer says so.",
        labelNames: ['endpoint'],
        registers: [this.registry],
      });
      this.deprecatedEndpoints.add(o.endpoint);
      this.apiDeprecated.set({ endpoint: o.endpoint }, o.deprecated ? 1 : 0);
    }
    if (o.rateLimitRemaining === undefined) return;
    // Self-hosted Sentry sends no rate-limit headers: the gauge stays absent rather than reading 0, which
    // would look like a used-up budget.
    this.rateLimitRemaining ??= new Gauge({
      name: 'sentry_exporter_api_rate_limit_remaining',
      help: 'X-Sentry-Rate-Limit-Remaining of the last Sentry answer that carried it (absent until one did).',
      registers: [this.registry],
    });
    this.rateLimitRemaining.set(o.rateLimitRemaining);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
