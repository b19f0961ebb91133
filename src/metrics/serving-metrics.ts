import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { renderFamilies } from './exposition.js';
import { CachedRendering } from './rendering.js';
import type { Rendered, ServedSource } from './rendering.js';

/** The window the event-loop delay percentile is taken over. */
const EVENT_LOOP_WINDOW_MS = 60_000;

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

/**
 * The metrics of the thread that serves HTTP: prom-client's process metrics (`process_*` for the whole
 * process, `nodejs_*` for this thread's heap and event loop: the thread a scrape waits on; the collection
 * thread's isolate is not described), how long a scrape may wait behind other work, and refused scrapers.
 * They come last in the exposition.
 */
export class ServingMetrics implements ServedSource {
  private authFailures = 0;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private loopWindowStart = performance.now();
  /** p99 of the last complete window, once there is one. */
  private loopLastP99: number | undefined;
  private readonly rendering: CachedRendering;
  private readonly process = new Registry();

  constructor(opts: { maxAgeMs?: number } = {}) {
    this.loopDelay.enable();
    collectDefaultMetrics({ register: this.process });
    for (const name of LINT_FAILING_DEFAULTS) this.process.removeSingleMetric(name);
    this.rendering = new CachedRendering(
      async () => `${await this.process.metrics()}${this.render()}`,
      opts.maxAgeMs,
    );
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

  private render(): string {
    return renderFamilies([
      {
        name: 'sentry_exporter_event_loop_delay_p99_seconds',
        help: 'The 99th percentile of the event-loop delay of the thread that serves /metrics, over the last minute: how long a scrape may wait behind other work.',
        type: 'gauge',
        samples: [
          {
            name: 'sentry_exporter_event_loop_delay_p99_seconds',
            labels: [],
            value: this.eventLoopDelayP99() / 1e9,
          },
        ],
      },
      {
        name: 'sentry_exporter_auth_failures_total',
        help: 'Requests to the exporter rejected for missing or wrong credentials.',
        type: 'counter',
        samples: [{ name: 'sentry_exporter_auth_failures_total', labels: [], value: this.authFailures }],
      },
    ]);
  }

  /** A scraper was refused: counted, and shown at the next scrape. */
  authFailed(): void {
    this.authFailures++;
    this.rendering.invalidate();
  }

  peek(): Rendered | undefined {
    return this.rendering.peek();
  }

  current(): Promise<Rendered> {
    return this.rendering.current();
  }

  /** Stops measuring the event loop (the exporter is shutting down). */
  close(): void {
    this.loopDelay.disable();
  }
}
