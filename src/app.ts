import type { Logger } from 'pino';
import type { ExporterConfig } from './collectors/index.js';
import { withoutUserinfo } from './config/formats.js';
import { createHttpServer } from './http/server.js';
import { ServingMetrics } from './metrics/serving-metrics.js';
import { Snapshot } from './metrics/snapshot.js';
import type { Collection } from './pipeline/collection.js';
import type { SectionSink } from './metrics/section-renderer.js';
import { startCollectionThread } from './pipeline/thread.js';
import { VERSION } from './version.js';

export interface Exporter {
  /** Where the HTTP server listens, e.g. `http://127.0.0.1:9790`. */
  readonly url: string;
  readonly collection: Collection;
  readonly snapshot: Snapshot;
  /** Settles when the collection thread failed: the exporter cannot go on and should be stopped. */
  readonly failed: Promise<Error>;
  /** Stops polling, lets in-flight scrapes finish, closes connections. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Collect in a worker thread of its own (the default: SENTRY_EXPORTER_COLLECTION_THREAD), or in this
   * thread, where a test can give it a clock.
   */
  thread?: boolean;
  /** The collection's clock (ms since the epoch); only in this thread: a function cannot cross threads. */
  clock?: () => number;
}

/**
 * Wires the parts in the one direction data flows: config -> collection (Sentry client, collectors,
 * scheduler, rendering) -> snapshot -> HTTP. The HTTP side serves what the collection published and never
 * reaches Sentry.
 */
export async function startExporter(
  config: ExporterConfig,
  logger: Logger,
  opts: StartOptions = {},
): Promise<Exporter> {
  const startedAt = Date.now();
  const thread = opts.thread ?? config.collection.thread;
  if (thread && opts.clock !== undefined) throw new Error('a clock cannot be given to the collection thread');
  const serving = new ServingMetrics();
  let reportFailure: (err: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (reportFailure = resolve));
  // Sections come once the schedule runs (start, below), by when the snapshot exists.
  const sink: SectionSink = (name, parts, now) => snapshot.setSection(name, parts, now);
  const collection = thread
    ? await startCollectionThread(config, sink, {
        logger,
        onFailure: (err) => {
          logger.fatal({ err: { message: err.message, name: err.name } }, 'the collection thread failed');
          reportFailure(err);
        },
      })
    : // Loaded only here: with the collection thread, this thread never loads the Sentry client and its HTTP
      // library (undici alone is about 20 MB of resident memory; docs/performance.md).
      (await import('./pipeline/collection.js')).createCollection(config, sink, {
        logger,
        ...(opts.clock === undefined ? {} : { clock: opts.clock }),
      });
  // The collection's self-metrics, then the serving thread's.
  const snapshot = new Snapshot([collection.self, serving]);
  snapshot.setOrder(collection.sections);

  let http;
  try {
    http = await createHttpServer({
      config: config.http,
      // The HTTP server's own child logger adds `component: "http"` (a second child would write the key twice).
      logger,
      version: VERSION,
      scrape: (acceptGzip) => snapshot.scrape(acceptGzip),
      readiness: () => collection.readiness(),
      status: () => collection.status(),
      onAuthFailure: () => serving.authFailed(),
      org: config.sentry.org,
      sentryUrl: config.sentry.baseUrl,
      startedAt,
    });
  } catch (err) {
    await collection.stop();
    serving.close();
    throw err;
  }
  let url: string;
  try {
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
      // Never the credentials a proxy URL may carry.
      sentry: withoutUserinfo(config.sentry.baseUrl),
      projects: config.sentry.projects.length === 0 ? 'all' : config.sentry.projects,
      pollInterval: config.schedule.pollInterval,
      rate: config.sentry.rate,
      collectionThread: thread,
      version: VERSION,
    },
    'sentry-prometheus-exporter listening',
  );
  collection.start();

  let stopping: Promise<void> | undefined;
  const server = http;
  return {
    url,
    collection,
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
