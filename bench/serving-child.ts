/**
 * The serving thread of a built exporter without its collection thread, for bench/serving.ts: the build's
 * Snapshot (one section of the given bytes, the serving metrics after it) served by its createHttpServer,
 * logger at warn as in the benchmarks. It exits when the benchmark disconnects.
 *
 *   argv: <build directory (e.g. dist)> <body file>
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Server from '../src/http/server.js';
import type * as Log from '../src/log.js';
import type * as Rendering from '../src/metrics/rendering.js';
import type * as ServingMetricsModule from '../src/metrics/serving-metrics.js';
import type * as SnapshotModule from '../src/metrics/snapshot.js';

const [build = 'dist', bodyFile = ''] = process.argv.slice(2);
const load = async <T>(module: string): Promise<T> =>
  (await import(pathToFileURL(resolve(join(build, 'src', module))).href)) as T;
const { createHttpServer } = await load<typeof Server>('http/server.js');
const { Snapshot } = await load<typeof SnapshotModule>('metrics/snapshot.js');
const { ServingMetrics } = await load<typeof ServingMetricsModule>('metrics/serving-metrics.js');
const { ReceivedRendering } = await load<typeof Rendering>('metrics/rendering.js');
const { createLogger } = await load<typeof Log>('log.js');

const serving = new ServingMetrics();
const snapshot = new Snapshot([new ReceivedRendering(), serving]);
snapshot.setSection('issues', [readFileSync(bodyFile)], Date.now());
const http = await createHttpServer({
  config: {
    host: '127.0.0.1',
    port: 0,
    basicAuth: { enabled: false, user: '', pass: '' },
    webConfigFile: '',
  },
  logger: createLogger({ level: 'warn' }),
  version: 'bench',
  org: 'bench',
  sentryUrl: 'http://127.0.0.1/api/0/',
  startedAt: Date.now(),
  scrape: (gzip) => snapshot.scrape(gzip),
  readiness: () => ({ ready: true, reason: '', collectors: {} }),
  status: () => ({
    readiness: { ready: true, collectors: {} },
    collectors: [],
    disabled: [],
    requests: { rate: 3, concurrency: 2, total: 0, rateLimited: 0, retries: 0, rateLimits: [] },
    series: {},
  }),
  onAuthFailure: () => serving.authFailed(),
});
const url = await http.listen();
process.send?.({ port: Number(new URL(url).port) });
process.on('disconnect', () => {
  void http.close().then(() => serving.close());
});
