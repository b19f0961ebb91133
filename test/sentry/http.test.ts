/**
 * The HTTP transport (src/sentry/http.ts) against loopback servers: what each kind of failure is called and
 * says (refused connection, no answer in time, aborted before or while asking), and that it keeps as many
 * connections open as configured.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { HttpTransport, TransportError } from '../../src/sentry/http.js';

const servers: Server[] = [];
const transports: HttpTransport[] = [];
after(async () => {
  await Promise.all(transports.map((t) => t.destroy()));
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<URL> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/0/`);
}

function transport(timeout = 5, connections = 2): HttpTransport {
  const t = new HttpTransport({ timeout, connections, userAgent: 'test' });
  transports.push(t);
  return t;
}

async function failure(p: Promise<unknown>): Promise<TransportError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TransportError, String(err));
    return err;
  }
  assert.fail('expected a TransportError');
}

test('a GET with its answer and how long it took', async () => {
  const methods: string[] = [];
  const url = await listen((req, res) => {
    methods.push(req.method ?? '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('[]');
  });
  const res = await transport().get(url, 'tok');
  assert.deepEqual([res.status, res.body], [200, '[]']);
  assert.deepEqual(methods, ['GET']);
  assert.ok(res.durationMs >= 0 && res.durationMs < 5000, String(res.durationMs));
});

test('a refused connection is a network error naming the cause', async () => {
  const url = await listen(() => {});
  const port = url.port;
  const server = servers.pop()!;
  await new Promise((resolve) => server.close(resolve));
  const err = await failure(transport().get(url, 'tok'));
  assert.equal(err.name, 'TransportError');
  assert.equal(err.kind, 'network');
  assert.equal(err.message, `connection failed (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port})`);
  assert.equal((err.cause as { code?: string }).code, 'ECONNREFUSED');
});

test('no answer within the timeout is a timeout error naming the time', async () => {
  const url = await listen(() => {}); // never answers
  const err = await failure(transport(0.2).get(url, 'tok'));
  assert.equal(err.kind, 'timeout');
  assert.equal(err.message, 'no complete answer within 0.2s');
  assert.ok(err.cause !== undefined, 'the timeout error keeps its cause');
});

test('aborted before it was sent, or while waiting for the answer', async () => {
  let arrived = 0;
  const caller = new AbortController();
  const url = await listen(() => {
    arrived++;
    caller.abort(new Error('run abandoned'));
  });
  const before = new AbortController();
  before.abort();
  const early = await failure(transport().get(url, 'tok', before.signal));
  assert.deepEqual(
    [early.kind, early.message, early.durationMs],
    ['aborted', 'request aborted before it was sent', 0],
  );
  assert.equal(arrived, 0);

  const late = await failure(transport().get(url, 'tok', caller.signal));
  assert.deepEqual([late.kind, late.message], ['aborted', 'request aborted']);
  assert.ok(late.cause !== undefined, 'the abort error keeps its cause');
  assert.equal(arrived, 1);
});

test('two requests at once use two connections when two are allowed', async () => {
  const held: ServerResponse[] = [];
  const ports = new Set<number | undefined>();
  const url = await listen((req, res) => {
    ports.add(req.socket.remotePort);
    held.push(res);
    // Both answered only once both are under way: with a single connection the second would never arrive.
    if (held.length === 2) for (const r of held) r.end('[]');
  });
  const t = transport(2, 2);
  const answers = await Promise.all([t.get(url, 'tok'), t.get(url, 'tok')]);
  assert.deepEqual(
    answers.map((a) => a.body),
    ['[]', '[]'],
  );
  assert.equal(ports.size, 2);
});
