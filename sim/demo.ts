/**
 * `npm run demo`: the exporter against the built-in Sentry simulator, so a newcomer sees real metrics
 * without a Sentry account. Everything listens on 127.0.0.1 and runs in this one process (the npm script
 * execs node, so npm's SIGTERM or SIGINT reaches it): Ctrl-C, or SIGTERM to npm, stops both.
 */
import { startExporter } from '../src/app.js';
import { loadExporterConfig } from '../src/collectors/index.js';
import { createLogger } from '../src/log.js';
import { startSimulator } from './index.js';

const port = Number(process.env.SENTRY_EXPORTER_PORT ?? 9790);
const sim = await startSimulator({ projects: 12, environmentsPerProject: 2, issuesPerProject: 40 });
const config = loadExporterConfig({
  env: {
    SENTRY_BASE_URL: sim.url,
    SENTRY_AUTH_TOKEN: sim.token,
    SENTRY_EXPORTER_ORG: sim.org,
    SENTRY_POLL_INTERVAL: '10',
    // The simulator allows 40 requests/s per endpoint; the demo's first cycle fetches every open
    // issue's release, so it goes faster than the production default of 3/s.
    SENTRY_API_RATE: '20',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
    SENTRY_EXPORTER_HOST: '127.0.0.1',
    SENTRY_EXPORTER_PORT: String(port),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  },
});
const logger = createLogger({ level: config.logLevel, pretty: true });
const exporter = await startExporter(config, logger);

console.log(`
  Sentry simulator   ${sim.url}  (org "${sim.org}", token "${sim.token}", 12 projects)
  Exporter metrics   ${exporter.url}/metrics
  Readiness          ${exporter.url}/healthz
  Landing page       ${exporter.url}/

  Try: curl -s ${exporter.url}/metrics | grep -E '^sentry_(issues_bucket|open_issue_events|events_total|outcome|rate_limit)' | head
  Ctrl-C to stop. The simulator alone, on a fixed port to point npm start at: npm run sim.
`);

/** Longest a stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 5_000;
let stopping = false;
const stop = (signal: NodeJS.Signals): void => {
  // A Ctrl-C in a terminal reaches this process twice (from the terminal, and forwarded by npm): the
  // handlers stay installed so that a repeated signal does not kill the process half-way through stopping.
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping the exporter and the simulator`);
  setTimeout(() => {
    console.error(`not stopped after ${STOP_DEADLINE_MS / 1000} s; exiting`);
    process.exit(1);
  }, STOP_DEADLINE_MS).unref();
  exporter
    .stop()
    .then(() => sim.close())
    .then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('failed to stop cleanly', err);
        process.exit(1);
      },
    );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
