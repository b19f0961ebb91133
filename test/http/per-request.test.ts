/**
 * What a /metrics scrape costs the serving thread beyond writing its bytes, counted rather than timed: the
 * promises made while scrapes are served (an async handler, hook or look-up makes at least one a request)
 * and the Fastify hooks on the route. The exposition comes from the real Snapshot with the serving metrics.
 */
import assert from 'node:assert/strict';
import { createHook, executionAsyncId } from 'node:async_hooks';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import bcrypt from 'bcryptjs';
import pino from 'pino';
import { createHttpServer } from '../../src/http/server.js';
import type { HttpServer } from '../../src/http/server.js';
import { ReceivedRendering } from '../../src/metrics/rendering.js';
import { ServingMetrics } from '../../src/metrics/serving-metrics.js';
import { Snapshot } from '../../src/metrics/snapshot.js';
import { basic, makeDeps, METRICS_TEXT } from './helpers.js';

const SCRAPES = 200;

/** A server as the exporter runs it (logger at info), serving the real snapshot. */
async function exporterLike(
  http: Parameters<typeof makeDeps>[0] = {},
): Promise<{ srv: HttpServer; port: number; close(): Promise<void> }> {
  const t = makeDeps(http);
  // The serving metrics are not rendered again during the test (a rendering is a change, made once a second).
  const serving = new ServingMetrics({ maxAgeMs: 3_600_000 });
  const snapshot = new Snapshot([new ReceivedRendering(), serving]);
  snapshot.setSection('issues', [gzipSync(METRICS_TEXT)], Date.now());
  t.deps.logger = pino({ level: 'info' }, { write: () => undefined });
  t.deps.scrape = (gzip) => snapshot.scrape(gzip);
  const srv = await createHttpServer(t.deps);
  const url = await srv.listen();
  return {
    srv,
    port: Number(new URL(url).port),
    async close() {
      await srv.close();
      serving.close();
    },
  };
}

/**
 * `count` requests one after the other on one keep-alive connection, written and read with callbacks only
 * (the client makes no promise but the one it returns). Resolves with the status of each.
 */
function scrapeInSequence(port: number, request: string, count: number, head: boolean): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const statuses: number[] = [];
    let pending = Buffer.alloc(0);
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) return;
        const headers = pending.subarray(0, end).toString('latin1');
        const length = head ? 0 : Number(/\r\ncontent-length: (\d+)/i.exec(headers)?.[1] ?? NaN);
        if (pending.length < end + 4 + length) return;
        statuses.push(Number(headers.slice(9, 12)));
        pending = pending.subarray(end + 4 + length);
        if (statuses.length === count) {
          socket.end();
          resolve(statuses);
          return;
        }
        socket.write(request);
      }
    });
  });
}

/**
 * The promises the server makes while `run` runs: async_hooks PROMISE resources created in the context of
 * an HTTP connection's request handling (HTTPINCOMINGMESSAGE, the server side's resource) or of anything
 * that began there. Other work in the process (the test runner, the TypeScript loader) is not counted.
 */
async function serverPromisesDuring(run: () => Promise<unknown>): Promise<number> {
  const serving = new Set<number>();
  let promises = 0;
  const hook = createHook({
    init(id, type, trigger) {
      if (type === 'HTTPINCOMINGMESSAGE' || serving.has(trigger) || serving.has(executionAsyncId())) {
        serving.add(id);
        if (type === 'PROMISE') promises++;
      }
    },
  });
  hook.enable();
  try {
    await run();
  } finally {
    hook.disable();
  }
  return promises;
}

const cases = [
  { what: 'GET /metrics, gzip', method: 'GET', path: '/metrics', headers: 'Accept-Encoding: gzip\r\n' },
  { what: 'GET /metrics/, plain', method: 'GET', path: '/metrics/', headers: '' },
  { what: 'HEAD /metrics, gzip', method: 'HEAD', path: '/metrics', headers: 'Accept-Encoding: gzip\r\n' },
];

const webConfigDir = mkdtempSync(join(tmpdir(), 'spe-per-request-'));
after(() => rmSync(webConfigDir, { recursive: true, force: true }));
const webConfigFile = join(webConfigDir, 'web.yml');
writeFileSync(
  webConfigFile,
  'http_server_config:\n  headers:\n    X-Frame-Options: deny\n' +
    `basic_auth_users:\n  alice: '${bcrypt.hashSync('alice-pw', 4)}'\n`,
);

const configurations: Array<{ what: string; http: Parameters<typeof makeDeps>[0]; authorization: string }> = [
  { what: 'no credentials', http: {}, authorization: '' },
  {
    what: 'basic auth from the environment',
    http: { basicAuth: { enabled: true, user: 'prometheus', pass: 'secret' } },
    authorization: basic('prometheus', 'secret'),
  },
  {
    what: "a web config's headers and bcrypt user (verified by the first scrape, then remembered)",
    http: { webConfigFile },
    authorization: basic('alice', 'alice-pw'),
  },
];

for (const config of configurations) {
  test(`a scrape makes no promise, ${config.what}: none in ${SCRAPES} scrapes of each kind`, async () => {
    const server = await exporterLike(config.http);
    const credentials = config.authorization === '' ? '' : `Authorization: ${config.authorization}\r\n`;
    try {
      for (const c of cases) {
        const request = `${c.method} ${c.path} HTTP/1.1\r\nHost: localhost\r\n${c.headers}${credentials}\r\n`;
        // The first scrape builds the body of its encoding (a few promises, once per change).
        await scrapeInSequence(server.port, request, 1, c.method === 'HEAD');
        let statuses: number[] = [];
        const promises = await serverPromisesDuring(async () => {
          statuses = await scrapeInSequence(server.port, request, SCRAPES, c.method === 'HEAD');
        });
        assert.deepEqual(new Set(statuses), new Set([200]), c.what);
        assert.equal(promises, 0, `${c.what}: promises made serving ${SCRAPES} scrapes`);
      }
    } finally {
      await server.close();
    }
  });
}

test('no Fastify hook runs on /metrics unless basic auth asks for one (onRequest: the credential check)', async () => {
  const hookLines = (srv: HttpServer) =>
    srv.server
      .printRoutes({ method: 'GET', includeHooks: true, commonPrefix: false })
      .split('\n')
      .filter((line) => line.includes('•'))
      .map((line) => line.replace(/^[\s│]*/, ''));
  const plain = await exporterLike();
  try {
    assert.deepEqual(hookLines(plain.srv), [], 'no hook on any GET route');
  } finally {
    await plain.close();
  }
  const protectedServer = await exporterLike({ basicAuth: { enabled: true, user: 'u', pass: 'p' } });
  try {
    // `/`, `/metrics` and `/metrics/`: the credential check, and nothing else.
    assert.deepEqual(hookLines(protectedServer.srv), Array(3).fill('• (onRequest) ["basicAuth()"]'));
  } finally {
    await protectedServer.close();
  }
});
