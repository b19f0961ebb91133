import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import YAML from 'yaml';
import { ConfigError } from './errors.js';
import { normalizeLogLevel } from './formats.js';
import { createConvict, listSettings } from './schema.js';
import type { ExporterConfig } from './types.js';

export interface LoadOptions {
  /** Usually `process.env`. */
  env: NodeJS.ProcessEnv;
  /** `--config FILE`; falls back to SENTRY_EXPORTER_CONFIG. */
  configFile?: string | undefined;
  /** `--web.config.file FILE`; wins over SENTRY_EXPORTER_WEB_CONFIG. */
  webConfigFile?: string | undefined;
}

/**
 * Loads defaults, then the optional config file (JSON or YAML, keys as nested schema paths), then the
 * environment, and checks the result. Every problem is reported at once as a ConfigError whose lines
 * name the variable; no secret value ever appears in a message.
 */
export function loadConfig(opts: LoadOptions): ExporterConfig {
  const settings = listSettings();
  const envOfPath = new Map(settings.map((s) => [s.path, s.env]));
  const conf = createConvict(opts.env);
  const problems: string[] = [];

  const configFile = opts.configFile ?? nonEmpty(opts.env.SENTRY_EXPORTER_CONFIG);
  // Problems with the file name what pointed at it: the flag or the variable.
  const source = opts.configFile !== undefined ? '--config' : 'SENTRY_EXPORTER_CONFIG';
  if (configFile !== undefined) {
    const data = readConfigFile(configFile, source, problems);
    if (data !== undefined) conf.load(data);
  }

  try {
    conf.validate({ allowed: 'strict' });
  } catch (err) {
    for (const line of String((err as Error).message).split('\n')) {
      problems.push(describeConvictProblem(line, envOfPath, source, configFile));
    }
  }

  const raw = conf.getProperties() as unknown as RawConfig;
  // A settings file can give a list or a number where a string belongs: convict has reported that above.
  const token =
    typeof raw.sentry.token === 'string' && typeof raw.sentry.tokenFile === 'string'
      ? resolveToken(raw.sentry.token, raw.sentry.tokenFile, problems)
      : '';
  if (typeof raw.sentry.org === 'string' && raw.sentry.org.trim() === '') {
    problems.push('SENTRY_EXPORTER_ORG: missing; set it to the slug of your Sentry organization');
  }
  if (raw.sentry.retry.maxDelay < raw.sentry.retry.delay) {
    problems.push(
      `SENTRY_RETRY_MAX_DELAY: must not be smaller than SENTRY_RETRY_DELAY (${raw.sentry.retry.maxDelay} < ${raw.sentry.retry.delay})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const pollInterval = raw.schedule.pollInterval;
  return {
    sentry: {
      baseUrl: raw.sentry.baseUrl.endsWith('/') ? raw.sentry.baseUrl : `${raw.sentry.baseUrl}/`,
      token,
      tokenFile: raw.sentry.tokenFile.trim(),
      org: raw.sentry.org.trim(),
      projects: [...new Set(raw.sentry.projects)],
      rate: raw.sentry.rate,
      concurrency: raw.sentry.concurrency,
      timeout: raw.sentry.timeout,
      maxItems: raw.sentry.maxItems,
      retry: { ...raw.sentry.retry },
    },
    scrape: { ...raw.scrape },
    schedule: {
      pollInterval,
      metadataInterval: raw.schedule.metadataInterval,
      outcomesInterval: raw.schedule.outcomesInterval > 0 ? raw.schedule.outcomesInterval : pollInterval,
      releaseHealthInterval: raw.schedule.releaseHealthInterval,
      readyMaxAge: raw.schedule.readyMaxAge > 0 ? raw.schedule.readyMaxAge : 3 * pollInterval,
      cycleDeadline:
        raw.schedule.cycleDeadline > 0 ? raw.schedule.cycleDeadline : Math.max(10 * pollInterval, 300),
    },
    http: {
      host: raw.http.host,
      port: raw.http.port,
      basicAuth: { ...raw.http.basicAuth },
      webConfigFile: opts.webConfigFile ?? raw.http.webConfigFile,
    },
    logLevel: normalizeLogLevel(raw.logLevel) ?? 'info',
  };
}

/** The shape convict hands back before the token is resolved. */
type RawConfig = Omit<ExporterConfig, 'sentry' | 'logLevel'> & {
  sentry: ExporterConfig['sentry'];
  logLevel: string;
};

/**
 * V8's JSON.parse messages quote the text around the error (`Unexpected token 'o', ..."token": tokQ7"... is
 * not valid JSON`), and that text may be the token or a password: keep what went wrong, drop the quote.
 */
function describeJsonError(message: string): string {
  return /^Unexpected token\b.* is not valid JSON$/s.test(message)
    ? 'unexpected token (not valid JSON)'
    : message;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function readConfigFile(
  path: string,
  source: string,
  problems: string[],
): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${source}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    return undefined;
  }
  try {
    const ext = extname(path).toLowerCase();
    const data: unknown = ext === '.json' ? JSON.parse(text) : YAML.parse(text);
    if (data === null || data === undefined) return {};
    if (typeof data !== 'object' || Array.isArray(data)) {
      problems.push(`${source}: ${path} must hold a mapping of settings`);
      return undefined;
    }
    return data as Record<string, unknown>;
  } catch (err) {
    const message = (err as Error).message.split('\n')[0] ?? '';
    problems.push(
      `${source}: cannot parse ${path}: ${err instanceof SyntaxError ? describeJsonError(message) : message}`,
    );
    return undefined;
  }
}

function resolveToken(token: string, tokenFile: string, problems: string[]): string {
  const fromEnv = token.trim();
  const file = tokenFile.trim();
  if (fromEnv !== '' && file !== '') {
    problems.push('SENTRY_AUTH_TOKEN_FILE: set only one of SENTRY_AUTH_TOKEN and SENTRY_AUTH_TOKEN_FILE');
    return '';
  }
  if (file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (err) {
      problems.push(
        `SENTRY_AUTH_TOKEN_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      );
      return '';
    }
    if (text === '') problems.push(`SENTRY_AUTH_TOKEN_FILE: ${file} is empty`);
    return text;
  }
  if (fromEnv === '') {
    problems.push(
      'SENTRY_AUTH_TOKEN: missing; set it (or SENTRY_AUTH_TOKEN_FILE) to a Sentry auth token with the scopes org:read, project:read and event:read',
    );
  }
  return fromEnv;
}

/** Turns one of convict's messages into a line that names the environment variable. */
function describeConvictProblem(
  line: string,
  envOfPath: Map<string, string>,
  source: string,
  configFile?: string,
): string {
  const unknown = /configuration param '([^']+)' not declared in the schema/.exec(line);
  if (unknown) {
    return `${source}: ${configFile ?? 'config file'} has an unknown key "${unknown[1]}"`;
  }
  const m = /^([\w.]+): (.*?)(?:: value was .*)?$/.exec(line.trim());
  if (m && m[1] !== undefined) {
    const env = envOfPath.get(m[1]);
    return env === undefined ? `${m[1]}: ${m[2]}` : `${env}: ${m[2]}`;
  }
  return line;
}
