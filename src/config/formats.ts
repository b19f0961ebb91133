import { parseGoDuration } from './duration.js';

/**
 * How a setting's value is read and checked. A value comes from the environment as a string, or from a
 * settings file as whatever YAML or JSON gave (a number, a list, a string): `read` takes either and answers
 * the typed value, or a problem that says what was expected and what was given (never a secret's value:
 * secrets use formats whose problems do not quote the value).
 */
export interface Format<T> {
  read(value: unknown): { value: T } | { problem: string };
}

const ok = <T>(value: T): { value: T } => ({ value });
const bad = (problem: string): { problem: string } => ({ problem });
const given = (value: unknown): string => JSON.stringify(value) ?? String(value);

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/**
 * The Python exporter compared against the exact string "True"; that spelling and the usual ones are
 * accepted, case-insensitively, so existing `.env` files keep working.
 */
function parseBoolean(raw: string): boolean | undefined {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

export const boolean: Format<boolean> = {
  read(value) {
    const b = typeof value === 'string' ? parseBoolean(value) : value;
    return typeof b === 'boolean'
      ? ok(b)
      : bad(`must be True or False (also true/false, 1/0, yes/no), got ${given(value)}`);
  },
};

/** A string, trimmed unless told not to. Its problem never quotes the value (secrets use it). */
export function text(opts: { trim?: boolean } = {}): Format<string> {
  return {
    read(value) {
      if (typeof value !== 'string')
        return bad(`must be a string, got ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}`);
      return ok(opts.trim === false ? value : value.trim());
    },
  };
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** A number within bounds, e.g. `number({ min: 0, integer: true })`. */
export function number(opts: {
  min: number;
  above?: boolean;
  integer?: boolean;
  max?: number;
}): Format<number> {
  const kind = opts.integer === true ? 'a whole number' : 'a number';
  const range =
    opts.max !== undefined
      ? `from ${opts.min} to ${opts.max}`
      : opts.above === true
        ? `greater than ${opts.min}`
        : `of ${opts.min} or more`;
  return {
    read(value) {
      const n = asNumber(value);
      const fits =
        n !== undefined &&
        Number.isFinite(n) &&
        (opts.above === true ? n > opts.min : n >= opts.min) &&
        (opts.max === undefined || n <= opts.max) &&
        (opts.integer !== true || Number.isInteger(n));
      return fits ? ok(n) : bad(`must be ${kind} ${range}, got ${given(value)}`);
    },
  };
}

/**
 * A duration in seconds: a number of seconds (`90`, `0.5`), or as Prometheus users write durations, with a
 * unit (`90s`, `1m`, `1m30s`, `2h`, `500ms`). The value is seconds. `zero` allows 0 (a setting where 0 means
 * "derived from another one").
 */
export function duration(opts: {
  zero: boolean;
  /** The least value other than 0, in seconds. */ min?: number;
}): Format<number> {
  const least =
    opts.min !== undefined
      ? `${opts.zero ? 'of 0 or ' : 'of '}at least ${opts.min}s`
      : opts.zero
        ? 'of 0 or more'
        : 'greater than 0';
  return {
    read(value) {
      let seconds = asNumber(value);
      if (seconds === undefined && typeof value === 'string') {
        const ms = parseGoDuration(value);
        seconds = ms === undefined ? undefined : ms / 1000;
      }
      const fits =
        seconds !== undefined &&
        Number.isFinite(seconds) &&
        ((opts.zero && seconds === 0) || (seconds > 0 && seconds >= (opts.min ?? 0)));
      if (fits) return ok(seconds as number);
      return bad(
        `must be a duration ${least}: seconds (e.g. 60) or a number with a unit (90s, 1m, 2h), got ${given(value)}`,
      );
    },
  };
}

export const port: Format<number> = {
  read(value) {
    const n = asNumber(value);
    return n !== undefined && Number.isInteger(n) && n >= 0 && n <= 65535
      ? ok(n)
      : bad(`must be a port number from 0 to 65535, got ${given(value)}`);
  },
};

/** An http(s) URL, always ending with a slash (a base that paths are resolved against). */
/**
 * A URL as it may be logged or shown: user name and password (`http://user:pass@proxy/api/0/`, for a proxy
 * in front of Sentry) replaced by `***`. Works on text that is not a URL too (a value that did not parse).
 */
export function withoutUserinfo(url: string): string {
  return url.replace(/^(\s*[a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
}

export const baseUrl: Format<string> = {
  read(value) {
    const raw = typeof value === 'string' ? value.trim() : '';
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      const shown = typeof value === 'string' ? given(withoutUserinfo(value)) : given(value);
      return bad(`must be an http(s) URL such as https://sentry.io/api/0/, got ${shown}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return bad(`must be an http(s) URL, got the scheme ${given(url.protocol)}`);
    return ok(raw.endsWith('/') ? raw : `${raw}/`);
  },
};

/**
 * A comma-separated list (or a list in a settings file) of names, e.g. `list('environment names')`: each
 * trimmed, without blanks and repeats, in the order given.
 */
export function list(what: string): Format<string[]> {
  return {
    read(value) {
      const items =
        typeof value === 'string'
          ? value.split(',')
          : Array.isArray(value)
            ? (value as unknown[])
            : undefined;
      if (items === undefined || !items.every((s) => typeof s === 'string'))
        return bad(`must be a comma-separated list of ${what}`);
      return ok([...new Set(items.map((s) => s.trim()).filter((s) => s !== ''))]);
    },
  };
}

/** A comma-separated list (or a list in a settings file) of project slugs, without blanks and repeats. */
export const slugList: Format<string[]> = list('project slugs');

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Python's logging level names, as the Python exporter's users set LOG_LEVEL. */
const PYTHON_LOG_LEVELS: Record<string, LogLevel> = { warning: 'warn', critical: 'fatal', notset: 'info' };

function normalizeLogLevel(raw: string): LogLevel | undefined {
  const word = raw.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(word)) return word as LogLevel;
  return PYTHON_LOG_LEVELS[word];
}

export const logLevel: Format<LogLevel> = {
  read(value) {
    const level = typeof value === 'string' ? normalizeLogLevel(value) : undefined;
    return level !== undefined
      ? ok(level)
      : bad(`must be one of ${LOG_LEVELS.join(', ')} (or a Python level name), got ${given(value)}`);
  },
};
