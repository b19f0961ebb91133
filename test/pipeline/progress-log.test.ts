/**
 * A first collection at Sentry's 3 requests a second says how far it is: 20 projects × 2 environments × 60
 * issues take about a minute (one request per open issue's release), and a line saying what is done and
 * what is left comes at least every 15 s from the tenth second on, until the cycle's own line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { logRecords } from '../hardening/helpers.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { waitUntil } from '../helpers/wait.js';

test('a first collection at 3 requests/s logs its progress at least every 15 s', async () => {
  const sim = await startSimulator({
    seed: 5,
    projects: 20,
    environmentsPerProject: 2,
    issuesPerProject: 60,
    rateLimit: { perSecond: 3, concurrent: 25 },
  });
  const { exporter, logs } = await startExporterAgainst(sim, { SENTRY_POLL_INTERVAL: '300' });
  const started = Date.now();
  try {
    await waitUntil(
      'the first cycle done',
      async () => logRecords(logs()).some((r) => r.msg.startsWith('collection cycle done')),
      180_000,
    );
    const records = logRecords(logs());
    const at = (r: { time: unknown }) => Number(r.time);
    const progress = records.filter((r) => r.msg === 'first collection in progress');
    const done = records.find((r) => r.msg.startsWith('collection cycle done'))!;
    const took = (at(done) - started) / 1000;
    assert.ok(took > 20, `the first cycle takes a while at 3 requests/s (${took.toFixed(1)} s)`);
    assert.ok(progress.length >= 2, `progress lines: ${progress.length}`);
    const times = [started + 10_000, ...progress.map(at), at(done)];
    const gaps = times.slice(1).map((t, i) => (t - times[i]!) / 1000);
    assert.ok(
      gaps.every((g) => g <= 15),
      `a line at least every 15 s from the tenth second: gaps ${gaps.map((g) => g.toFixed(1)).join(', ')}`,
    );
    assert.match(
      String(progress[0]!.progress),
      /issues running for \d+s \(\d+ requests, pages \d+/,
      'issues say their pages',
    );
    assert.ok(
      progress.some((r) => /releases \d+\/\d+/.test(String(r.progress))),
      'and the releases done of those to look up',
    );
  } finally {
    await exporter.stop();
    await sim.close();
  }
});
