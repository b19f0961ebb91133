import { baseUrl, boolean, duration, logLevel, number, port, slugList, text } from './formats.js';
import { setting } from './settings.js';
import type { ValueOf } from './settings.js';

const positiveInt = number({ min: 1, integer: true });

/**
 * The settings of the exporter as a whole; each collector declares its own next to itself
 * (src/collectors). Environment variable names are the Python exporter's where it had one, so an
 * existing deployment keeps its settings; new ones follow the same style. Settings-file keys are the
 * nested paths (e.g. `sentry.rate`). Precedence: environment > settings file > defaults.
 */
export const CORE_SETTINGS = {
  sentry: {
    baseUrl: setting({
      env: 'SENTRY_BASE_URL',
      doc: 'Sentry Web API base URL, ending in /api/0/ (with or without the last slash).',
      default: 'https://sentry.io/api/0/',
      format: baseUrl,
    }),
    token: setting({
      env: 'SENTRY_AUTH_TOKEN',
      doc: 'Sentry auth token (scopes org:read, project:read, event:read).',
      default: '',
      format: text(),
      sensitive: true,
      required: 'this or SENTRY_AUTH_TOKEN_FILE',
    }),
    tokenFile: setting({
      env: 'SENTRY_AUTH_TOKEN_FILE',
      doc: 'Read the auth token from this file instead (a mounted Kubernetes secret); set only one of the two. A rotated file is picked up while running.',
      default: '',
      format: text(),
    }),
    org: setting({
      env: 'SENTRY_EXPORTER_ORG',
      doc: 'Organization slug.',
      default: '',
      format: text(),
      required: 'always',
    }),
    projects: setting<string[]>({
      env: 'SENTRY_EXPORTER_PROJECTS',
      doc: 'Comma-separated project slugs to export; empty exports every project the token can see. A slug that does not exist is logged once as an error.',
      default: [],
      format: slugList,
    }),
    rate: setting({
      env: 'SENTRY_API_RATE',
      doc: 'Requests per second sent to Sentry.',
      default: 3,
      format: number({ min: 0, above: true }),
    }),
    concurrency: setting({
      env: 'SENTRY_API_CONCURRENCY',
      doc: 'Requests to Sentry in flight at once, shared between the collectors: one holds at most half of them (and always one less than all).',
      default: 2,
      format: positiveInt,
    }),
    timeout: setting({
      env: 'SENTRY_API_TIMEOUT',
      doc: 'Seconds before a request to Sentry is abandoned (and retried).',
      default: 30,
      format: duration({ zero: false }),
    }),
    maxItems: setting({
      env: 'SENTRY_API_MAX_ITEMS',
      doc: 'Most items (issues, projects, keys) one paginated query, or one collector run, may list; past it the collector fails instead of following pages that never end.',
      default: 50_000,
      format: positiveInt,
    }),
    retry: {
      tries: setting({
        env: 'SENTRY_RETRY_TRIES',
        doc: 'Attempts per request in all, the first included.',
        default: 3,
        format: positiveInt,
      }),
      delay: setting({
        env: 'SENTRY_RETRY_DELAY',
        doc: 'Seconds before the first retry.',
        default: 1,
        format: duration({ zero: true }),
      }),
      maxDelay: setting({
        env: 'SENTRY_RETRY_MAX_DELAY',
        doc: 'Longest wait between retries, seconds.',
        default: 10,
        format: duration({ zero: true }),
      }),
      backoff: setting({
        env: 'SENTRY_RETRY_BACKOFF',
        doc: 'Multiplier applied to the delay after each retry.',
        default: 2,
        format: number({ min: 0, above: true }),
      }),
      jitter: setting({
        env: 'SENTRY_RETRY_JITTER',
        doc: 'Up to this many seconds of random extra delay per retry.',
        default: 0.5,
        format: duration({ zero: true }),
      }),
    },
  },
  schedule: {
    pollInterval: setting({
      env: 'SENTRY_POLL_INTERVAL',
      doc: 'Seconds between collection cycles (or a duration such as 90s, 1m).',
      default: 60,
      format: duration({ zero: false }),
    }),
    metadataInterval: setting({
      env: 'SENTRY_METADATA_INTERVAL',
      doc: 'Seconds between refreshes of projects, environments, client keys and issue releases.',
      default: 600,
      format: duration({ zero: false }),
    }),
    readyMaxAge: setting({
      env: 'SENTRY_READY_MAX_AGE',
      doc: 'Seconds after which /healthz reports the data as stale; 0 means 3 × SENTRY_POLL_INTERVAL.',
      default: 0,
      format: duration({ zero: true }),
    }),
    cycleDeadline: setting({
      env: 'SENTRY_CYCLE_DEADLINE',
      doc: 'Seconds after which a running collector run is abandoned; 0 means max(10 × SENTRY_POLL_INTERVAL, 300).',
      default: 0,
      format: duration({ zero: true }),
    }),
  },
  collection: {
    thread: setting({
      env: 'SENTRY_EXPORTER_COLLECTION_THREAD',
      doc: 'Collect in a worker thread of its own, so that a scrape never waits behind parsing and rendering (docs/performance.md); false collects in the thread that serves HTTP.',
      default: true,
      format: boolean,
    }),
  },
  exposition: {
    legacyMetrics: setting({
      env: 'SENTRY_EXPORTER_LEGACY_METRICS',
      doc: 'The Python exporter\'s names and label spellings (the gauge-histogram sentry_issues with le="1h"/"24h"); false writes names that pass promtool check metrics (docs/metrics.md).',
      default: true,
      format: boolean,
      formerly: 'scrape.legacyMetrics',
    }),
  },
  billing: {
    cycleDay: setting({
      env: 'SENTRY_BILLING_CYCLE_DAY',
      doc: "Day of the month (1 to 28) on which the organization's billing cycle starts, at 00:00 UTC: the month-to-date counters (outcomes, events, sessions) and the quota usage count from the start of the current cycle and reset when the next one starts; 1 is the calendar month.",
      default: 1,
      format: number({ min: 1, max: 28, integer: true }),
    }),
  },
  http: {
    host: setting({
      env: 'SENTRY_EXPORTER_HOST',
      doc: 'Address to listen on.',
      default: '0.0.0.0',
      format: text(),
    }),
    port: setting({
      env: 'SENTRY_EXPORTER_PORT',
      doc: 'Port to listen on (the Python exporter used 9790).',
      default: 9790,
      format: port,
    }),
    basicAuth: {
      enabled: setting({
        env: 'SENTRY_EXPORTER_BASIC_AUTH',
        doc: 'Require HTTP basic auth on /metrics and /.',
        default: false,
        format: boolean,
      }),
      user: setting({
        env: 'SENTRY_EXPORTER_BASIC_AUTH_USER',
        doc: 'Basic auth user name.',
        default: 'prometheus',
        format: text({ trim: false }),
      }),
      pass: setting({
        env: 'SENTRY_EXPORTER_BASIC_AUTH_PASS',
        doc: 'Basic auth password.',
        default: 'prometheus',
        format: text({ trim: false }),
        sensitive: true,
      }),
    },
    webConfigFile: setting({
      env: 'SENTRY_EXPORTER_WEB_CONFIG',
      doc: 'Prometheus exporter-toolkit web config file (TLS, bcrypt users, headers); also --web.config.file.',
      default: '',
      format: text(),
    }),
  },
  logLevel: setting({
    env: 'LOG_LEVEL',
    doc: 'Log level: trace, debug, info, warn, error, fatal, silent (Python names like WARNING work too).',
    default: 'info',
    format: logLevel,
  }),
};

export type CoreConfig = ValueOf<typeof CORE_SETTINGS>;
export type SentryConfig = CoreConfig['sentry'];
export type RetryConfig = SentryConfig['retry'];
export type ScheduleConfig = CoreConfig['schedule'];
export type HttpConfig = CoreConfig['http'];
