/**
 * The one list of collectors (src/collectors/index.ts): which collectors a configuration turns on, and the
 * Python exporter's label spellings (src/collectors/compat.ts) they all share.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { pyDate, pyStr } from '../../src/collectors/compat.js';
import { createCollectors } from '../../src/collectors/index.js';
import { loadExporterConfig as loadConfig } from '../../src/collectors/index.js';
import { createSentryClient } from '../../src/sentry/client.js';

function names(env: NodeJS.ProcessEnv): string[] {
  const config = loadConfig({
    env: {
      SENTRY_BASE_URL: 'http://127.0.0.1:9/api/0/',
      SENTRY_AUTH_TOKEN: 'sntrys_index_test',
      SENTRY_EXPORTER_ORG: 'acme',
      ...env,
    },
  });
  const logger = pino({ level: 'silent' });
  const client = createSentryClient({ ...config.sentry, timeout: 5, logger });
  const { metadata, metrics } = createCollectors(config, client, logger);
  void client.close();
  return [metadata.name, ...metrics.map((c) => c.name)];
}

test('each SENTRY_SCRAPE_*_METRICS setting turns its collector on or off; outcomes serve two of them', () => {
  const all = names({
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'true',
    SENTRY_SCRAPE_MONITOR_METRICS: 'true',
    SENTRY_SCRAPE_RELEASE_HEALTH_METRICS: 'true',
  });
  assert.deepEqual(all, [
    'metadata',
    'issues',
    'outcomes',
    'quota',
    'rate_limits',
    'monitors',
    'release_health',
  ]);
  const off = {
    SENTRY_SCRAPE_ISSUE_METRICS: 'false',
    SENTRY_SCRAPE_QUOTA_METRICS: 'false',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'false',
    SENTRY_SCRAPE_MONITOR_METRICS: 'false',
    SENTRY_SCRAPE_RELEASE_HEALTH_METRICS: 'false',
  };
  // sentry_events_total and sentry_outcomes_total come from the same collector: either keeps it.
  assert.deepEqual(
    names({ ...off, SENTRY_SCRAPE_EVENT_METRICS: 'true', SENTRY_SCRAPE_OUTCOME_METRICS: 'false' }),
    ['metadata', 'outcomes'],
  );
  assert.deepEqual(
    names({ ...off, SENTRY_SCRAPE_EVENT_METRICS: 'false', SENTRY_SCRAPE_OUTCOME_METRICS: 'true' }),
    ['metadata', 'outcomes'],
  );
  assert.deepEqual(
    names({ ...off, SENTRY_SCRAPE_EVENT_METRICS: 'false', SENTRY_SCRAPE_OUTCOME_METRICS: 'false' }),
    ['metadata'],
  );
  assert.deepEqual(
    names({
      ...off,
      SENTRY_SCRAPE_EVENT_METRICS: 'false',
      SENTRY_SCRAPE_OUTCOME_METRICS: 'false',
      SENTRY_SCRAPE_QUOTA_METRICS: 'true',
    }),
    ['metadata', 'quota'],
  );
});

test('label spellings of the Python exporter: None for a missing value, YYYY-MM-DD dates, now for none', () => {
  assert.equal(pyStr(null), 'None');
  assert.equal(pyStr(undefined), 'None');
  assert.equal(pyStr(''), '');
  assert.equal(pyStr('javascript'), 'javascript');
  const now = new Date('2026-11-25T13:00:00Z');
  assert.equal(pyDate('2024-05-01T23:59:59Z', now), '2024-05-01');
  assert.equal(pyDate(null, now), '2026-11-25');
  assert.equal(pyDate('not a date', now), '2026-11-25');
});
