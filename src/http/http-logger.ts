import type { Logger } from 'pino';
import pino from 'pino';

interface RequestLike {
  method?: string;
  url?: string;
  ip?: string;
  socket?: { remoteAddress?: string };
}

function truncate(text: string | undefined, max: number): string | undefined {
  if (text === undefined || text.length <= max) return text;
  return `${text.slice(0, max)}…(${text.length} chars)`;
}

/**
 * A child of the exporter's logger for the HTTP server. Fastify's own serializers are replaced so that no
 * request header (Authorization above all) can reach a log line, URLs are cut to a sane length, and errors
 * lose Node's `rawPacket` (the raw bytes of a malformed request, which may contain credentials). The
 * redaction paths catch headers that some future log call might pass explicitly.
 */
export function createHttpLogger(logger: Logger, maxUrlLength: number): Logger {
  return logger.child(
    { component: 'http' },
    {
      serializers: {
        req: (req: RequestLike) => ({
          method: req.method,
          url: truncate(req.url, maxUrlLength),
          remoteAddress: req.ip ?? req.socket?.remoteAddress,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: (err: Error & { rawPacket?: unknown; headers?: unknown }) => {
          const serialized = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
          delete serialized['rawPacket'];
          delete serialized['headers'];
          return serialized;
        },
      },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["proxy-authorization"]',
          'req.headers.cookie',
          'headers.authorization',
          'headers["proxy-authorization"]',
          'headers.cookie',
          'authorization',
          'password',
          'pass',
        ],
        censor: '[redacted]',
      },
    },
  );
}
