/** What /healthz answers, from the collectors' state alone (src/pipeline/readiness.ts), worked out by hand. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { publicReadiness, readinessOf } from '../../src/pipeline/readiness.js';

const NOW = Date.parse('2026-12-06T12:00:00Z');
const S = 1000;

test('before the project list is read: not ready, with the reason and the last error', () => {
  assert.deepEqual(readinessOf({ metadata: { name: 'metadata' }, metrics: [{ name: 'issues' }] }, 180, NOW), {
    ready: false,
    reason: 'the project list has not been read yet',
    collectors: { metadata: { state: 'not yet run' }, issues: { state: 'not yet run' } },
  });
  const refused = readinessOf(
    {
      metadata: {
        name: 'metadata',
        lastRunOk: false,
        lastDurationMs: 250,
        lastError: { message: 'HTTP 403', endpoint: '/organizations/{org}/projects/', status: 403 },
      },
      metrics: [{ name: 'issues' }],
    },
    180,
    NOW,
  );
  assert.equal(refused.ready, false);
  assert.equal(refused.reason, 'the project list has not been read yet: HTTP 403');
  assert.deepEqual(refused.collectors.metadata, {
    state: 'failing',
    lastDurationSeconds: 0.25,
    lastError: { message: 'HTTP 403', endpoint: '/organizations/{org}/projects/', status: 403 },
  });
});

test('the project list alone is not ready: no collector has published', () => {
  const r = readinessOf(
    { metadata: { name: 'metadata', lastSuccess: NOW - S, lastRunOk: true }, metrics: [{ name: 'issues' }] },
    180,
    NOW,
  );
  assert.equal(r.ready, false);
  assert.equal(r.reason, 'no collector has succeeded yet');
});

test('stale: every collector published longer ago than the limit; at the limit it is still fresh', () => {
  const state = (ageSeconds: number) => ({
    metadata: { name: 'metadata', lastSuccess: NOW - 5 * S, lastRunOk: true },
    metrics: [
      {
        name: 'issues',
        lastSuccess: NOW - ageSeconds * S,
        lastPublished: NOW - ageSeconds * S,
        lastRunOk: true,
      },
    ],
  });
  const atLimit = readinessOf(state(180), 180, NOW);
  assert.equal(atLimit.ready, true, 'published exactly 180 s ago, limit 180 s');
  assert.equal(atLimit.lastSuccess, (NOW - 180 * S) / 1000, 'the oldest fresh publish');
  const stale = readinessOf(state(181), 180, NOW);
  assert.equal(stale.ready, false);
  assert.equal(stale.reason, 'no fresh data: issues data is 181s old (max 180s)');
});

test('one of several collectors failing: still ready, the failure listed with its error', () => {
  const r = readinessOf(
    {
      metadata: { name: 'metadata', lastSuccess: NOW - 10 * S, lastRunOk: true },
      metrics: [
        { name: 'issues', lastSuccess: NOW - 2 * S, lastPublished: NOW - 2 * S, lastRunOk: true },
        { name: 'outcomes', lastRunOk: false, lastError: { message: 'stats_v2 answered HTTP 403' } },
      ],
    },
    180,
    NOW,
  );
  assert.equal(r.ready, true);
  assert.equal(r.lastSuccess, (NOW - 10 * S) / 1000, 'the project list is older than the issues: it counts');
  assert.deepEqual(r.collectors, {
    metadata: { state: 'ok', lastSuccess: (NOW - 10 * S) / 1000, lastSuccessAgeSeconds: 10 },
    issues: {
      state: 'ok',
      lastSuccess: (NOW - 2 * S) / 1000,
      lastSuccessAgeSeconds: 2,
      lastPublished: (NOW - 2 * S) / 1000,
    },
    outcomes: { state: 'failing', lastError: { message: 'stats_v2 answered HTTP 403' } },
  });
});

test('a collector that failed after a success keeps its last success, and its error shows', () => {
  const r = readinessOf(
    {
      metadata: { name: 'metadata', lastSuccess: NOW - S, lastRunOk: true },
      metrics: [
        {
          name: 'issues',
          lastSuccess: NOW - 100 * S,
          lastPublished: NOW - 100 * S,
          lastRunOk: false,
          lastError: { message: 'timeout' },
        },
      ],
    },
    180,
    NOW,
  );
  assert.equal(r.ready, true, 'its values are 100 s old, within 180 s');
  assert.deepEqual(r.collectors.issues, {
    state: 'failing',
    lastSuccess: (NOW - 100 * S) / 1000,
    lastSuccessAgeSeconds: 100,
    lastPublished: (NOW - 100 * S) / 1000,
    lastError: { message: 'timeout' },
  });
});

test('without credentials /healthz tells only the verdict and the states, none of the errors', () => {
  const full = readinessOf(
    {
      metadata: {
        name: 'metadata',
        lastRunOk: false,
        lastError: {
          message: 'https://sentry.example.com/api/0/organizations/acme/projects/ answered HTTP 403',
        },
      },
      metrics: [{ name: 'issues' }],
    },
    180,
    NOW,
  );
  assert.deepEqual(publicReadiness(full), {
    ready: false,
    reason: 'the project list has not been read yet',
    collectors: { metadata: { state: 'failing' }, issues: { state: 'not yet run' } },
  });
});
