import { STATUS_CODES } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { Readable } from 'node:stream';
import fastifyBasicAuth from '@fastify/basic-auth';
import Fastify, { LogController } from 'fastify';
import type {
  FastifyBaseLogger,
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
} from 'fastify';
import type { Logger } from 'pino';
import { acceptsGzip } from './accept-encoding.js';
import type { BcryptUsers } from './toolkit/bcrypt-users.js';
import { DEFAULT_CERT_RELOAD_INTERVAL_MS, watchCertificates } from './toolkit/certificate-reloader.js';
import type { HttpDeps } from './deps.js';
import { ConnectionDrain } from './drain.js';
import { createHttpLogger } from './http-logger.js';
import { renderLandingPage } from './landing-page.js';
import type { ServerLimits } from './limits.js';
import { resolveLimits } from './limits.js';
import { StaticCredentials } from './static-credentials.js';
import { clientCertificateRejection, tlsServerOptions } from './toolkit/tls-options.js';
import { TokenBucket } from './toolkit/token-bucket.js';
import type { WebConfig } from './toolkit/web-config.js';
import { readWebConfig } from './toolkit/web-config.js';
import { LiveWebConfig } from './toolkit/web-config-reloader.js';

/** Content type of the Prometheus text exposition format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** Realm sent in `WWW-Authenticate` on every 401. */
export const AUTH_REALM = 'sentry-prometheus-exporter';
const WWW_AUTHENTICATE = `Basic realm="${AUTH_REALM}"`;
/** Paths that never require credentials and are never rate limited (probes must keep working). */
export const HEALTH_PATHS: readonly string[] = ['/healthz', '/livez'];

export interface HttpServerOptions {
  /** Overrides of `DEFAULT_SERVER_LIMITS`. */
  limits?: Partial<ServerLimits>;
  /** How often TLS certificate files are checked for rotation, milliseconds (default 30 000). */
  certReloadIntervalMs?: number;
}

export interface HttpServer {
  /**
   * The Fastify instance (routes registered, not listening yet). Typed with `http.Server` even under TLS,
   * where the raw server is an `https.Server` (a subclass of `tls.Server` with the same request API).
   */
  server: FastifyInstance;
  /** `https` when the web config enables TLS. */
  protocol: 'http' | 'https';
  /** The limits in force. */
  limits: ServerLimits;
  /** The parsed web config file, when `config.webConfigFile` named one. */
  webConfig: WebConfig | undefined;
  /** Starts listening on `config.host`:`config.port`; resolves to the base URL, e.g. `http://127.0.0.1:9790`. */
  listen(): Promise<string>;
  /**
   * Stops accepting, lets responses already being sent reach their clients (up to 1.5 s), closes every other
   * connection (idle, or with a request still arriving) and releases timers.
   */
  close(): Promise<void>;
  /** Counters of the bcrypt verifier (zero when the web config has no `basic_auth_users`). */
  authStats(): { bcryptCompares: number; bcryptCached: number };
}

/** Basic-auth checks in force; either set of credentials is accepted. */
interface Authenticator {
  staticCredentials: StaticCredentials | undefined;
  /** The web config's users, as they are now (the file is followed while the exporter runs). */
  bcryptUsers: () => BcryptUsers | undefined;
}

function buildAuthenticator(deps: HttpDeps, live: LiveWebConfig | undefined): Authenticator {
  const { enabled, user, pass } = deps.config.basicAuth;
  if (enabled && (user === '' || pass === '')) {
    throw new Error(
      'basic auth is enabled (SENTRY_EXPORTER_BASIC_AUTH) but SENTRY_EXPORTER_BASIC_AUTH_USER or _PASS is empty',
    );
  }
  return {
    staticCredentials: enabled ? new StaticCredentials(user, pass) : undefined,
    bcryptUsers: () => live?.users(),
  };
}

/**
 * Builds the exporter's HTTP server: `/metrics` (and `/metrics/`), `/`, `/healthz`, `/livez`, with optional
 * basic auth, TLS and extra headers from an exporter-toolkit web config file, and hardened Node server settings.
 * Throws (before anything listens) when the web config or the auth settings are invalid.
 */
export async function createHttpServer(deps: HttpDeps, options: HttpServerOptions = {}): Promise<HttpServer> {
  const limits = resolveLimits(options.limits);
  const log = createHttpLogger(deps.logger, limits.maxLoggedUrlLength);
  const webFile = deps.config.webConfigFile ? readWebConfig(deps.config.webConfigFile) : undefined;
  const webConfig: WebConfig | undefined = webFile?.config;
  for (const warning of webConfig?.warnings ?? []) log.warn({ file: webConfig?.path }, warning);
  const tls = webConfig?.tls;
  const live = webFile === undefined ? undefined : new LiveWebConfig(webFile, log);
  const auth = buildAuthenticator(deps, live);
  const authRequired = auth.staticCredentials !== undefined || auth.bcryptUsers() !== undefined;
  const limiter = webConfig?.rateLimit
    ? new TokenBucket(webConfig.rateLimit.intervalMs, webConfig.rateLimit.burst)
    : undefined;

  const nodeOptions: http.ServerOptions = {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    connectionsCheckingInterval: limits.connectionsCheckingInterval,
  };
  let nodeServer: http.Server | https.Server | undefined;
  let drain: ConnectionDrain | undefined;

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // Per-request lines come from our own onResponse hook (debug level, no headers).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyLimit,
    return503OnClosing: true,
    // Idle connections close at once; those sending a scrape, when it is out (see ConnectionDrain).
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    trustProxy: false,
    exposeHeadRoutes: true,
    routerOptions: { maxParamLength: 100 },
    serverFactory: (handler) => {
      const server = tls
        ? https.createServer({ ...nodeOptions, ...tlsServerOptions(tls) }, handler)
        : http.createServer(nodeOptions, handler);
      server.setTimeout(limits.connectionTimeout);
      server.keepAliveTimeout = limits.keepAliveTimeout;
      server.headersTimeout = limits.headersTimeout;
      server.requestTimeout = limits.requestTimeout;
      server.maxConnections = limits.maxConnections;
      nodeServer = server;
      drain = new ConnectionDrain(server, Boolean(tls));
      return server as http.Server;
    },
    clientErrorHandler: (err, socket) => clientError(log, err, socket),
    frameworkErrors: (err, _req, reply) => {
      log.debug({ code: err.code }, 'rejected malformed request');
      void (reply as unknown as FastifyReply)
        .code(400)
        .type('application/json')
        .send({ error: 'bad request' });
    },
  });

  if (!nodeServer || !drain) throw new Error('Fastify did not create the HTTP server');
  const rawServer: http.Server | https.Server = nodeServer;
  const connections: ConnectionDrain = drain;
  let lastDropWarning = 0;
  rawServer.on('drop', (data: { remoteAddress?: string } | undefined) => {
    const now = Date.now();
    if (now - lastDropWarning < 60_000) return;
    lastDropWarning = now;
    log.warn(
      { maxConnections: limits.maxConnections, remoteAddress: data?.remoteAddress },
      'connection limit reached; dropping new connections (logged at most once a minute)',
    );
  });
  let stopCertWatch = (): void => undefined;
  if (tls) {
    rawServer.on('secureConnection', (socket: TLSSocket) => {
      const reason = clientCertificateRejection(tls, socket);
      if (reason !== undefined) {
        log.debug({ remoteAddress: socket.remoteAddress, reason }, 'TLS client rejected');
        socket.destroy();
      }
    });
    rawServer.on('tlsClientError', (err: Error & { code?: string }) => {
      log.debug({ code: err.code, message: err.message }, 'TLS handshake failed');
    });
    stopCertWatch = watchCertificates(
      rawServer as https.Server,
      tls,
      options.certReloadIntervalMs ?? DEFAULT_CERT_RELOAD_INTERVAL_MS,
      log,
    );
  }

  await app.register(fastifyBasicAuth, {
    authenticate: false, // WWW-Authenticate is set by the error handler, identical for every failure
    validate: async (user: string, pass: string) => {
      // Static first: it is cheap, and the bcrypt cache makes the second check cheap on repeat scrapes too.
      if (auth.staticCredentials?.matches(user, pass)) return;
      const users = auth.bcryptUsers();
      if (users && (await users.verify(user, pass))) return;
      throw new Error('invalid credentials');
    },
  });

  // Hooks only where they have work to do (a web config file, debug logging): each costs every scrape a
  // promise.
  if (live !== undefined || limiter) {
    app.addHook('onRequest', async (req, reply) => {
      for (const [name, value] of live?.headers() ?? []) void reply.header(name, value);
      if (limiter && !HEALTH_PATHS.includes(routePath(req)) && !limiter.tryTake()) {
        return reply.code(429).type('application/json').send({ error: 'too many requests' });
      }
      return undefined;
    });
  }
  if (log.isLevelEnabled('debug')) {
    app.addHook('onResponse', async (req, reply) => {
      log.debug(
        {
          method: req.method,
          url: truncate(req.url, limits.maxLoggedUrlLength),
          statusCode: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          remoteAddress: req.socket.remoteAddress,
        },
        'request served',
      );
    });
  }

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 401) {
      deps.onAuthFailure();
      req.log.debug({ remoteAddress: req.socket.remoteAddress }, 'basic auth rejected');
      return reply
        .code(401)
        .header('www-authenticate', WWW_AUTHENTICATE)
        .type('application/json')
        .send({ error: 'unauthorized' });
    }
    if (status >= 500) {
      req.log.error({ err, url: truncate(req.url, limits.maxLoggedUrlLength) }, 'request failed');
    } else {
      req.log.debug({ code: err.code, statusCode: status }, 'request rejected');
    }
    const code = status >= 400 && status <= 599 ? status : 500;
    return reply
      .code(code)
      .type('application/json')
      .send({ error: (STATUS_CODES[code] ?? 'error').toLowerCase() });
  });
  app.setNotFoundHandler((_req, reply) =>
    reply.code(404).type('application/json').send({ error: 'not found' }),
  );

  const protect: onRequestHookHandler[] = authRequired ? [app.basicAuth] : [];
  const landingPage = renderLandingPage({ version: deps.version, pollInterval: deps.pollInterval });

  const metricsHeaders = {
    'content-type': METRICS_CONTENT_TYPE,
    vary: 'Accept-Encoding',
    'cache-control': 'no-store',
  };
  const gzipHeaders = { ...metricsHeaders, 'content-encoding': 'gzip' };
  const serveMetrics = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const scraped = await deps.scrape(acceptsGzipCached(req.headers['accept-encoding']));
    void reply.headers(scraped.gzip ? gzipHeaders : metricsHeaders);
    void reply.header('content-length', scraped.length);
    // One buffer is sent as it is; several are streamed rather than copied into one per scrape.
    const [only, ...more] = scraped.chunks;
    return reply.send(only !== undefined && more.length === 0 ? only : Readable.from(scraped.chunks));
  };
  app.get('/metrics', { onRequest: protect }, serveMetrics);
  app.get('/metrics/', { onRequest: protect }, serveMetrics);
  app.get('/', { onRequest: protect }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(landingPage),
  );
  app.get('/healthz', async (_req, reply) => {
    const r = deps.readiness();
    void reply.header('cache-control', 'no-store');
    if (r.ready) {
      return reply
        .code(200)
        .send({ status: 'ok', lastSuccess: r.lastSuccess ?? null, collectors: r.collectors });
    }
    return reply
      .code(503)
      .send({ status: 'unavailable', reason: r.reason ?? 'not ready', collectors: r.collectors });
  });
  app.get('/livez', async (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));

  await app.ready();
  const protocol = tls ? 'https' : 'http';
  let closed = false;

  return {
    server: app,
    protocol,
    limits,
    webConfig,
    async listen() {
      await app.listen({ host: deps.config.host, port: deps.config.port });
      const address = rawServer.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      const url = `${protocol}://${host}:${address.port}`;
      log.info(
        {
          url,
          tls: Boolean(tls),
          clientAuth: tls?.clientAuthType,
          basicAuth: authRequired,
          bcryptUsers: auth.bcryptUsers()?.size ?? 0,
          rateLimit: webConfig?.rateLimit,
        },
        'HTTP server listening',
      );
      return url;
    },
    async close() {
      if (closed) return;
      closed = true;
      stopCertWatch();
      live?.close();
      await connections.close(() => app.close());
    },
    authStats() {
      return {
        bcryptCompares: auth.bcryptUsers()?.compareCount ?? 0,
        bcryptCached: auth.bcryptUsers()?.cachedCount ?? 0,
      };
    },
  };
}

/** `acceptsGzip`, remembered for the last header value: a scraper sends the same one every time. */
let lastAcceptEncoding: { header: string | string[] | undefined; gzip: boolean } = {
  header: undefined,
  gzip: false,
};
function acceptsGzipCached(header: string | string[] | undefined): boolean {
  if (header !== lastAcceptEncoding.header) lastAcceptEncoding = { header, gzip: acceptsGzip(header) };
  return lastAcceptEncoding.gzip;
}

function routePath(req: FastifyRequest): string {
  const q = req.url.indexOf('?');
  return q === -1 ? req.url : req.url.slice(0, q);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * Answers protocol-level errors (malformed request, header overflow, timeouts) with a fixed body. Replaces
 * Fastify's default, which logs the error object including Node's `rawPacket`: the raw request bytes, which
 * may hold an Authorization header.
 */
function clientError(log: Logger, err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  if (err.code === 'HPE_HEADER_OVERFLOW') status = 431;
  else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') status = 408;
  log.debug({ code: err.code, status }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify({ error: (STATUS_CODES[status] ?? 'error').toLowerCase() });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
