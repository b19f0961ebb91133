/**
 * Runs a Sentry simulator from the command line, e.g. to point a locally running exporter at it:
 *
 *   npm run sim                                   (port 9000; it prints the `npm start` line to use)
 *   npm run sim -- --port 9100 --projects 50 --rate-limit 20
 *   node --import tsx sim/main.ts --projects 50   (a port of its choosing)
 *
 * `--rate-limit 0` turns rate limiting off; `--self-hosted` answers like an older self-hosted Sentry.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_RATE_LIMIT, startSimulator } from './server.js';
import type { SimOptions } from './types.js';

const USAGE = `Usage: sentry-sim [options]
  --port N          listen port (default: one of the system's choosing; npm run sim passes 9000)
  --host H          listen address (default 127.0.0.1)
  --projects N      projects (default 20)
  --environments N  environments per project (default 2)
  --issues N        issues per project (default 60)
  --monitors N      cron monitors in the organization (default: one per two projects)
  --seed N          data seed (default 1)
  --rate-limit N    requests per second per endpoint; 0 = no rate limiting (default ${DEFAULT_RATE_LIMIT.perSecond})
  --concurrent N    concurrent requests per token (default ${DEFAULT_RATE_LIMIT.concurrent})
  --latency MS      added to every response (default 0)
  --org SLUG        organization slug (default acme)
  --token T         accepted bearer token (default sim-token)
  --self-hosted     answer like an older self-hosted Sentry: no rate limiter and no rate-limit headers, no
                    organization project-keys endpoint, no environments in project summaries, stats_v2
                    grouped by project with intervals and series, release health with four session
                    statuses (no unhandled)
  --help`;

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`--${name} expects a non-negative integer, got "${value}"`);
  return Number(value);
}

/** The command that runs the built exporter against this simulator. */
function startLine(sim: { url: string; token: string; org: string }): string {
  return `SENTRY_BASE_URL=${sim.url} SENTRY_AUTH_TOKEN=${sim.token} SENTRY_EXPORTER_ORG=${sim.org} npm start`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      projects: { type: 'string' },
      environments: { type: 'string' },
      issues: { type: 'string' },
      monitors: { type: 'string' },
      seed: { type: 'string' },
      'rate-limit': { type: 'string' },
      concurrent: { type: 'string' },
      latency: { type: 'string' },
      org: { type: 'string' },
      token: { type: 'string' },
      'self-hosted': { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const perSecond = integer('rate-limit', values['rate-limit']) ?? DEFAULT_RATE_LIMIT.perSecond;
  const concurrent = integer('concurrent', values.concurrent) ?? DEFAULT_RATE_LIMIT.concurrent;
  const selfHosted = values['self-hosted'] === true;
  const opts: SimOptions = {
    port: integer('port', values.port),
    host: values.host,
    projects: integer('projects', values.projects),
    environmentsPerProject: integer('environments', values.environments),
    issuesPerProject: integer('issues', values.issues),
    monitors: integer('monitors', values.monitors),
    seed: integer('seed', values.seed),
    latencyMs: integer('latency', values.latency),
    org: values.org,
    token: values.token,
    mode: selfHosted ? 'self-hosted' : 'sentry.io',
    ...(selfHosted && values['rate-limit'] === undefined
      ? {}
      : { rateLimit: perSecond === 0 ? false : { perSecond, concurrent } }),
  };
  const sim = await startSimulator(opts);
  console.log(`Sentry simulator listening
  url:   ${sim.url}
  org:   ${sim.org}
  token: ${sim.token}
  e.g.   curl -H 'Authorization: Bearer ${sim.token}' ${sim.url}organizations/${sim.org}/projects/

Run the exporter against it from another terminal (after npm ci && npm run build):
  ${startLine(sim)}
Ctrl-C stops the simulator.`);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping (${sim.counters().total} requests served)`);
    sim.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('failed to stop cleanly', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  if ((err as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE') {
    console.error(
      `${(err as Error).message}: another program listens on that port; choose another with --port N (npm run sim -- --port N)`,
    );
    process.exit(1);
  }
  console.error(err instanceof Error ? err.message : err);
  console.error(USAGE);
  process.exit(2);
});
