/**
 * How the server answers what it cannot serve: the same JSON shape for every error, one identical 401 for
 * every failed credential check (counted), and fixed answers for protocol-level errors that never echo the
 * request (which may hold an Authorization header).
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { WWW_AUTHENTICATE } from './auth.js';
import { truncate } from './http-logger.js';

function statusText(status: number): string {
  return (STATUS_CODES[status] ?? 'error').toLowerCase();
}

export function setErrorHandlers(
  app: FastifyInstance,
  opts: { onAuthFailure: () => void; maxLoggedUrlLength: number },
): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 401) {
      opts.onAuthFailure();
      req.log.debug({ remoteAddress: req.socket.remoteAddress }, 'basic auth rejected');
      return reply
        .code(401)
        .header('www-authenticate', WWW_AUTHENTICATE)
        .type('application/json')
        .send({ error: 'unauthorized' });
    }
    if (status >= 500) {
      req.log.error({ err, url: truncate(req.url, opts.maxLoggedUrlLength) }, 'request failed');
    } else {
      req.log.debug({ code: err.code, statusCode: status }, 'request rejected');
    }
    const code = status >= 400 && status <= 599 ? status : 500;
    return reply
      .code(code)
      .type('application/json')
      .send({ error: statusText(code) });
  });
  app.setNotFoundHandler((_req, reply) =>
    reply.code(404).type('application/json').send({ error: 'not found' }),
  );
}

/** Fastify's `frameworkErrors`: a request it could not even parse (a bad URL, say). */
export function frameworkError(log: Logger, err: FastifyError, reply: FastifyReply): void {
  log.debug({ code: err.code }, 'rejected malformed request');
  void reply.code(400).type('application/json').send({ error: 'bad request' });
}

/**
 * Node's `clientError`: protocol-level errors (malformed request, header overflow, timeouts) get a fixed body.
 * Replaces Fastify's default, which logs the error object including Node's `rawPacket`: the raw request
 * bytes, which may hold an Authorization header.
 */
export function clientError(log: Logger, err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  if (err.code === 'HPE_HEADER_OVERFLOW') status = 431;
  else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') status = 408;
  log.debug({ code: err.code, status }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify({ error: statusText(status) });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
