import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from 'pino';
import { startExporter } from '../../src/app.js';
import type { Exporter } from '../../src/app.js';
import type { CollectorHealth } from '../../src/pipeline/readiness.js';
import { loadExporterConfig as loadConfig } from '../../src/collectors/index.js';
import type { ExporterConfig } from '../../src/collectors/index.js';
import { REDACT_CENSOR, REDACT_PATHS } from '../../src/log.js';
import type { SentrySimulator } from '../../sim/index.js';
import { waitUntil } from './wait.js';

/** A pino logger that writes JSON lines into memory, with the production redaction. */
export function memoryLogger(level = 'info'): { logger: Logger; lines: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  const logger = pino({ level, redact: { paths: [...REDACT_PATHS], censor: REDACT_CENSOR } }, sink);
  return { logger, lines: () => text };
}

/**
 * The configuration of an exporter against a simulator, on a free loopback port, with short retry delays;
 * `env` adds or overrides settings.
 */
export function configAgainst(sim: SentrySimulator, env: NodeJS.ProcessEnv = {}): ExporterConfig {
  return loadConfig({
    env: {
      SENTRY_BASE_URL: sim.url,
      SENTRY_AUTH_TOKEN: sim.token,
      SENTRY_EXPORTER_ORG: sim.org,
      SENTRY_EXPORTER_HOST: '127.0.0.1',
      SENTRY_EXPORTER_PORT: '0',
      SENTRY_RETRY_DELAY: '0.05',
      SENTRY_RETRY_JITTER: '0',
      ...env,
    },
  });
}

/**
 * Starts the exporter against a simulator, on a free loopback port, its collection in this thread (where
 * the clock can be set, and where the mutation tests see the code it runs).
 */
export async function startExporterAgainst(
  sim: SentrySimulator,
  env: NodeJS.ProcessEnv = {},
  level = 'info',
  /**
   * What the exporter's clock for its data reads now (it then runs at the wall clock's pace); the wall
   * clock by default.
   */
  now?: number,
): Promise<{ exporter: Exporter; logs: () => string }> {
  const config = configAgainst(sim, env);
  const { logger, lines } = memoryLogger(level);
  const offset = now === undefined ? 0 : now - Date.now();
  const exporter = await startExporter(config, logger, {
    thread: false,
    ...(now === undefined ? {} : { clock: () => Date.now() + offset }),
  });
  return { exporter, logs: lines };
}

/** The body of `/healthz`: the overall status and each collector's last success and error. */
export interface HealthBody {
  status: string;
  collectors: Record<string, CollectorHealth>;
}

/** Polls `/healthz` until it answers 200 and `ready` holds for its body; returns that body. */
export async function healthWhen(
  url: string,
  what: string,
  ready: (body: HealthBody) => boolean,
): Promise<HealthBody> {
  let body: HealthBody | undefined;
  await waitUntil(`/healthz 200 with ${what}`, async () => {
    const res = await fetch(`${url}/healthz`);
    body = (await res.json()) as HealthBody;
    return res.status === 200 && ready(body);
  });
  return body!;
}

/** Parses an exposition into `name{labels} -> value` rows. */
export function parseExposition(
  text: string,
): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const rows: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      // One pass, so that an escaped backslash before an `n` stays a backslash and an `n`.
      labels[lm[1]!] = lm[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    rows.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return rows;
}
