import http from 'node:http';
import https from 'node:https';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { ScrapeBody } from '../../src/metrics/snapshot.js';
import type { HttpDeps } from '../../src/http/deps.js';
import type { Readiness } from '../../src/pipeline/readiness.js';
import type { HttpConfig } from '../../src/config/schema.js';

export const METRICS_TEXT =
  '# HELP sentry_open_issue_events Events of open issues.\n# TYPE sentry_open_issue_events gauge\n' +
  Array.from({ length: 200 }, (_, i) => `sentry_open_issue_events{project="p${i}"} ${i}\n`).join('');
const PLAIN = Buffer.from(METRICS_TEXT);
const GZIPPED = gzipSync(PLAIN);

export interface TestDeps {
  deps: HttpDeps;
  /** Flip to change what /healthz reports. */
  readiness: Readiness;
  authFailures: () => number;
  scrapes: () => number;
  /** Everything the logger wrote so far (pino at level trace). */
  logs: () => string;
}

export function makeDeps(http: Partial<HttpConfig> = {}): TestDeps {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  let failures = 0;
  let scrapes = 0;
  const state: TestDeps = {
    readiness: { ready: false, reason: 'no successful collection yet', collectors: {} },
    authFailures: () => failures,
    scrapes: () => scrapes,
    logs: () => lines.join(''),
    deps: undefined as unknown as HttpDeps,
  };
  state.deps = {
    config: {
      host: '127.0.0.1',
      port: 0,
      basicAuth: { enabled: false, user: '', pass: '' },
      webConfigFile: '',
      ...http,
    },
    logger,
    version: '1.2.3-test',
    org: 'acme',
    sentryUrl: 'https://user:secret@sentry.example.com/api/0/',
    startedAt: Date.now() - 3_725_000,
    async scrape(acceptGzip: boolean) {
      scrapes += 1;
      return acceptGzip ? new ScrapeBody([GZIPPED], true) : new ScrapeBody([PLAIN], false);
    },
    readiness: () => state.readiness,
    status: () => ({
      readiness: state.readiness,
      collectors: [],
      disabled: [],
      requests: { rate: 3, concurrency: 2, total: 0, rateLimited: 0, retries: 0, rateLimits: [] },
      series: {},
    }),
    onAuthFailure: () => {
      failures += 1;
    },
  };
  return state;
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  ca?: string;
  cert?: string;
  key?: string;
}

/** One request on a fresh connection (no agent), so tests never leave pooled sockets behind. */
export function request(url: string, options: RequestOptions = {}): Promise<Response> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      u,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        agent: false,
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.cert ? { cert: options.cert, key: options.key } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export function basic(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}
