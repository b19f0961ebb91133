import type { Logger } from 'pino';
import pino from 'pino';
import { REDACT_CENSOR, REDACT_PATHS } from '../log.js';

interface RequestLike {
  method?: string;
  url?: string;
  ip?: string;
  socket?: { remoteAddress?: string };
}

/** A URL (or other text from a request) cut to `max` characters for a log line, saying how long it was. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`;
}

/**
 * A child of the exporter's logger for the HTTP server. Fastify's own serializers are replaced so that no
 * request header (Authorization above all) can reach a log line, URLs are cut to a sane length, and errors
 * lose Node's `rawPacket` (the raw bytes of a malformed request, which may contain credentials). The
 * exporter's one redaction list (log.ts) catches headers that some future log call might pass explicitly.
 */
export function createHttpLogger(logger: Logger, maxUrlLength: number): Logger {
  return logger.child(
    { component: 'http' },
    {
      serializers: {
        req: (req: RequestLike) => ({
          method: req.method,
          url: req.url === undefined ? undefined : truncate(req.url, maxUrlLength),
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
      redact: { paths: [...REDACT_PATHS], censor: REDACT_CENSOR },
    },
  );
}
