import type { Logger } from 'pino';
import type { ExporterConfig } from './config/types.js';
import { createHttpServer } from './http/server.js';
import { ReceivedRendering } from './metrics/rendering.js';
import { ServingMetrics } from './metrics/serving-metrics.js';
import { Snapshot } from './metrics/snapshot.js';
import { CollectionThread } from './pipeline/thread.js';
import type { Pipeline } from './pipeline/thread.js';
import { VERSION } from './version.js';

export interface Exporter {
  /** Where the HTTP server listens, e.g. `http://127.0.0.1:9790`. */
  readonly url: string;
  readonly scheduler: Pipeline;
  readonly snapshot: Snapshot;
  /** Settles when the collection thread failed: the exporter cannot go on and should be stopped. */
  readonly failed: Promise<Error>;
  /** Stops polling, lets in-flight scrapes finish, closes connections. */
  stop(): Promise<void>;
}

/**
 * Wires the parts in the one direction data flows: config -> Sentry client -> collectors -> metrics ->
 * pipeline -> HTTP. The collection (Sentry client, collectors, scheduler, rendering) runs in a thread of its
 * own; this thread serves HTTP from what it hands over, and never reaches Sentry.
 */
export async function startExporter(
  config: ExporterConfig,
  logger: Logger,
  /**
   * `clockOffsetMs`: the collected data's clock runs this far ahead of the wall clock (tests pin the
   * calendar with it; a function cannot cross into the collection thread).
   */
  opts: { clockOffsetMs?: number } = {},
): Promise<Exporter> {
  const serving = new ServingMetrics();
  const collected = new ReceivedRendering();
  const snapshot = new Snapshot([collected, serving]);
  let reportFailure: (err: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (reportFailure = resolve));
  const collection = new CollectionThread({
    config,
    clockOffsetMs: opts.clockOffsetMs ?? 0,
    logger,
    snapshot,
    self: collected,
    onFailure: (err) => {
      logger.fatal({ err: { message: err.message, name: err.name } }, 'the collection thread failed');
      reportFailure(err);
    },
  });
  let http;
  try {
    http = await createHttpServer({
      config: config.http,
      // The HTTP server's own child logger adds `component: "http"` (a second child would write the key twice).
      logger,
      version: VERSION,
      scrape: (acceptGzip) => snapshot.scrape(acceptGzip),
      readiness: () => collection.readiness(),
      onAuthFailure: () => serving.authFailed(),
      pollInterval: config.schedule.pollInterval,
    });
  } catch (err) {
    await collection.stop();
    serving.close();
    throw err;
  }
  let url: string;
  try {
    // Listening once the collection thread is up: the first scrape already has its self-metrics.
    await collection.ready();
    url = await http.listen();
  } catch (err) {
    await collection.stop();
    await http.close();
    serving.close();
    throw err;
  }
  logger.info(
    {
      url,
      org: config.sentry.org,
      sentry: config.sentry.baseUrl,
      projects: config.sentry.projects.length === 0 ? 'all' : config.sentry.projects,
      pollInterval: config.schedule.pollInterval,
      rate: config.sentry.rate,
      version: VERSION,
    },
    'sentry-prometheus-exporter listening',
  );
  collection.start();

  let stopping: Promise<void> | undefined;
  const server = http;
  return {
    url,
    scheduler: collection,
    snapshot,
    failed,
    stop() {
      stopping ??= (async () => {
        await collection.stop();
        await server.close();
        serving.close();
      })();
      return stopping;
    },
  };
}
