import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startSimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { delay, selfValue } from './helpers.js';

const USER = 'scraper';
const PASS = 'hostile-test-pw-7Q2';
const GOOD_AUTH = `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`;
const GARBAGE = Number(process.env.HOSTILE_N ?? 10_000);
const CONCURRENCY = 64;
const SLOWLORIS = 150;

/** The garbage kinds, each a request head (or raw bytes); `unauthorized` ones must be answered 401. */
type Kind = 'path' | 'huge' | 'malformedAuth' | 'wrongCredentials' | 'noAuth' | 'bytes';
const KINDS: Kind[] = ['path', 'huge', 'malformedAuth', 'wrongCredentials', 'noAuth', 'bytes'];
const MALFORMED_AUTH = [
  'Basic',
  'Basic !!!not-base64!!!',
  `Basic ${Buffer.from('no-colon').toString('base64')}`,
  `Bearer ${GOOD_AUTH}`,
  `Basic ${'A'.repeat(4000)}`,
  `basic  ${Buffer.from(`${USER}:`).toString('base64')}`,
  `Basic ${Buffer.from(`:${PASS}`).toString('base64')}`,
  `Basic ${Buffer.from(`${USER}:${PASS}\u0000`).toString('base64')}`,
];

function garbage(i: number): { kind: Kind; payload: Buffer } {
  const kind = KINDS[i % KINDS.length]!;
  const head = (path: string, headers: string[] = []) =>
    Buffer.from(
      [`GET ${path} HTTP/1.1`, 'Host: x', 'Connection: close', ...headers, '', ''].join('\r\n'),
      'latin1',
    );
  switch (kind) {
    case 'path':
      return {
        kind,
        payload: head(`/${randomBytes(1 + (i % 40)).toString('base64url')}/${'..%2f'.repeat(i % 5)}?q=${i}`),
      };
    case 'huge':
      return { kind, payload: head('/metrics', [`X-Huge: ${'h'.repeat(20_000 + (i % 7) * 1000)}`]) };
    case 'malformedAuth':
      return {
        kind,
        payload: head(i % 2 ? '/metrics' : '/', [
          `Authorization: ${MALFORMED_AUTH[i % MALFORMED_AUTH.length]!}`,
        ]),
      };
    case 'wrongCredentials': {
      const creds =
        i % 3 === 0
          ? `${USER}:${PASS}x`
          : i % 3 === 1
            ? `other:${PASS}`
            : `${USER}:${randomBytes(8).toString('hex')}`;
      return {
        kind,
        payload: head('/metrics', [`Authorization: Basic ${Buffer.from(creds).toString('base64')}`]),
      };
    }
    case 'noAuth':
      return { kind, payload: head(i % 2 ? '/metrics/' : '/') };
    case 'bytes':
      return { kind, payload: randomBytes(1 + (i % 512)) };
  }
}

/** Sends raw bytes on a fresh connection; resolves with the status code (0: closed without an answer). */
function send(port: number, payload: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const guard = setTimeout(() => socket.destroy(), 15_000);
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    socket.on('error', () => undefined); // a reset is a valid way to be refused
    socket.on('close', () => {
      clearTimeout(guard);
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0));
    });
    socket.end(payload);
  });
}

/** Opens a connection, sends half a request head and goes silent; resolves when the server drops it. */
function slowloris(port: number): { dropped: Promise<number>; destroy: () => void } {
  const socket = net.connect(port, '127.0.0.1');
  const opened = Date.now();
  socket.on('error', () => undefined);
  // Reading is what lets 'close' fire once the server ends the connection (a paused socket never sees the FIN).
  socket.resume();
  socket.write(`GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: ${GOOD_AUTH.slice(0, 10)}`);
  return {
    dropped: new Promise((resolve) => socket.on('close', () => resolve(Date.now() - opened))),
    destroy: () => socket.destroy(),
  };
}

/**
 * 10,000 hostile requests (random paths, oversized heads, malformed and wrong credentials, random bytes) plus
 * slowloris connections against the exporter with basic auth: a well-behaved scraper keeps getting 200
 * throughout, every wrong credential is refused and counted, slow clients are dropped by the server, the
 * heap returns to its baseline, and the process is unharmed.
 */
test('10,000 garbage requests and slowloris clients: the scraper never fails, memory returns to baseline', async (t) => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const sim = await startSimulator({
    seed: 27,
    projects: 20,
    environmentsPerProject: 2,
    issuesPerProject: 40,
  });
  const { exporter } = await startExporterAgainst(sim, {
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_API_RATE: '40',
    SENTRY_EXPORTER_BASIC_AUTH: 'True',
    SENTRY_EXPORTER_BASIC_AUTH_USER: USER,
    SENTRY_EXPORTER_BASIC_AUTH_PASS: PASS,
  });
  const port = Number(new URL(exporter.url).port);
  const slow: Array<ReturnType<typeof slowloris>> = [];
  let scraping = true;
  try {
    await exporter.collection.runCycle();
    const expectedBody = (
      await (await fetch(`${exporter.url}/metrics`, { headers: { authorization: GOOD_AUTH } })).text()
    ).length;
    assert.ok(expectedBody > 10_000, `the exposition is over 10,000 bytes (${expectedBody})`);
    const warm = async () => {
      for (let i = 0; i < 200; i++) await send(port, garbage(i).payload);
    };
    await warm();
    gc();
    const baseline = process.memoryUsage();
    const authFailuresBefore = (await selfValue(exporter, 'sentry_exporter_auth_failures_total')) ?? 0;

    // The well-behaved scraper: one scrape every 50 ms, over keep-alive, for the whole attack.
    let scrapes = 0;
    const scraperFailures: string[] = [];
    const scraper = (async () => {
      while (scraping) {
        try {
          const res = await fetch(`${exporter.url}/metrics`, {
            headers: { authorization: GOOD_AUTH },
            signal: AbortSignal.timeout(5000),
          });
          const body = await res.text();
          if (res.status !== 200 || !body.includes('sentry_issues_bucket'))
            scraperFailures.push(`status ${res.status}`);
          scrapes++;
        } catch (err) {
          scraperFailures.push(String(err));
        }
        await delay(50);
      }
    })();

    for (let i = 0; i < SLOWLORIS; i++) slow.push(slowloris(port));
    const started = Date.now();
    const statuses = new Map<string, number>();
    let unauthorizedSent = 0;
    let unauthorized401 = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < GARBAGE) {
          const { kind, payload } = garbage(next++);
          const status = await send(port, payload);
          statuses.set(`${kind} ${status}`, (statuses.get(`${kind} ${status}`) ?? 0) + 1);
          if (kind === 'malformedAuth' || kind === 'wrongCredentials' || kind === 'noAuth') {
            unauthorizedSent++;
            if (status === 401) unauthorized401++;
          }
          if (kind === 'wrongCredentials' || kind === 'malformedAuth') {
            assert.notEqual(status, 200, `${kind} got through`);
          }
        }
      }),
    );
    const attackMs = Date.now() - started;
    // Slow clients are dropped by the server (headersTimeout 10 s), not by us.
    const dropped = await Promise.all(slow.map((s) => s.dropped));
    scraping = false;
    await scraper;

    assert.deepEqual(scraperFailures, [], `the scraper failed ${scraperFailures.length} of ${scrapes} times`);
    assert.ok(scrapes >= 50, `${scrapes} scrapes during the attack`);
    assert.equal(
      unauthorized401,
      unauthorizedSent,
      'every request with missing, malformed or wrong credentials got 401',
    );
    for (const [key, n] of statuses) {
      const [kind, status] = key.split(' ');
      if (kind === 'huge')
        assert.ok(status === '431' || status === '0', `oversized head answered ${status} (${n}x)`);
      if (kind === 'path')
        assert.ok(status === '404' || status === '401' || status === '400', `random path answered ${status}`);
      if (kind === 'bytes')
        assert.ok(
          status === '400' || status === '0' || status === '401' || status === '404',
          `random bytes answered ${status}`,
        );
    }
    const authFailures =
      ((await selfValue(exporter, 'sentry_exporter_auth_failures_total')) ?? 0) - authFailuresBefore;
    const all401 = [...statuses].filter(([k]) => k.endsWith(' 401')).reduce((s, [, n]) => s + n, 0);
    assert.equal(authFailures, all401, 'every 401 is counted in sentry_exporter_auth_failures_total');
    assert.ok(
      Math.max(...dropped) < 14_000,
      `slowloris connections dropped after ${Math.min(...dropped)}–${Math.max(...dropped)} ms`,
    );

    await warm();
    gc();
    await delay(100);
    gc();
    const after = process.memoryUsage();
    const heapGrowthMb = (after.heapUsed - baseline.heapUsed) / 1024 / 1024;
    assert.ok(heapGrowthMb < 8, `heapUsed grew by ${heapGrowthMb.toFixed(1)} MB`);
    const health = await fetch(`${exporter.url}/livez`);
    assert.equal(health.status, 200);
    t.diagnostic(
      `${GARBAGE} garbage requests in ${attackMs} ms (${Math.round(GARBAGE / (attackMs / 1000))}/s) + ${SLOWLORIS} slowloris; ` +
        `scraper: ${scrapes} scrapes, ${scraperFailures.length} failures; auth failures counted: ${authFailures}; ` +
        `slowloris dropped after ${Math.min(...dropped)}–${Math.max(...dropped)} ms; ` +
        `heapUsed ${(baseline.heapUsed / 1048576).toFixed(1)} -> ${(after.heapUsed / 1048576).toFixed(1)} MB, ` +
        `rss ${(baseline.rss / 1048576).toFixed(0)} -> ${(after.rss / 1048576).toFixed(0)} MB; answers: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );
  } finally {
    scraping = false;
    for (const s of slow) s.destroy();
    await exporter.stop();
    await sim.close();
  }
});
