import { part } from './base.mjs';

/**
 * The metrics rendering: the text format writer and the renderer of a collector's section into gzip
 * members, measured by test/metrics/. The self-metrics and their cached rendering (self-metrics.ts,
 * serving-metrics.ts, rendering.ts) and the snapshot that serves the sections are plumbing, not rendering.
 */
export default part('metrics', {
  mutate: ['src/metrics/exposition.ts', 'src/metrics/section-renderer.ts'],
  testFiles: [
    'test/metrics/exposition.test.ts',
    'test/metrics/snapshot.test.ts',
    'test/metrics/families.test.ts',
  ],
});
