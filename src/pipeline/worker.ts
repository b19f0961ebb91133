/**
 * The collection thread: the Sentry client, the collectors and the scheduler, rendering each collector's
 * section and handing it to the thread that serves HTTP (thread.ts), with the readiness state, the
 * self-metrics and the log lines. All the parsing, aggregating, rendering and compressing happens here, so a
 * scrape never waits behind it, and this thread's garbage collections never pause the serving thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { createCollectors } from '../collectors/index.js';
import { TokenFile, fixedToken } from '../config/token-file.js';
import { SELF_METRICS_MAX_AGE_MS } from '../metrics/rendering.js';
import { SectionRenderer } from '../metrics/section-renderer.js';
import { SelfMetrics } from '../metrics/self-metrics.js';
import { createSentryClient } from '../sentry/client.js';
import { VERSION } from '../version.js';
import { own } from './protocol.js';
import type { FromWorker, ToWorker, WorkerSetup } from './protocol.js';
import { Scheduler } from './scheduler.js';

const port = parentPort;
if (port === null) throw new Error('the collection thread runs in a worker thread');
const { config, logLevel, clockOffsetMs } = workerData as WorkerSetup;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

// Lines go to the serving thread, whose logger adds time, pid, hostname and redaction.
const logger = pino(
  { level: logLevel, base: undefined, timestamp: false },
  { write: (line: string) => post({ type: 'log', line }) },
);
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
const sections = new SectionRenderer((name, parts, now) => {
  const owned = parts.map(own);
  post(
    { type: 'section', name, parts: owned, now },
    owned.map((p) => p.buffer as ArrayBuffer),
  );
});
const scheduler: Scheduler = new Scheduler({
  collectors,
  schedule: { ...config.schedule, legacy: config.scrape.legacyMetrics },
  requestStats: () => client.stats(),
  logger: logger.child({ component: 'collect' }),
  self,
  sections,
  onChange: () => post({ type: 'state', state: scheduler.state() }),
  ...(clockOffsetMs === 0 ? {} : { clock: () => Date.now() + clockOffsetMs }),
});

let pushed = 0;
/** Hands the self-metrics over when they changed (at most once a second, and after each asked cycle). */
async function pushSelf(): Promise<void> {
  const rendered = await self.current();
  if (rendered.generation === pushed) return;
  pushed = rendered.generation;
  const text = own(rendered.text);
  const gzip = own(rendered.gzip);
  post({ type: 'self', text, gzip }, [text.buffer as ArrayBuffer, gzip.buffer as ArrayBuffer]);
}
const selfTimer = setInterval(() => {
  pushSelf().catch((err: unknown) => logger.warn({ err }, 'rendering the self-metrics failed'));
}, SELF_METRICS_MAX_AGE_MS);

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'start':
      scheduler.start();
      return;
    case 'runCycle':
      void scheduler.runCycle().then(async (report) => {
        await pushSelf();
        post({ type: 'cycle', id: m.id, report });
      });
      return;
    case 'stop':
      void (async () => {
        clearInterval(selfTimer);
        await scheduler.stop();
        await client.close();
        token.close();
        post({ type: 'stopped', id: m.id });
      })();
      return;
  }
});

await pushSelf();
post({
  type: 'ready',
  collectors: scheduler.collectorNames(),
  sections: collectors.metrics.map((c) => c.name),
  state: scheduler.state(),
});
