/**
 * The serving thread's side of the collection thread (worker.ts): starts it, keeps what it posts (sections
 * into the snapshot, self-metrics, readiness, log lines) and answers as a `Collection`. A scrape is served
 * from what was posted and never waits for the collection thread.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ExporterConfig } from '../collectors/index.js';
import { destinationOf } from '../log.js';
import { ReceivedRendering } from '../metrics/rendering.js';
import type { SectionSink } from '../metrics/section-renderer.js';
import type { Collection, CollectionStatus } from './collection.js';
import type { FromWorker, ToWorker } from './protocol.js';
import type { Readiness } from './readiness.js';
import { SHUTDOWN_GRACE_MS, type CycleReport } from './scheduler.js';

/**
 * How long `stop()` waits for the collection thread to stop on its own (the scheduler's grace for running
 * collectors, and a little for what follows) before it ends the thread: a thread busy with a long
 * synchronous task (parsing, rendering) cannot even read the request to stop.
 */
export const THREAD_STOP_LIMIT_MS = SHUTDOWN_GRACE_MS + 500;

/**
 * Asks a worker to stop (`ask`), and ends it once it has, or after `limitMs` when it has not (then says
 * so in the log). Resolves once the thread is gone.
 */
export async function stopThread(
  worker: Pick<Worker, 'terminate'>,
  ask: () => Promise<unknown>,
  limitMs: number,
  logger: Logger,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    ask().then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), limitMs);
    }),
  ]);
  clearTimeout(timer);
  if (!inTime) {
    logger.warn({ limitMs }, 'the collection thread did not stop in time (busy with a long task); ending it');
  }
  await worker.terminate();
}

/** Starts the collection in a worker thread; resolves once it is set up. */
export async function startCollectionThread(
  config: ExporterConfig,
  sink: SectionSink,
  { logger, onFailure }: { logger: Logger; onFailure: (err: Error) => void },
): Promise<Collection> {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { config } });
  const self = new ReceivedRendering();
  const log = destinationOf(logger);
  const calls = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  let nextId = 0;
  let status: CollectionStatus | undefined;
  const starting: Readiness = { ready: false, reason: 'the collection thread is starting', collectors: {} };
  let failure: Error | undefined;
  let stopping: Promise<void> | undefined;

  const ready = new Promise<{ collectorNames: readonly string[]; sections: readonly string[] }>(
    (resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') resolve(m);
        else if (m.type === 'section')
          sink(
            m.name,
            m.parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)),
            m.now,
          );
        else if (m.type === 'self') self.set(m.text, m.gzip);
        else if (m.type === 'status') status = m.status;
        else if (m.type === 'log') log.write(m.line);
        else {
          calls.get(m.id)?.resolve(m.type === 'cycle' ? m.report : undefined);
          calls.delete(m.id);
        }
      });
      const fail = (err: Error) => {
        reject(err);
        if (failure !== undefined || stopping !== undefined) return;
        failure = err;
        for (const c of calls.values()) c.reject(err);
        calls.clear();
        onFailure(err);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`the collection thread exited (code ${code})`)));
    },
  );
  const call = <T>(message: (id: number) => ToWorker): Promise<T> => {
    if (failure !== undefined) return Promise.reject(failure);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage(message(id));
    });
  };
  let started: Awaited<typeof ready>;
  try {
    started = await ready;
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  return {
    ...started,
    self,
    start: () => worker.postMessage({ type: 'start' } satisfies ToWorker),
    runCycle: () => call<CycleReport>((id) => ({ type: 'runCycle', id })),
    readiness: () => status?.readiness ?? starting,
    status: () =>
      status ?? {
        readiness: starting,
        collectors: [],
        disabled: [],
        requests: {
          rate: config.sentry.rate,
          concurrency: config.sentry.concurrency,
          total: 0,
          rateLimited: 0,
          retries: 0,
          rateLimits: [],
        },
        series: {},
      },
    stop() {
      stopping ??=
        failure === undefined
          ? stopThread(worker, () => call<void>((id) => ({ type: 'stop', id })), THREAD_STOP_LIMIT_MS, logger)
          : worker.terminate().then(() => undefined);
      return stopping;
    },
  };
}
