import type { CollectContext } from '../../src/collectors/collector.js';
import { SkippedItems } from '../../src/sentry/skipped.js';

/** The context the pipeline gives a collector run: now, no project list, nothing skipped yet. */
export function runContext<Rows = unknown>(over: Partial<CollectContext<Rows>> = {}): CollectContext<Rows> {
  return {
    signal: new AbortController().signal,
    now: Date.now(),
    projects: [],
    skipped: new SkippedItems(),
    ...over,
  };
}
