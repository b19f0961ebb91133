/**
 * An answer that is small in bytes but huge in items: ten megabytes of `[[],[],…]` (3.5 million empty
 * arrays, valid JSON) on the issues endpoint, every cycle. `JSON.parse` of it alone builds about 250 MB of
 * arrays, and a chart's memory limit is 256 MiB. The exporter must refuse it unread (it counts the items
 * first: Sentry sends at most 100 a page), fail the issues collector with a clear error, keep its peak
 * memory under 200 MB, and recover once the answers are normal again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import type { HealthBody } from '../helpers/exporter.js';
import { peakRss, scrapeRows, spawnBuilt, valueOf, waitUntil } from './helpers.js';

const ISSUES = '/organizations/{org}/issues/';
const MB = 1024 * 1024;

async function health(url: string): Promise<HealthBody> {
  return (await (await fetch(`${url}/healthz`)).json()) as HealthBody;
}

async function issueErrors(url: string): Promise<number> {
  return (
    valueOf(await scrapeRows(url), 'sentry_exporter_collection_errors_total', { collector: 'issues' }) ?? 0
  );
}

test('ten megabytes of empty arrays on the issues endpoint: refused unread, peak RSS under 200 MB, then recovery', async (t) => {
  const sim = await startSimulator({
    seed: 91,
    projects: 4,
    environmentsPerProject: 2,
    issuesPerProject: 60,
  });
  const child = await spawnBuilt({
    SENTRY_BASE_URL: sim.url,
    SENTRY_AUTH_TOKEN: sim.token,
    SENTRY_EXPORTER_ORG: sim.org,
    SENTRY_POLL_INTERVAL: '2',
    SENTRY_API_RATE: '40',
  });
  const mb = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${Math.round(bytes / MB)} MB`);
  try {
    await waitUntil(
      'a first good cycle',
      async () => (await health(child.url)).collectors['issues']?.state === 'ok',
      60_000,
    );
    const healthy = peakRss(child.pid);

    /** Lets the issues collector fail `runs` times on `items` empty arrays; the peak RSS by then. */
    const hostile = async (items: number, runs: number) => {
      const before = await issueErrors(child.url);
      sim.setFaults({ tinyItems: items, endpoints: [ISSUES] });
      await waitUntil(
        `${runs} failed issues runs on ${items} empty arrays`,
        async () => (await issueErrors(child.url)) >= before + runs,
        120_000,
      );
      const body = await health(child.url);
      const issues = body.collectors['issues'];
      assert.equal(issues?.state, 'failing');
      assert.equal(issues?.lastError?.endpoint, ISSUES);
      assert.match(
        issues?.lastError?.message ?? '',
        /^Unexpected response from Sentry http:\/\/127\.0\.0\.1:\d+\/api\/0\/organizations\/acme\/issues\/: the answer holds more than 300 items \(Sentry sends at most 100 a page\); refused after reading \d+ bytes/,
      );
      // The other collectors are not held back.
      for (const name of ['monitors', 'outcomes'])
        assert.equal(body.collectors[name]?.state, 'ok', `${name} ${JSON.stringify(body.collectors[name])}`);
      assert.equal(valueOf(await scrapeRows(child.url), 'sentry_exporter_up'), 0);
      const peak = peakRss(child.pid);

      sim.setFaults({});
      const cleared = Date.now();
      await waitUntil(
        'the issues collector to succeed again',
        async () => (await health(child.url)).collectors['issues']?.state === 'ok',
        60_000,
      );
      return { peak, recovery: (Date.now() - cleared) / 1000 };
    };

    const tenMb = await hostile(3_500_000, 3);
    const sixtyMb = await hostile(20_000_000, 2);
    const figures = `peak RSS through a healthy cycle ${mb(healthy)}; through 3 runs on 10 MB of [[],…] ${mb(tenMb.peak)} (recovered ${tenMb.recovery.toFixed(1)} s after the answers were normal again); through 2 runs on 60 MB of it ${mb(sixtyMb.peak)} (recovered in ${sixtyMb.recovery.toFixed(1)} s)`;
    t.diagnostic(figures);
    if (tenMb.peak !== undefined) assert.ok(tenMb.peak < 200 * MB, figures);
  } finally {
    await child.stop();
    await sim.close();
  }
});
