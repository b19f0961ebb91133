import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import YAML, { YAMLParseError } from 'yaml';
import { ConfigError } from './errors.js';
import { CORE_SETTINGS } from './schema.js';
import type { CoreConfig } from './schema.js';
import { listSettings, readSettings } from './settings.js';
import type { SettingInfo, SettingTree, ValueOf } from './settings.js';

export interface LoadOptions {
  /** Usually `process.env`. */
  env: NodeJS.ProcessEnv;
  /** `--config FILE`; falls back to SENTRY_EXPORTER_CONFIG. */
  configFile?: string | undefined;
  /** `--web.config.file FILE`; wins over SENTRY_EXPORTER_WEB_CONFIG. */
  webConfigFile?: string | undefined;
}

/** The whole tree: the core settings and, under `collectors`, what each collector declares. */
export type SettingsOf<C extends SettingTree> = typeof CORE_SETTINGS & { collectors: C };

/** The loaded configuration: the core settings' values and the collectors' under `collectors`. */
export type Config<C extends SettingTree> = CoreConfig & { readonly collectors: ValueOf<C> };

export function settingsOf<C extends SettingTree>(collectors: C): SettingsOf<C> {
  return { ...CORE_SETTINGS, collectors };
}

/**
 * Loads defaults, then the optional settings file (JSON or YAML, keys as nested paths), then the
 * environment, and checks the result. Every problem is reported at once as a ConfigError whose lines name
 * the variable (and the file key when the value came from the file); no secret value ever appears in a
 * message.
 */
export function loadConfig<C extends SettingTree>(collectors: C, opts: LoadOptions): Config<C> {
  const tree = settingsOf(collectors);
  const problems: string[] = [];
  const configFile = opts.configFile ?? nonEmpty(opts.env.SENTRY_EXPORTER_CONFIG);
  // Problems with the file name what pointed at it: the flag or the variable.
  const source = opts.configFile !== undefined ? '--config' : 'SENTRY_EXPORTER_CONFIG';
  let file: Record<string, unknown> = {};
  if (configFile !== undefined) {
    const data = readConfigFile(configFile, source, problems);
    // A file that cannot be read yields no settings: what it would have set is not reported missing too.
    if (data === undefined) throw new ConfigError(problems);
    problems.push(...unknownKeys(data, listSettings(tree), `${source}: ${configFile}`));
    file = data;
  }

  const config = readSettings(tree, { env: opts.env, file, fileName: configFile }, problems);
  const token = resolveToken(config.sentry.token, config.sentry.tokenFile, problems);
  if (config.sentry.org === '' && !problems.some((p) => p.startsWith('SENTRY_EXPORTER_ORG'))) {
    problems.push('SENTRY_EXPORTER_ORG: missing; set it to the slug of your Sentry organization');
  }
  const { retry } = config.sentry;
  if (retry.maxDelay < retry.delay) {
    problems.push(
      `SENTRY_RETRY_MAX_DELAY: must not be smaller than SENTRY_RETRY_DELAY (${retry.maxDelay} < ${retry.delay})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...config,
    sentry: { ...config.sentry, token },
    http: { ...config.http, webConfigFile: opts.webConfigFile ?? config.http.webConfigFile },
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * V8's JSON.parse messages quote the text around the error (`Unexpected token 'o', ..."token": tokQ7"... is
 * not valid JSON`), and that text may be the token or a password: keep what went wrong, drop the quote.
 */
function describeJsonError(message: string): string {
  return /^Unexpected token\b.* is not valid JSON$/s.test(message)
    ? 'unexpected token (not valid JSON)'
    : message;
}

/**
 * YAML's message quotes the line in error under the problem, and that line may hold the token or a
 * password: the problem and its place are told whole, the line is shown with its value masked.
 */
function describeYamlError(err: YAMLParseError, text: string): string {
  const problem = (err.message.split('\n')[0] ?? '').replace(/:$/, '');
  const at = err.linePos?.[0];
  if (at === undefined) return problem;
  const line = text.split(/\r?\n/)[at.line - 1] ?? '';
  const key = /^(\s*(?:- )?[^:#]*:)/.exec(line)?.[1];
  const shown = key === undefined ? '…' : `${key} …`;
  return `${problem}\n    line ${at.line}: ${shown}\n    ${' '.repeat(`line ${at.line}: `.length + Math.min(at.col - 1, shown.length))}^ (the value is not shown: it may be a secret)`;
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
  let data: unknown;
  try {
    data = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    problems.push(
      `${source}: cannot parse ${path}: ${err instanceof YAMLParseError ? describeYamlError(err, text) : describeJsonError((err as Error).message)}`,
    );
    return undefined;
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    problems.push(`${source}: ${path} must hold a mapping of settings (keys as in config/default.yaml)`);
    return undefined;
  }
  return data as Record<string, unknown>;
}

/**
 * Keys of the file that are no setting, each with what the user probably meant: the key an environment
 * variable's name maps to, the key a setting had before, or the closest valid key.
 */
function unknownKeys(data: Record<string, unknown>, settings: SettingInfo[], where: string): string[] {
  const paths = new Set(settings.map((s) => s.path));
  const problems: string[] = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [key, value] of Object.entries(node)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (paths.has(path)) continue;
      // A mapping is walked into, known or not: its keys may be ones that moved (`scrape.issueMetrics`).
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        walk(value as Record<string, unknown>, path);
        continue;
      }
      problems.push(`${where} has an unknown key "${path}"; ${suggestion(path, key, settings)}`);
    }
  };
  walk(data, '');
  return problems;
}

function suggestion(path: string, key: string, settings: SettingInfo[]): string {
  const byEnv = settings.find((s) => s.env === key);
  if (byEnv !== undefined) {
    return `${key} is an environment variable; in a settings file it is the key "${byEnv.path}"`;
  }
  const moved = settings.find((s) => s.formerly === path);
  if (moved !== undefined) return `it is now "${moved.path}"`;
  let best: SettingInfo | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const s of settings) {
    const d = Math.min(
      distance(path.toLowerCase(), s.path.toLowerCase()),
      distance(key.toLowerCase(), s.path.split('.').pop()!.toLowerCase()) + 1,
    );
    if (d < bestDistance) {
      best = s;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(path.length / 3))
    ? `did you mean "${best.path}"?`
    : 'config/default.yaml lists every key';
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

function resolveToken(token: string, tokenFile: string, problems: string[]): string {
  if (token !== '' && tokenFile !== '') {
    problems.push('SENTRY_AUTH_TOKEN_FILE: set only one of SENTRY_AUTH_TOKEN and SENTRY_AUTH_TOKEN_FILE');
    return '';
  }
  if (tokenFile !== '') {
    let text: string;
    try {
      text = readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      problems.push(
        `SENTRY_AUTH_TOKEN_FILE: cannot read ${tokenFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      );
      return '';
    }
    if (text === '') problems.push(`SENTRY_AUTH_TOKEN_FILE: ${tokenFile} is empty`);
    return text;
  }
  // A token given with a bad value was reported as such: not as missing too.
  if (token === '' && !problems.some((p) => p.startsWith('SENTRY_AUTH_TOKEN'))) {
    problems.push(
      'SENTRY_AUTH_TOKEN: missing; set it (or SENTRY_AUTH_TOKEN_FILE) to a Sentry auth token with the scopes org:read, project:read and event:read',
    );
  }
  return token;
}
