import convict from 'convict';

/**
 * Value formats for the convict schema. Coercion from environment strings keeps the raw string when it
 * cannot be parsed, so validation can say what was wrong with the value as given.
 */

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/**
 * The Python exporter compared against the exact string "True"; we accept that spelling and the usual
 * ones, case-insensitively, so existing `.env` files keep working.
 */
export function parseBoolean(raw: string): boolean | undefined {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

function coerceNumber(raw: string): number | string {
  const n = Number(raw.trim());
  return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
/** Python's logging level names, as the Python exporter's users set LOG_LEVEL. */
const PYTHON_LOG_LEVELS: Record<string, (typeof LOG_LEVELS)[number]> = {
  warning: 'warn',
  critical: 'fatal',
  notset: 'info',
};

export function registerFormats(): void {
  convict.addFormat({
    name: 'boolean-word',
    coerce: (raw: string) => parseBoolean(raw) ?? raw,
    validate(value: unknown) {
      if (typeof value !== 'boolean') {
        throw new Error(`must be True or False (also true/false, 1/0, yes/no), got ${JSON.stringify(value)}`);
      }
    },
  });
  addNumberFormat('positive-number', (n) => Number.isFinite(n) && n > 0, 'a number greater than 0');
  addNumberFormat('non-negative-number', (n) => Number.isFinite(n) && n >= 0, 'a number of 0 or more');
  addNumberFormat('positive-int', (n) => Number.isInteger(n) && n >= 1, 'a whole number of 1 or more');
  addNumberFormat('non-negative-int', (n) => Number.isInteger(n) && n >= 0, 'a whole number of 0 or more');
  convict.addFormat({
    name: 'tcp-port',
    coerce: coerceNumber,
    validate(value: unknown) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
        throw new Error(`must be a port number from 0 to 65535, got ${JSON.stringify(value)}`);
      }
    },
  });
  convict.addFormat({
    name: 'http-url',
    coerce: (raw: string) => raw.trim(),
    validate(value: unknown) {
      let url: URL;
      try {
        url = new URL(String(value));
      } catch {
        throw new Error(
          `must be an http(s) URL such as https://sentry.io/api/0/, got ${JSON.stringify(value)}`,
        );
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new Error(`must be an http(s) URL, got the scheme ${JSON.stringify(url.protocol)}`);
      }
    },
  });
  convict.addFormat({
    name: 'slug-list',
    coerce: (raw: string) =>
      raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    validate(value: unknown) {
      if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && s.trim() !== '')) {
        throw new Error('must be a comma-separated list of project slugs');
      }
    },
  });
  convict.addFormat({
    name: 'log-level',
    coerce: (raw: string) => normalizeLogLevel(raw) ?? raw,
    validate(value: unknown) {
      if (typeof value !== 'string' || normalizeLogLevel(value) === undefined) {
        throw new Error(
          `must be one of ${LOG_LEVELS.join(', ')} (or a Python level name), got ${JSON.stringify(value)}`,
        );
      }
    },
  });
}

export function normalizeLogLevel(raw: string): (typeof LOG_LEVELS)[number] | undefined {
  const word = raw.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(word)) return word as (typeof LOG_LEVELS)[number];
  return PYTHON_LOG_LEVELS[word];
}

/** A numeric format: the environment's string coerced to a number, then `ok`, or `must be <words>, got ...`. */
function addNumberFormat(name: string, ok: (n: number) => boolean, words: string): void {
  convict.addFormat({
    name,
    coerce: coerceNumber,
    validate(value: unknown) {
      if (typeof value !== 'number' || !ok(value)) {
        throw new Error(`must be ${words}, got ${JSON.stringify(value)}`);
      }
    },
  });
}
