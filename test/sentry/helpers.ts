/**
 * Test fixtures for the Sentry client: a real HTTP server on 127.0.0.1 with a per-test handler, a pino
 * logger writing into a buffer, and a client factory with small retry delays.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { RetryConfig } from '../../src/config/schema.js';
import { createSentryClient, type SentryClient, type SentryClientOptions } from '../../src/sentry/client.js';
import type { CallOptions, IssueQuery, SentryApi } from '../../src/sentry/api.js';
import type { SentryIssue } from '../../src/sentry/types.js';

export const TOKEN = 'sntrys_test_token_9f8e7d6c5b4a';

export interface Hit {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Local epoch ms when the request arrived. */
  at: number;
  /** The client's port: one value per TCP connection. */
  remotePort: number | undefined;
}

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  hit: Hit,
  index: number,
) => void | Promise<void>;

export interface TestServer {
  /** API root, ending with `/api/0/`. */
  baseUrl: string;
  hits: Hit[];
  /** Hits on paths that start with the given prefix (after `/api/0`). */
  hitsOn(prefix: string): Hit[];
  close(): Promise<void>;
}

export async function startServer(handler: Handler): Promise<TestServer> {
  const hits: Hit[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const hit: Hit = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      at: Date.now(),
      remotePort: req.socket.remotePort,
    };
    hits.push(hit);
    Promise.resolve(handler(req, res, hit, hits.length - 1)).catch((err: unknown) => {
      res.statusCode = 599;
      res.end(String(err));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/0/`,
    hits,
    hitsOn: (prefix) => hits.filter((h) => h.path.startsWith(`/api/0${prefix}`)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Sentry-style rate-limit headers for a fixed one-second window. */
export function rateLimitHeaders(
  limit: number,
  remaining: number,
  resetEpochSeconds: number,
): Record<string, string> {
  return {
    'x-sentry-rate-limit-limit': String(limit),
    'x-sentry-rate-limit-remaining': String(remaining),
    'x-sentry-rate-limit-reset': String(resetEpochSeconds),
    'x-sentry-rate-limit-concurrentlimit': '25',
    'x-sentry-rate-limit-concurrentremaining': '24',
  };
}

export interface CapturedLogger {
  logger: pino.Logger;
  text(): string;
  lines(): Array<Record<string, unknown>>;
}

/** A pino logger at trace level whose output lands in memory. */
export function captureLogger(): CapturedLogger {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  const logger = pino({ level: 'trace' }, stream);
  return {
    logger,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export const FAST_RETRY: RetryConfig = { tries: 3, delay: 0.02, maxDelay: 0.1, backoff: 2, jitter: 0 };

export function makeClient(
  baseUrl: string,
  overrides: Partial<SentryClientOptions> = {},
): { client: SentryClient; log: CapturedLogger } {
  const log = captureLogger();
  const client = createSentryClient({
    baseUrl,
    token: TOKEN,
    org: 'acme',
    rate: 50,
    concurrency: 5,
    timeout: 2,
    retry: FAST_RETRY,
    logger: log.logger,
    ...overrides,
  });
  return { client, log };
}

/** Rejects with the error a promise rejected with, failing when it resolved. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

/** A Sentry issue as the API sends it (only the fields the client reads, plus a little noise). */
export function issueJson(id: number, projectId = '1', projectSlug = 'web'): Record<string, unknown> {
  return {
    id: String(id),
    shortId: `WEB-${id}`,
    title: `Error ${id}`,
    project: { id: projectId, slug: projectSlug, name: projectSlug, platform: 'node' },
    logger: null,
    level: 'error',
    status: 'unresolved',
    platform: 'node',
    isUnhandled: id % 2 === 0,
    count: String(id * 3),
    firstSeen: '2024-05-01T10:00:00Z',
    lastSeen: '2024-05-02T10:00:00Z',
  };
}

/** A Sentry-style Link header for a page of a cursor-paginated list. */
export function linkHeader(
  url: string,
  prevCursor: string,
  hasPrev: boolean,
  nextCursor: string,
  hasNext: boolean,
): string {
  return (
    `<${url}&cursor=${prevCursor}>; rel="previous"; results="${hasPrev}"; cursor="${prevCursor}", ` +
    `<${url}&cursor=${nextCursor}>; rel="next"; results="${hasNext}"; cursor="${nextCursor}"`
  );
}

/** Every issue of a query, gathered from the pages `forEachIssuePage` hands over. */
export async function listIssues(
  api: Pick<SentryApi, 'forEachIssuePage'>,
  query: IssueQuery,
  opts?: CallOptions,
): Promise<SentryIssue[]> {
  const issues: SentryIssue[] = [];
  await api.forEachIssuePage(query, (page) => void issues.push(...page), opts);
  return issues;
}
