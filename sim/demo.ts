/**
 * `npm run demo`: the exporter against the built-in Sentry simulator, so a newcomer sees real metrics
 * without a Sentry account. Everything listens on 127.0.0.1; Ctrl-C stops both.
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
  Sentry simulator   ${sim.url}  (org "${sim.org}", 12 projects)
  Exporter metrics   ${exporter.url}/metrics
  Readiness          ${exporter.url}/healthz
  Landing page       ${exporter.url}/

  Try: curl -s ${exporter.url}/metrics | grep -E '^sentry_(issues_bucket|open_issue_events|events_total|outcome|rate_limit)' | head
  Ctrl-C to stop.
`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await exporter.stop();
  await sim.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
