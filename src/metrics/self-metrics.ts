import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestObservation } from '../sentry/request.js';

/**
 * prom-client's default Node.js gauges whose names end in `_total`, which `promtool check metrics`
 * rejects ("non-counter metrics should not have _total suffix"). Their information is kept by
 * process_* metrics; they are removed so the exposition passes promtool's lint.
 */
const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** How long a rendering of the self-metrics is served before it is rendered again (unless invalidated). */
export const SELF_METRICS_MAX_AGE_MS = 1000;
/** The window the event-loop delay percentile is taken over. */
const EVENT_LOOP_WINDOW_MS = 60_000;

/** The self-metrics as served: text and its own gzip member, rendered together. */
export interface RenderedSelfMetrics {
  text: Buffer;
  gzip: Buffer;
  /** Changes with every rendering: a body built from this one is current while it is unchanged. */
  generation: number;
}

/**
 * The exporter's own metrics (prefix `sentry_exporter_`) plus process metrics. Small, but reading the
 * process metrics costs a few system calls: a rendering is served for up to a second (`current`), and
 * `invalidate` (called when a collector run or a cycle ends, or a scraper is refused) makes the next
 * scrape render afresh, so what a run changed shows at once.
 */
export class SelfMetrics {
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
  readonly authFailures: Counter;
  readonly tokenReloads: Counter;
  readonly duplicateItems: Counter<'endpoint'>;
  readonly skippedItems: Counter<'endpoint'>;
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private loopWindowStart = performance.now();
  /** p99 of the last complete window, once there is one. */
  private loopLastP99: number | undefined;
  private rendered: { at: number; value: RenderedSelfMetrics } | undefined;
  private rendering: { epoch: number; promise: Promise<RenderedSelfMetrics> } | undefined;
  private generation = 0;
  /** Bumped by `invalidate`. */
  private epoch = 0;

  private readonly maxAgeMs: number;

  constructor(opts: {
    pollInterval: number;
    version: string;
    /** How long a rendering is served (default SELF_METRICS_MAX_AGE_MS). */
    maxAgeMs?: number;
  }) {
    this.maxAgeMs = opts.maxAgeMs ?? SELF_METRICS_MAX_AGE_MS;
    const every = `Updated by the background collection, every ${opts.pollInterval}s.`;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);

    new Gauge({
      name: 'sentry_exporter_build_info',
      help: 'Version of the exporter; the value is always 1.',
      labelNames: ['version'],
      registers,
    }).set({ version: opts.version }, 1);
    this.up = new Gauge({
      name: 'sentry_exporter_up',
      help: `1 when the last run of every collector succeeded, else 0. ${every}`,
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
      help: 'Items a Sentry list repeated within one paginated query (the list shifted while paged); dropped.',
      labelNames: ['endpoint'],
      registers,
    });
    this.skippedItems = new Counter({
      name: 'sentry_exporter_items_skipped_total',
      help: 'Malformed items left out of Sentry list answers (the rest of the answer is used).',
      labelNames: ['endpoint'],
      registers,
    });
    this.loopDelay.enable();
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect() with the gauge as `this`
    const self = this;
    new Gauge({
      name: 'sentry_exporter_event_loop_delay_p99_seconds',
      help: 'The 99th percentile of the event-loop delay over the last minute: how long a scrape may wait behind other work in the exporter.',
      registers,
      collect() {
        this.set(self.eventLoopDelayP99() / 1e9);
      },
    });
    this.authFailures = new Counter({
      name: 'sentry_exporter_auth_failures_total',
      help: 'Requests to the exporter rejected for missing or wrong credentials.',
      registers,
    });
    this.cyclesSkipped.inc(0);
    this.authFailures.inc(0);
    this.tokenReloads.inc(0);
  }

  /** Nanoseconds; the last complete minute's figure, or the current minute's before one is complete. */
  private eventLoopDelayP99(): number {
    const now = performance.now();
    if (now - this.loopWindowStart >= EVENT_LOOP_WINDOW_MS) {
      this.loopLastP99 = this.loopDelay.count > 0 ? this.loopDelay.percentile(99) : 0;
      this.loopDelay.reset();
      this.loopWindowStart = now;
    }
    return this.loopLastP99 ?? (this.loopDelay.count > 0 ? this.loopDelay.percentile(99) : 0);
  }

  /** Makes the next `current()` render afresh (a rendering already under way is not reused). */
  invalidate(): void {
    this.rendered = undefined;
    this.epoch++;
  }

  /** The self-metrics as text and gzip member, rendered at most once per `maxAgeMs`. */
  current(): Promise<RenderedSelfMetrics> {
    const cached = this.rendered;
    if (cached !== undefined && performance.now() - cached.at < this.maxAgeMs)
      return Promise.resolve(cached.value);
    if (this.rendering?.epoch === this.epoch) return this.rendering.promise;
    const epoch = this.epoch;
    const promise = this.render().then((text) => {
      const bytes = Buffer.from(text, 'utf8');
      // A few KiB: compressing here is cheaper than a trip to the thread pool.
      const value = { text: bytes, gzip: gzipSync(bytes), generation: ++this.generation };
      if (epoch === this.epoch) this.rendered = { at: performance.now(), value };
      return value;
    });
    const rendering = { epoch, promise };
    this.rendering = rendering;
    const done = () => {
      if (this.rendering === rendering) this.rendering = undefined;
    };
    promise.then(done, done);
    return promise;
  }

  /** Feeds the Sentry client's per-request reports into the counters. */
  observeRequest(o: RequestObservation): void {
    this.apiRequests.inc({ endpoint: o.endpoint, code: o.status === undefined ? 'error' : String(o.status) });
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
