import type { FastifyBaseLogger } from 'fastify';
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

type LevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * The logger of one request (`request.log`, `reply.log`), made a pino child only when a line is written at an
 * enabled level. Fastify builds one per request; a pino child costs its bindings serialized through the
 * redaction rules, a dozen microseconds on every scrape for lines that are almost never written.
 */
class RequestLogger {
  #child: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: pino.Bindings,
    private readonly options: pino.ChildLoggerOptions,
  ) {}

  private logger(): Logger {
    return (this.#child ??= this.parent.child(this.bindings, this.options));
  }

  private write(level: LevelName, args: unknown[]): void {
    const logger = this.#child ?? (this.options.level === undefined ? this.parent : this.logger());
    if (!logger.isLevelEnabled(level)) return;
    const child = this.logger();
    (child[level] as (...a: unknown[]) => void).apply(child, args);
  }

  get level(): string {
    return this.#child?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger().level = level;
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: pino.Bindings, options?: pino.ChildLoggerOptions): Logger {
    return this.logger().child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: request loggers that become pino children only when they write. */
export function requestLoggerFactory(
  parent: Logger,
): (logger: unknown, bindings: pino.Bindings, options: pino.ChildLoggerOptions) => FastifyBaseLogger {
  return (_logger, bindings, options) =>
    new RequestLogger(parent, bindings, options) as unknown as FastifyBaseLogger;
}
