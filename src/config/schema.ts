import convict from 'convict';
import { registerFormats } from './formats.js';

registerFormats();

/**
 * The one configuration schema. Environment variable names are the Python exporter's where it had one,
 * so an existing deployment keeps its settings; new ones follow the same style. Config-file keys are the
 * nested paths (e.g. `sentry.rate`). Precedence: environment > config file > defaults.
 */
export const schema = {
  sentry: {
    baseUrl: {
      doc: 'Sentry Web API base URL, with or without a trailing slash.',
      format: 'http-url',
      default: 'https://sentry.io/api/0/',
      env: 'SENTRY_BASE_URL',
    },
    token: {
      doc: 'Sentry auth token (scopes org:read, project:read, event:read).',
      format: String,
      default: '',
      env: 'SENTRY_AUTH_TOKEN',
      sensitive: true,
      required: 'this or SENTRY_AUTH_TOKEN_FILE',
    },
    tokenFile: {
      doc: 'Read the auth token from this file instead (a mounted Kubernetes secret).',
      format: String,
      default: '',
      env: 'SENTRY_AUTH_TOKEN_FILE',
    },
    org: {
      doc: 'Organization slug.',
      format: String,
      default: '',
      env: 'SENTRY_EXPORTER_ORG',
      required: 'always',
    },
    projects: {
      doc: 'Comma-separated project slugs to export; empty exports every project the token can see.',
      format: 'slug-list',
      default: [] as string[],
      env: 'SENTRY_EXPORTER_PROJECTS',
    },
    rate: {
      doc: 'Requests per second sent to Sentry.',
      format: 'positive-number',
      default: 3,
      env: 'SENTRY_API_RATE',
    },
    concurrency: {
      doc: 'Requests to Sentry in flight at once.',
      format: 'positive-int',
      default: 2,
      env: 'SENTRY_API_CONCURRENCY',
    },
    timeout: {
      doc: 'Seconds before a request to Sentry is abandoned (and retried).',
      format: 'positive-number',
      default: 30,
      env: 'SENTRY_API_TIMEOUT',
    },
    maxItems: {
      doc: 'Most items (issues, projects, keys) one paginated query, or one collector run, may list; past it the collector fails instead of following pages that never end.',
      format: 'positive-int',
      default: 50_000,
      env: 'SENTRY_API_MAX_ITEMS',
    },
    retry: {
      tries: {
        doc: 'Attempts per request in all, the first included.',
        format: 'positive-int',
        default: 3,
        env: 'SENTRY_RETRY_TRIES',
      },
      delay: {
        doc: 'Seconds before the first retry.',
        format: 'non-negative-number',
        default: 1,
        env: 'SENTRY_RETRY_DELAY',
      },
      maxDelay: {
        doc: 'Longest wait between retries, seconds.',
        format: 'non-negative-number',
        default: 10,
        env: 'SENTRY_RETRY_MAX_DELAY',
      },
      backoff: {
        doc: 'Multiplier applied to the delay after each retry.',
        format: 'positive-number',
        default: 2,
        env: 'SENTRY_RETRY_BACKOFF',
      },
      jitter: {
        doc: 'Up to this many seconds of random extra delay per retry.',
        format: 'non-negative-number',
        default: 0.5,
        env: 'SENTRY_RETRY_JITTER',
      },
    },
  },
  scrape: {
    issueMetrics: {
      doc: 'Export sentry_issues and sentry_open_issue_events.',
      format: 'boolean-word',
      default: true,
      env: 'SENTRY_SCRAPE_ISSUE_METRICS',
    },
    eventMetrics: {
      doc: 'Export sentry_events_total.',
      format: 'boolean-word',
      default: true,
      env: 'SENTRY_SCRAPE_EVENT_METRICS',
    },
    outcomeMetrics: {
      doc: 'Export sentry_outcomes_total, sentry_outcome_bytes_total and sentry_outcome_seconds_total.',
      format: 'boolean-word',
      default: true,
      env: 'SENTRY_SCRAPE_OUTCOME_METRICS',
    },
    rateLimitMetrics: {
      doc: 'Export sentry_rate_limit_events_sec.',
      format: 'boolean-word',
      default: false,
      env: 'SENTRY_SCRAPE_RATE_LIMIT_METRICS',
    },
    monitorMetrics: {
      doc: 'Export the sentry_monitor_* families of cron monitors (token scope org:read or alerts:read).',
      format: 'boolean-word',
      default: true,
      env: 'SENTRY_SCRAPE_MONITOR_METRICS',
    },
    releaseHealthMetrics: {
      doc: 'Export release health: sentry_sessions_total and the crash-free session and user ratios.',
      format: 'boolean-word',
      default: true,
      env: 'SENTRY_SCRAPE_RELEASE_HEALTH_METRICS',
    },
    releaseHealthReleases: {
      doc: 'Crash-free ratios per release for the N releases of each project with the most sessions in the last 24 hours; 0 turns them off.',
      format: 'non-negative-int',
      default: 0,
      env: 'SENTRY_RELEASE_HEALTH_RELEASES',
    },
    issues1h: {
      doc: 'Export the le="1h" bucket of sentry_issues.',
      format: 'boolean-word',
      default: true,
      env: 'SENTRY_ISSUES_1H',
    },
    issues24h: {
      doc: 'Export the le="24h" bucket of sentry_issues.',
      format: 'boolean-word',
      default: true,
      env: 'SENTRY_ISSUES_24H',
    },
    issues14d: {
      doc: 'Export the le="+Inf" (14 days) bucket of sentry_issues.',
      format: 'boolean-word',
      default: true,
      env: 'SENTRY_ISSUES_14D',
    },
    openIssuesMax: {
      doc: 'Most sentry_open_issue_events series (newest first); the rest are dropped and counted.',
      format: 'positive-int',
      default: 1000,
      env: 'SENTRY_OPEN_ISSUES_MAX',
    },
    legacyMetrics: {
      doc: 'Export the gauge-histogram sentry_issues with le="1h"/"24h" (what the Python exporter wrote).',
      format: 'boolean-word',
      default: true,
      env: 'SENTRY_EXPORTER_LEGACY_METRICS',
    },
  },
  schedule: {
    pollInterval: {
      doc: 'Seconds between collection cycles.',
      format: 'positive-number',
      default: 60,
      env: 'SENTRY_POLL_INTERVAL',
    },
    metadataInterval: {
      doc: 'Seconds between refreshes of projects, environments, client keys and issue releases.',
      format: 'positive-number',
      default: 600,
      env: 'SENTRY_METADATA_INTERVAL',
    },
    outcomesInterval: {
      doc: 'Seconds between refreshes of the outcome families and sentry_events_total; 0 means SENTRY_POLL_INTERVAL.',
      format: 'non-negative-number',
      default: 0,
      env: 'SENTRY_OUTCOMES_INTERVAL',
    },
    releaseHealthInterval: {
      doc: 'Seconds between refreshes of the release health metrics (Sentry aggregates sessions, they are not real-time).',
      format: 'positive-number',
      default: 300,
      env: 'SENTRY_RELEASE_HEALTH_INTERVAL',
    },
    readyMaxAge: {
      doc: 'Seconds after which /healthz reports the data as stale; 0 means 3 × SENTRY_POLL_INTERVAL.',
      format: 'non-negative-number',
      default: 0,
      env: 'SENTRY_READY_MAX_AGE',
    },
    cycleDeadline: {
      doc: 'Seconds after which a running cycle is abandoned; 0 means max(10 × SENTRY_POLL_INTERVAL, 300).',
      format: 'non-negative-number',
      default: 0,
      env: 'SENTRY_CYCLE_DEADLINE',
    },
  },
  http: {
    host: {
      doc: 'Address to listen on.',
      format: String,
      default: '0.0.0.0',
      env: 'SENTRY_EXPORTER_HOST',
    },
    port: {
      doc: 'Port to listen on (the Python exporter used 9790).',
      format: 'tcp-port',
      default: 9790,
      env: 'SENTRY_EXPORTER_PORT',
    },
    basicAuth: {
      enabled: {
        doc: 'Require HTTP basic auth on /metrics and /.',
        format: 'boolean-word',
        default: false,
        env: 'SENTRY_EXPORTER_BASIC_AUTH',
      },
      user: {
        doc: 'Basic auth user name.',
        format: String,
        default: 'prometheus',
        env: 'SENTRY_EXPORTER_BASIC_AUTH_USER',
      },
      pass: {
        doc: 'Basic auth password.',
        format: String,
        default: 'prometheus',
        env: 'SENTRY_EXPORTER_BASIC_AUTH_PASS',
        sensitive: true,
      },
    },
    webConfigFile: {
      doc: 'Prometheus exporter-toolkit web config file (TLS, bcrypt users, headers); also --web.config.file.',
      format: String,
      default: '',
      env: 'SENTRY_EXPORTER_WEB_CONFIG',
    },
  },
  logLevel: {
    doc: 'Log level: trace, debug, info, warn, error, fatal, silent (Python names like WARNING work too).',
    format: 'log-level',
    default: 'info',
    env: 'LOG_LEVEL',
  },
};

export type Schema = typeof schema;

export function createConvict(env: NodeJS.ProcessEnv): convict.Config<Record<string, unknown>> {
  // convict's typings cannot follow custom format names; the loader checks the result's shape itself.
  return convict(schema as unknown as convict.Schema<Record<string, unknown>>, { env, args: [] });
}

/** Every schema leaf as `{ path, env, doc, default }`, for error messages and the README table. */
export interface SettingInfo {
  path: string;
  env: string;
  doc: string;
  default: unknown;
  sensitive: boolean;
  /** When the setting must be given: `always`, or a condition such as `this or SENTRY_AUTH_TOKEN_FILE`. */
  required: string | undefined;
}

export function listSettings(): SettingInfo[] {
  const out: SettingInfo[] = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [key, value] of Object.entries(node)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      const leaf = value as {
        env?: string;
        doc?: string;
        default?: unknown;
        sensitive?: boolean;
        required?: string;
      };
      if (typeof leaf.env === 'string') {
        out.push({
          path,
          env: leaf.env,
          doc: leaf.doc ?? '',
          default: leaf.default,
          sensitive: leaf.sensitive === true,
          required: leaf.required,
        });
      } else {
        walk(value as Record<string, unknown>, path);
      }
    }
  };
  walk(schema as unknown as Record<string, unknown>, '');
  return out;
}
