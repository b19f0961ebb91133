/**
 * The collection thread: the collection (collection.ts) in a worker thread, so that its parsing, rendering
 * and garbage never hold up a scrape. It posts what the serving thread keeps (thread.ts): each section,
 * the self-metrics at most once a second, its status (readiness within) when it may have changed and each
 * second (ages move), and its log lines, already written.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { ExporterConfig } from '../collectors/index.js';
import { createLogger } from '../log.js';
import { SELF_METRICS_MAX_AGE_MS } from '../metrics/rendering.js';
import { createCollection } from './collection.js';
import type { FromWorker, ToWorker } from './protocol.js';

/** Copies the bytes into arrays of their own, which the message can hand over (a Buffer may share a pool). */
function owned(parts: readonly Uint8Array[]): [Uint8Array[], ArrayBuffer[]] {
  const copies = parts.map((p) => new Uint8Array(p));
  return [copies, copies.map((c) => c.buffer as ArrayBuffer)];
}

function runCollectionThread(port: MessagePort, config: ExporterConfig): void {
  try {
    // On Linux a thread has a nice value of its own: this one yields the CPU to the serving thread.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, 10);
  } catch {
    // not Linux, or no /proc: the same priority as the serving thread
  }
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  const write = (line: string) => post({ type: 'log', line });
  const logger = createLogger({ level: config.logLevel, destination: { write } });
  let lastStatus = '';
  const postStatus = () => {
    const status = collection.status();
    const json = JSON.stringify(status);
    if (json !== lastStatus) post({ type: 'status', status });
    lastStatus = json;
  };
  const collection = createCollection(
    config,
    (name, parts, now) => {
      const [copies, buffers] = owned(parts);
      post({ type: 'section', name, parts: copies, now }, buffers);
    },
    { logger, onChange: postStatus },
  );
  let pushed = 0;
  const pushSelf = async () => {
    const rendered = await collection.self.current();
    if (rendered.generation === pushed) return;
    pushed = rendered.generation;
    const [[text, gzip], buffers] = owned([rendered.text, rendered.gzip]);
    post({ type: 'self', text: text!, gzip: gzip! }, buffers);
  };
  const tick = setInterval(() => {
    postStatus();
    pushSelf().catch((err: unknown) => logger.warn({ err }, 'rendering the self-metrics failed'));
  }, SELF_METRICS_MAX_AGE_MS);
  port.on('message', (m: ToWorker) => {
    if (m.type === 'start') return collection.start();
    if (m.type === 'runCycle')
      return void collection.runCycle().then(async (report) => {
        await pushSelf();
        post({ type: 'cycle', id: m.id, report });
      });
    clearInterval(tick);
    void collection.stop().then(() => post({ type: 'stopped', id: m.id }));
  });
  postStatus();
  void pushSelf().then(() =>
    post({ type: 'ready', collectorNames: collection.collectorNames, sections: collection.sections }),
  );
}

if (parentPort !== null) runCollectionThread(parentPort, (workerData as { config: ExporterConfig }).config);
