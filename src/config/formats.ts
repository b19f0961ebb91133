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

/**
 * A URL as it may be logged or shown: user name and password (`http://user:pass@proxy/api/0/`, for a proxy
 * in front of Sentry) replaced by `***`. Works on text that is not a URL too (a value that did not parse).
 */
export function withoutUserinfo(url: string): string {
  return url.replace(/^(\s*[a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
}

/** An http(s) URL, always ending with a slash (a base that paths are resolved against). */
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
      const items = listItems(value);
      return items === undefined ? bad(`must be a comma-separated list of ${what}`) : ok(items);
    },
  };
}

/**
 * The items of a comma-separated list or of a list in a settings file: each trimmed, without blanks and
 * repeats, in the order given; undefined when the value is neither (or holds something other than text).
 */
function listItems(value: unknown): string[] | undefined {
  let items: unknown[];
  if (typeof value === 'string') items = value.split(',');
  else if (Array.isArray(value)) items = value as unknown[];
  else return undefined;
  if (!items.every((s) => typeof s === 'string')) return undefined;
  return [...new Set(items.map((s) => s.trim()).filter((s) => s !== ''))];
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

/**
 * A comma-separated list (or a list in a settings file) of label names, each one of `allowed`; the ones in
 * `always` are kept whatever is given. The value lists them in the order of `allowed`.
 */
export function labelList(allowed: readonly string[], always: readonly string[]): Format<string[]> {
  return {
    read(value) {
      const items = listItems(value);
      if (items === undefined)
        return bad(`must be a comma-separated list of labels out of ${allowed.join(', ')}`);
      const given = new Set(items);
      for (const label of given) {
        if (!allowed.includes(label)) return bad(`"${label}" is not one of the labels ${allowed.join(', ')}`);
      }
      return ok(allowed.filter((l) => given.has(l) || always.includes(l)));
    },
  };
}

/** How the amounts of a `quantities` setting are measured, per key. */
export type QuantityUnit = 'count' | 'bytes' | 'seconds';

/** SI multiples for counts: 5M is five million. */
const COUNT_SUFFIXES: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 };
/** Bytes: KB, MB, GB, TB in powers of 1,000 (as Sentry's usage pages count GB), KiB... in powers of 1,024. */
const BYTE_SUFFIXES: Record<string, number> = {
  '': 1,
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
};
const UNIT_HELP: Record<QuantityUnit, string> = {
  count: 'a count, e.g. 50000, 50k, 5M or 1.5G (k, M, G: thousand, million, billion)',
  bytes: 'bytes, e.g. 1GB, 500MB or 2GiB (KB, MB, GB, TB: powers of 1,000; KiB, MiB, GiB, TiB: of 1,024)',
  seconds: 'a duration, e.g. 10h, 90m, 3600s or 1h30m (a plain number is seconds)',
};

/** An amount in the unit's base (items, bytes, seconds), or undefined when it is not written right. */
function parseQuantity(raw: string, unit: QuantityUnit): number | undefined {
  const text = raw.trim();
  if (unit === 'seconds') {
    const plain = /^\d+(?:\.\d+)?$/.test(text) ? Number(text) : undefined;
    const ms = plain === undefined ? parseGoDuration(text) : plain * 1000;
    return ms === undefined ? undefined : ms / 1000;
  }
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text);
  if (!m) return undefined;
  const factor = (unit === 'count' ? COUNT_SUFFIXES : BYTE_SUFFIXES)[m[2] ?? ''];
  if (factor === undefined) return undefined;
  const amount = Number(m[1]) * factor;
  // Items and bytes are whole: 1.5k is 1,500, 0.0001k is no count.
  const whole = Math.round(amount);
  return Math.abs(amount - whole) < 1e-6 * Math.max(1, amount) ? whole : undefined;
}

/**
 * `key=amount` pairs, comma-separated (or a map in a settings file), each amount greater than 0 and written in
 * its key's unit: counts with SI suffixes, bytes with KB..TB or KiB..TiB, durations with s, m, h. `unitOf`
 * gives a key's unit, or why the key is refused. The value holds every amount in its unit's base: items,
 * bytes, seconds. A problem names the entry that is wrong.
 */
export function quantities(
  unitOf: (key: string) => QuantityUnit | { refused: string },
  what: string,
): Format<Readonly<Record<string, number>>> {
  return {
    read(value) {
      let entries: Array<[string, unknown]>;
      if (typeof value === 'string') {
        entries = value
          .split(',')
          .map((e) => e.trim())
          .filter((e) => e !== '')
          .map((e) => {
            const at = e.indexOf('=');
            return at === -1 ? [e, undefined] : [e.slice(0, at).trim(), e.slice(at + 1).trim()];
          });
      } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        entries = Object.entries(value as Record<string, unknown>);
      } else {
        return bad(`must be a comma-separated list of ${what}=amount, e.g. error=5M,attachment=1GB`);
      }
      const out: Record<string, number> = {};
      for (const [key, raw] of entries) {
        const entry = raw === undefined ? key : `${key}=${String(raw)}`;
        if (raw === undefined || key === '')
          return bad(`"${entry}" is not ${what}=amount (e.g. error=5M,attachment=1GB)`);
        const unit = unitOf(key);
        if (typeof unit !== 'string') return bad(`"${entry}": ${unit.refused}`);
        if (Object.hasOwn(out, key)) return bad(`"${entry}": ${key} is given twice`);
        const amount =
          typeof raw === 'number' || typeof raw === 'string' ? parseQuantity(String(raw), unit) : undefined;
        if (amount === undefined || !Number.isFinite(amount) || amount <= 0)
          return bad(`"${entry}": the amount must be greater than 0 and ${UNIT_HELP[unit]}`);
        out[key] = amount;
      }
      return ok(out);
    },
  };
}
