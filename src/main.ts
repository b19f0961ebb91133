#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { startExporter } from './app.js';
import { ConfigError } from './config/errors.js';
import { SETTINGS, loadExporterConfig } from './collectors/index.js';
import { listSettings } from './config/settings.js';
import { createLogger } from './log.js';
import { RUNTIME_V8_FLAGS } from './node-flags.js';
import { VERSION } from './version.js';

/** Exit status for bad configuration, as the Prometheus exporters use it. */
const EXIT_CONFIG = 2;
/**
 * A shutdown that takes longer than this is forced (exit 1). It does not happen: the collection stops within
 * 3 s (its thread is ended if it must be) and HTTP drains within 1.5 s more, so SIGTERM exits 0 within 5 s.
 */
const SHUTDOWN_LIMIT_MS = 4900;

function usage(): string {
  const row = (env: string, doc: string) => `  ${env.padEnd(34)} ${doc}`;
  const rows = listSettings(SETTINGS).map((s) => {
    const def = Array.isArray(s.default) ? s.default.join(',') : String(s.default);
    const note =
      s.required !== undefined
        ? ` [required${s.required === 'always' ? '' : `: ${s.required}`}]`
        : s.sensitive === true || def === ''
          ? ''
          : ` [default: ${def}]`;
    return row(s.env, `${s.doc}${note}`);
  });
  return [
    `sentry-prometheus-exporter ${VERSION}`,
    'Polls the Sentry Web API in the background and serves its numbers to Prometheus: issues, events and',
    'outcomes, client-key rate limits, release health and cron monitors.',
    '',
    'Usage: sentry-prometheus-exporter [--config FILE] [--web.config.file FILE]',
    '',
    'Options:',
    '  --config FILE            settings file (YAML or JSON, keys as in config/default.yaml); also SENTRY_EXPORTER_CONFIG',
    '  --web.config.file FILE   exporter-toolkit web config (TLS, basic auth users); also SENTRY_EXPORTER_WEB_CONFIG',
    '  -h, --help               show this help',
    '  -v, --version            show the version',
    '',
    'Environment variables (they win over the settings file):',
    row('SENTRY_EXPORTER_CONFIG', 'Settings file, as --config (the flag wins).'),
    ...rows,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  // The flags of the image and `npm start` (node-flags.ts), for a node started without them.
  for (const flag of RUNTIME_V8_FLAGS) {
    const name = flag.split('=')[0] ?? flag;
    if (!process.execArgv.some((a) => a.split('=')[0] === name)) setFlagsFromString(flag);
  }
  let args;
  try {
    args = parseArgs({
      options: {
        config: { type: 'string' },
        'web.config.file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${usage()}`);
    process.exit(EXIT_CONFIG);
  }
  if (args.help) {
    process.stdout.write(usage());
    return;
  }
  if (args.version) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }

  let config;
  try {
    config = loadExporterConfig({
      env: process.env,
      configFile: args.config,
      webConfigFile: args['web.config.file'],
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) process.stderr.write(`configuration error: ${problem}\n`);
    process.exit(EXIT_CONFIG);
  }

  const logger = createLogger({ level: config.logLevel });
  let exporter;
  try {
    exporter = await startExporter(config, logger);
  } catch (err) {
    // e.g. the port is taken, or the web config file is invalid
    logger.fatal(
      { err: { message: (err as Error).message, code: (err as NodeJS.ErrnoException).code } },
      'cannot start',
    );
    process.exit(EXIT_CONFIG);
  }

  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ limitMs: SHUTDOWN_LIMIT_MS }, 'shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    exporter.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // Logged where it happened; the process ends so that it is restarted.
  void exporter.failed.then(() => {
    setTimeout(() => process.exit(1), SHUTDOWN_LIMIT_MS).unref();
    void exporter.stop().finally(() => process.exit(1));
  });
}

await main();
