import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { buildAuthenticator, registerBasicAuth } from './auth.js';
import { DEFAULT_CERT_RELOAD_INTERVAL_MS, watchCertificates } from './toolkit/certificate-reloader.js';
import type { HttpDeps } from './deps.js';
import { ConnectionDrain } from './drain.js';
import { clientError, frameworkError, setErrorHandlers } from './errors.js';
import { createHttpLogger, requestLoggerFactory, truncate } from './http-logger.js';
import type { ServerLimits } from './limits.js';
import { resolveLimits } from './limits.js';
import { HEALTH_PATHS, healthRoutes } from './routes/health.js';
import { landingRoutes } from './routes/landing.js';
import { metricsRoutes } from './routes/metrics.js';
import { clientCertificateRejection, tlsServerOptions } from './toolkit/tls-options.js';
import { TokenBucket } from './toolkit/token-bucket.js';
import type { WebConfig } from './toolkit/web-config.js';
import { readWebConfig } from './toolkit/web-config.js';
import { LiveWebConfig } from './toolkit/web-config-reloader.js';

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
  const auth = buildAuthenticator(deps.config.basicAuth, () => live?.users());
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
    // Each request's logger becomes a pino child only when it writes a line.
    childLoggerFactory: requestLoggerFactory(log),
    bodyLimit: limits.bodyLimit,
    return503OnClosing: true,
    // Idle connections close at once; those sending a scrape, when it is out (see ConnectionDrain).
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    trustProxy: false,
    exposeHeadRoutes: true,
    routerOptions: { maxParamLength: 100 },
    serverFactory: (handler) => {
      // Fastify's handler, after the drain has seen the request: one request listener, not two.
      const serve = (req: http.IncomingMessage, res: http.ServerResponse): void => {
        drain?.request(req, res);
        handler(req, res);
      };
      const server = tls
        ? https.createServer({ ...nodeOptions, ...tlsServerOptions(tls) }, serve)
        : http.createServer(nodeOptions, serve);
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
    frameworkErrors: (err, _req, reply) => frameworkError(log, err, reply as unknown as FastifyReply),
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

  const protect = await registerBasicAuth(app, auth);
  addToolkitHooks(app, live, limiter);
  if (log.isLevelEnabled('debug')) addRequestLog(app, log, limits.maxLoggedUrlLength);
  setErrorHandlers(app, { onAuthFailure: deps.onAuthFailure, maxLoggedUrlLength: limits.maxLoggedUrlLength });
  await app.register(metricsRoutes, { scrape: deps.scrape, protect, hookHeaders: live !== undefined });
  await app.register(landingRoutes, {
    version: deps.version,
    org: deps.org,
    sentryUrl: deps.sentryUrl,
    startedAt: deps.startedAt,
    status: deps.status,
    protect,
  });
  await app.register(healthRoutes, { readiness: deps.readiness, auth });

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
          basicAuth: auth.required,
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

/**
 * The web config file's response headers on every answer, and its rate limit on all but the health
 * endpoints. Added only when there is a web config file. Callback-style hooks: no promise per request.
 */
function addToolkitHooks(
  app: FastifyInstance,
  live: LiveWebConfig | undefined,
  limiter: TokenBucket | undefined,
): void {
  if (live === undefined && limiter === undefined) return;
  app.addHook('onRequest', (req, reply, done) => {
    for (const [name, value] of live?.headers() ?? []) void reply.header(name, value);
    if (limiter && !HEALTH_PATHS.includes(routePath(req)) && !limiter.tryTake()) {
      // Answered here: the request goes no further (done is not called).
      void reply.code(429).type('application/json').send({ error: 'too many requests' });
      return;
    }
    done();
  });
}

/** One debug line per request (no headers), only when debug logging is on. */
function addRequestLog(app: FastifyInstance, log: Logger, maxUrlLength: number): void {
  app.addHook('onResponse', (req, reply, done) => {
    log.debug(
      {
        method: req.method,
        url: truncate(req.url, maxUrlLength),
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        remoteAddress: req.socket.remoteAddress,
      },
      'request served',
    );
    done();
  });
}

function routePath(req: FastifyRequest): string {
  const q = req.url.indexOf('?');
  return q === -1 ? req.url : req.url.slice(0, q);
}
