import pino from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';

/**
 * Redaction is configured once, here: whatever a module logs, these paths never reach the output.
 * Modules log structured objects with stable keys; none of them builds a log line from a secret.
 */
export const REDACT_PATHS: readonly string[] = [
  'token',
  'authorization',
  'password',
  'pass',
  '*.token',
  '*.authorization',
  '*.password',
  '*.pass',
  'headers.authorization',
  'headers["proxy-authorization"]',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'request.headers.authorization',
  'config.sentry.token',
  'config.http.basicAuth.pass',
];

/** What a redacted value is written as. */
export const REDACT_CENSOR = '[redacted]';

export interface LoggerSettings {
  level: LoggerOptions['level'];
  /** Human-readable output (the demo); JSON otherwise. */
  pretty?: boolean;
  /** Where to write (tests capture output); stdout by default. */
  destination?: DestinationStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { service: 'sentry-prometheus-exporter' },
    redact: { paths: [...REDACT_PATHS], censor: REDACT_CENSOR },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (settings.destination) return pino(options, settings.destination);
  if (settings.pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname,service' } },
    });
  }
  return pino(options);
}

/**
 * Where a logger writes: lines written by a logger of the same options in another thread (the collection
 * thread's) go to the same place, formatted alike, without being parsed again.
 */
export function destinationOf(logger: Logger): DestinationStream {
  const stream = (logger as unknown as Record<symbol, DestinationStream | undefined>)[pino.symbols.streamSym];
  if (stream === undefined) throw new Error('a pino logger without a destination stream');
  return stream;
}
