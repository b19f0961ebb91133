/** The status page's rendering, by hand: ages, durations, a hostile error text, disabled collectors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { humanDuration, renderStatusPage, withoutCredentials } from '../../src/http/status-page.js';

test('durations read as people say them', () => {
  assert.equal(humanDuration(0.44), '0.4 s');
  assert.equal(humanDuration(9), '9 s');
  assert.equal(humanDuration(42.4), '42 s');
  assert.equal(humanDuration(60), '1 min');
  assert.equal(humanDuration(423), '7 min 3 s');
  assert.equal(humanDuration(7500), '2 h 5 min');
  assert.equal(humanDuration(7200), '2 h');
  assert.equal(humanDuration(273_600), '3 d 4 h');
  assert.equal(
    withoutCredentials('http://user:pass@proxy.local:8080/api/0/'),
    'http://proxy.local:8080/api/0/',
  );
});

test('every text from Sentry is escaped; failing, running and disabled collectors say so', () => {
  const now = Date.parse('2026-12-06T12:00:00Z');
  const html = renderStatusPage(
    { version: '9.9.9', org: 'acme<&>', sentryUrl: 'https://sentry.io/api/0/', startedAt: now - 90_000 },
    {
      readiness: { ready: false, reason: 'the project list has not been read yet: <script>', collectors: {} },
      collectors: [
        {
          name: 'metadata',
          interval: 600,
          state: 'failing',
          lastDurationSeconds: 0.25,
          requestsLastRun: 3,
          nextRunInSeconds: 4,
          lastError: {
            message: 'answered HTTP 403: <img src=x onerror=alert(1)>',
            endpoint: '/organizations/{org}/projects/',
            status: 403,
            detail: '"quoted" & <b>bold</b>',
          },
        },
        {
          name: 'issues',
          interval: 60,
          state: 'not yet run',
          running: { forSeconds: 25, requests: 14, progress: 'releases 40/240' },
        },
      ],
      disabled: ['performance'],
      requests: { rate: 3, concurrency: 2, total: 17, rateLimited: 1, retries: 2, rateLimits: [] },
      series: { sentry_issues: 30, sentry_events_total: 12 },
    },
    now,
  );
  assert.doesNotMatch(html, /<script>|<img|<b>bold/, 'no markup from Sentry reaches the page');
  assert.match(html, /Not ready: the project list has not been read yet: &#60;script&#62;/);
  assert.match(html, /<span class="failing">failing<\/span>/);
  assert.match(
    html,
    /<b>HTTP 403<\/b> <code>\/organizations\/\{org\}\/projects\/<\/code> Sentry: “&#34;quoted&#34; &#38; &#60;b&#62;bold&#60;\/b&#62;”/,
  );
  assert.match(html, /running 25 s<\/span> \(14 requests, releases 40\/240\)/);
  assert.match(html, /<code>performance<\/code><\/td><td><span class="disabled">disabled<\/span>/);
  assert.match(html, /17 requests, 1 answered 429 \(rate limited\), 2 retried/);
  assert.match(html, /self-hosted Sentry sends none/, 'no rate-limit headers seen');
  assert.match(html, /42 series in the exposition/);
  assert.match(html, /Up for<\/dt><dd>1 min 30 s<\/dd>/);
  assert.match(html, /<title>Sentry Prometheus Exporter: acme&#60;&#38;&#62;<\/title>/);
});
