/**
 * The collection runs in a worker thread of its own (worker.ts); this side, in the thread that serves
 * HTTP, starts it and keeps what it hands over: each collector's rendered section (into the snapshot), its
 * self-metrics, its readiness state and its log lines. A scrape is served from what was handed over and
 * never waits for the collection thread.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ExporterConfig } from '../config/types.js';
import type { ReceivedRendering } from '../metrics/rendering.js';
import type { Snapshot } from '../metrics/snapshot.js';
import type { FromWorker, ToWorker, WorkerSetup } from './protocol.js';
import { readinessOf } from './readiness.js';
import type { PipelineState, Readiness } from './readiness.js';
import type { CycleReport } from './scheduler.js';

/** What the rest of the exporter (and the tests) see of the pipeline. */
export interface Pipeline {
  /** Runs one cycle now, as if a poll tick had come (see Scheduler.runCycle). */
  runCycle(): Promise<CycleReport>;
  readiness(): Readiness;
  /** The collectors this configuration runs, the metadata collector first. */
  collectorNames(): string[];
}

/** The worker's entry: the compiled module, or under the tests the TypeScript source. */
const ENTRY = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href;
/** A worker does not inherit the tsx loader the tests run with: the source entry registers it first. */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.entry.endsWith('.ts')) (await import('tsx/esm/api')).register();
  await import(workerData.entry);
})();
`;

export interface CollectionThreadOptions {
  config: ExporterConfig;
  /** How far the collected data's clock runs ahead of the wall clock (0 in production). */
  clockOffsetMs: number;
  /** The serving thread's logger: the collection thread's lines are written through it. */
  logger: Logger;
  snapshot: Snapshot;
  /** Where the collection thread's self-metrics go. */
  self: ReceivedRendering;
  /** The collection thread failed (an error it did not handle): the exporter cannot go on. */
  onFailure: (err: Error) => void;
}

export class CollectionThread implements Pipeline {
  private readonly worker: Worker;
  private readonly started: Promise<void>;
  private state: PipelineState | undefined;
  private names: string[] = [];
  private nextId = 0;
  private readonly calls = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (e: Error) => void }
  >();
  private stopping: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(private readonly o: CollectionThreadOptions) {
    const setup: WorkerSetup = { config: o.config, logLevel: o.logger.level, clockOffsetMs: o.clockOffsetMs };
    this.worker = new Worker(BOOTSTRAP, { eval: true, workerData: { entry: ENTRY, ...setup } });
    let started: () => void = () => undefined;
    let failed: (e: Error) => void = () => undefined;
    this.started = new Promise<void>((resolve, reject) => {
      started = resolve;
      failed = reject;
    });
    // Nobody may wait for the start; a failure is reported through onFailure anyway.
    this.started.catch(() => undefined);
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') started();
      this.receive(m);
    });
    this.worker.on('error', (err) => {
      failed(err);
      this.fail(err);
    });
    this.worker.on('exit', (code) => {
      const err = new Error(`the collection thread exited (code ${code})`);
      failed(err);
      if (this.stopping === undefined) this.fail(err);
    });
  }

  private receive(m: FromWorker): void {
    switch (m.type) {
      case 'ready':
        this.names = m.collectors;
        this.state = m.state;
        this.o.snapshot.setOrder(m.sections);
        return;
      case 'section':
        this.o.snapshot.setSection(
          m.name,
          m.parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)),
          m.now,
        );
        return;
      case 'self':
        this.o.self.set(m.text, m.gzip);
        return;
      case 'state':
        this.state = m.state;
        return;
      case 'log':
        this.log(m.line);
        return;
      case 'cycle':
        this.settle(m.id, m.report);
        return;
      case 'stopped':
        this.settle(m.id, undefined);
        return;
    }
  }

  /** Writes one of the collection thread's lines through the serving thread's logger. */
  private log(line: string): void {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const { level, msg, ...fields } = record;
    const label = typeof level === 'number' ? this.o.logger.levels.labels[level] : undefined;
    const write = (this.o.logger as unknown as Record<string, (obj: object, msg?: unknown) => void>)[
      label ?? 'info'
    ];
    write?.call(this.o.logger, fields, msg);
  }

  private settle(id: number, value: unknown): void {
    const call = this.calls.get(id);
    this.calls.delete(id);
    call?.resolve(value);
  }

  private fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    for (const call of this.calls.values()) call.reject(err);
    this.calls.clear();
    this.o.onFailure(err);
  }

  private async call<T>(message: (id: number) => ToWorker): Promise<T> {
    await this.started;
    if (this.failure !== undefined) throw this.failure;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage(message(id));
    });
  }

  /** Resolves once the collection thread is set up and has handed over its self-metrics. */
  ready(): Promise<void> {
    return this.started;
  }

  /** Starts the schedule (the first cycle at once). */
  start(): void {
    void this.started.then(
      () => this.worker.postMessage({ type: 'start' } satisfies ToWorker),
      () => undefined,
    );
  }

  runCycle(): Promise<CycleReport> {
    return this.call<CycleReport>((id) => ({ type: 'runCycle', id }));
  }

  readiness(): Readiness {
    if (this.state === undefined)
      return { ready: false, reason: 'the collection thread is starting', collectors: {} };
    return readinessOf(this.state, Date.now());
  }

  collectorNames(): string[] {
    return [...this.names];
  }

  /** Stops the schedule (running collectors get their shutdown grace), closes Sentry connections, ends the thread. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.failure === undefined) {
        await this.call<void>((id) => ({ type: 'stop', id })).catch(() => undefined);
      }
      await this.worker.terminate();
    })();
    return this.stopping;
  }
}
