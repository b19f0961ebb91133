/** The messages between the thread that serves HTTP and the collection thread (see thread.ts). */
import type { ExporterConfig } from '../config/types.js';
import type { PipelineState } from './readiness.js';
import type { CycleReport } from './scheduler.js';

/** What the collection thread is started with. */
export interface WorkerSetup {
  config: ExporterConfig;
  /** The level of the serving thread's logger: the collection thread logs at the same level. */
  logLevel: string;
  /** How far the collected data's clock runs ahead of the wall clock (0 in production). */
  clockOffsetMs: number;
}

export type ToWorker = { type: 'start' } | { type: 'runCycle'; id: number } | { type: 'stop'; id: number };

export type FromWorker =
  /** Set up: the collectors (the metadata collector first) and the sections in exposition order. */
  | { type: 'ready'; collectors: string[]; sections: string[]; state: PipelineState }
  /** A collector's section, one gzip member per family. */
  | { type: 'section'; name: string; parts: Uint8Array[]; now: number }
  /** The collection thread's self-metrics, rendered. */
  | { type: 'self'; text: Uint8Array; gzip: Uint8Array }
  | { type: 'state'; state: PipelineState }
  /** One log line (pino JSON, without time, pid and hostname: the serving thread's logger adds them). */
  | { type: 'log'; line: string }
  | { type: 'cycle'; id: number; report: CycleReport }
  | { type: 'stopped'; id: number };

/** The bytes of a buffer in a transferable array of their own (a Buffer may share a pooled one). */
export function own(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
