/** The messages between the serving thread (thread.ts) and the collection thread (worker.ts). */
import type { CollectionStatus } from './collection.js';
import type { CycleReport } from './scheduler.js';

export type ToWorker = { type: 'start' } | { type: 'runCycle'; id: number } | { type: 'stop'; id: number };

export type FromWorker =
  /** Set up, its self-metrics posted: the collectors (the metadata collector first) and the sections. */
  | { type: 'ready'; collectorNames: readonly string[]; sections: readonly string[] }
  | { type: 'section'; name: string; parts: Uint8Array[]; now: number }
  | { type: 'self'; text: Uint8Array; gzip: Uint8Array }
  /** The collection's status (readiness within), when it may have changed, and each second as ages move. */
  | { type: 'status'; status: CollectionStatus }
  /** A log line as the serving thread's logger would write it (same options): written as it is. */
  | { type: 'log'; line: string }
  | { type: 'cycle'; id: number; report: CycleReport }
  | { type: 'stopped'; id: number };
