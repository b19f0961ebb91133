import type { Logger } from 'pino';
import { createCollectors } from './collectors/index.js';
import { TokenFile, fixedToken } from './config/token-file.js';
import type { ExporterConfig } from './config/types.js';
import { createHttpServer } from './http/server.js';
import { SelfMetrics } from './metrics/self-metrics.js';
import { Snapshot } from './metrics/snapshot.js';
import { Scheduler } from './pipeline/scheduler.js';
import { createSentryClient } from './sentry/client.js';
import { VERSION } from './version.js';

export interface Exporter {
  /** Where the HTTP server listens, e.g. `http://127.0.0.1:9790`. */
  readonly url: string;
  readonly scheduler: Scheduler;
  readonly snapshot: Snapshot;
  /** Stops polling, lets in-flight scrapes finish, closes connections. */
  stop(): Promise<void>;
}

/**
 * Wires the parts in the one direction data flows: config -> Sentry client -> collectors -> metrics ->
 * pipeline -> HTTP. The HTTP server only reads the snapshot; it never reaches Sentry.
 */
export async function startExporter(config: ExporterConfig, logger: Logger): Promise<Exporter> {
  const self = new SelfMetrics({ pollInterval: config.schedule.pollInterval, version: VERSION });
  const token =
    config.sentry.tokenFile === ''
      ? fixedToken(config.sentry.token)
      : new TokenFile(config.sentry.tokenFile, {
          initial: config.sentry.token,
          logger: logger.child({ component: 'config' }),
          onReload: () => self.tokenReloads.inc(),
        });
  const client = createSentryClient({
    baseUrl: config.sentry.baseUrl,
    token,
    maxItems: config.sentry.maxItems,
    org: config.sentry.org,
    rate: config.sentry.rate,
    concurrency: config.sentry.concurrency,
    timeoutSeconds: config.sentry.timeout,
    retry: config.sentry.retry,
    logger: logger.child({ component: 'sentry' }),
    onRequest: (o) => self.observeRequest(o),
    onDuplicates: (endpoint, count) => self.duplicateItems.inc({ endpoint }, count),
    onSkipped: (endpoint, count) => self.skippedItems.inc({ endpoint }, count),
  });
  const collectors = createCollectors(config, client, logger.child({ component: 'collect' }));
  const snapshot = new Snapshot(
    self,
    collectors.metrics.map((c) => c.name),
  );
  const scheduler = new Scheduler({
    collectors,
    schedule: { ...config.schedule, legacy: config.scrape.legacyMetrics },
    requestStats: () => client.stats(),
    logger: logger.child({ component: 'collect' }),
    self,
    snapshot,
  });
  const http = await createHttpServer({
    config: config.http,
    // The HTTP server's own child logger adds `component: "http"` (a second child would write the key twice).
    logger,
    version: VERSION,
    scrape: (acceptGzip) => snapshot.scrape(acceptGzip),
    readiness: () => scheduler.readiness(),
    onAuthFailure: () => {
      self.authFailures.inc();
      self.invalidate();
    },
    pollInterval: config.schedule.pollInterval,
  });
  const url = await http.listen();
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
  scheduler.start();

  let stopping: Promise<void> | undefined;
  return {
    url,
    scheduler,
    snapshot,
    stop() {
      stopping ??= (async () => {
        await scheduler.stop();
        await http.close();
        await client.close();
        token.close();
      })();
      return stopping;
    },
  };
}
