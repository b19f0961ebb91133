/**
 * The Node.js and V8 flags the exporter runs with, for a small, steady footprint (docs/performance.md, "Where
 * the memory goes"). The Docker image and `npm start` give them on the command line; `main.ts` sets those V8
 * can still take at run time when node was started without them.
 * - A young generation of 2 MiB semi-spaces: the exporter's garbage is short-lived page parses, and V8's
 *   default 16 MiB semi-spaces cost resident memory it does not need.
 * - The heap grows by a fifth of its live size before the next full collection, not by up to four times: the
 *   garbage of a cycle (pages of JSON, renderings) would otherwise take its memory far above what it holds,
 *   and the collections this adds are short and mostly concurrent.
 * - WebAssembly stays on V8's baseline compiler: optimizing undici's HTTP parser (llhttp) costs about 20 MB
 *   of memory for a while, and the exporter parses a few hundred answers a minute. This one works only from
 *   the command line: set at run time it comes too late (measured: the same 20 MB at the first request).
 */
export const NODE_FLAGS = [
  '--max-semi-space-size=2',
  '--heap-growing-percent=20',
  '--optimize-for-size',
  '--liftoff-only',
] as const;

/** The flags V8 still takes when set after start (`v8.setFlagsFromString`). */
export const RUNTIME_V8_FLAGS: readonly string[] = ['--heap-growing-percent=20', '--optimize-for-size'];
