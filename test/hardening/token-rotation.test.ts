/**
 * The token is rotated while the exporter runs, and the old one is revoked: through a Kubernetes Secret
 * (kubelet swaps the `..data` symlink of the mounted directory) and by rewriting the file in place. Fresh
 * data follows within two cycles without a restart; a 401 re-reads the file before giving up, and says in
 * the log what it found; no token ever reaches the log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Exporter } from '../../src/app.js';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { startExporterAgainst } from '../helpers/exporter.js';
import { SecretVolume } from '../helpers/secret-volume.js';
import { expectedNumbers, exportedNumbers } from '../helpers/truth.js';
import { logRecords, selfValue } from './helpers.js';

const T1 = 'sntrys_rotA9kQ2mX7vB4nP8wL3cZ6tR1yH5dF0gJ';
const T2 = 'sntrys_rotB3hW8pK1xZ6cV9mN4qR7sL2dF5gT0jY';
const T3 = 'sntrys_rotC7nE2vJ9bQ4wX1kM6pL3tZ8hR5dG0fS';
const UNKNOWN = 'sntrys_rotD1cF6gH2jK7lM3nP8qR4sT9vW5xY0zB';
const TOKENS = [T1, T2, T3, UNKNOWN];

const FAILED = 'collector failed; keeping its last good values';

/** Runs cycles until one fails nothing (at most `max`); returns how many it took. */
async function cyclesUntilFresh(exporter: Exporter, sim: SentrySimulator, max: number): Promise<number> {
  for (let n = 1; n <= max; n++) {
    const report = await exporter.collection.runCycle();
    if (report.failed.length === 0) {
      assert.deepEqual(exportedNumbers(exporter.snapshot.sentryText), expectedNumbers(sim.truth()));
      return n;
    }
  }
  throw new Error(`no fresh data within ${max} cycles`);
}

test('token rotation through the Secret volume and in place, old tokens revoked: fresh data without a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'secret-'));
  const volume = new SecretVolume(dir);
  volume.create(T1);
  const sim = await startSimulator({ seed: 41, projects: 4, environmentsPerProject: 2, token: T1 });
  const { exporter, logs } = await startExporterAgainst(sim, {
    SENTRY_AUTH_TOKEN: '',
    SENTRY_AUTH_TOKEN_FILE: volume.path,
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_METADATA_INTERVAL: '3600',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
    SENTRY_API_RATE: '40',
  });
  try {
    assert.equal(await cyclesUntilFresh(exporter, sim, 1), 1);
    assert.equal(await selfValue(exporter, 'sentry_exporter_token_reloads_total'), 0);

    // 1. The usual order: Sentry knows the new token, the Secret changes, then the old token is revoked.
    sim.acceptTokens([T1, T2]);
    volume.rotate(T2);
    sim.acceptTokens([T2]);
    const rotated = await cyclesUntilFresh(exporter, sim, 2);
    assert.equal(await selfValue(exporter, 'sentry_exporter_token_reloads_total'), 1);

    // 2. The old token is revoked before kubelet updates the volume: that cycle fails with 401, and says
    // the file was read again and holds the token reloaded before; once the volume changes, the next
    // cycle is fresh.
    sim.resetCounters();
    let cut = logs().length;
    sim.acceptTokens([T3]);
    const refused = await exporter.collection.runCycle();
    assert.ok(refused.failed.length > 0, 'the cycle with a revoked token fails');
    assert.equal(sim.counters().byStatus['401'], sim.counters().total, 'every request of it got 401');
    const early = logRecords(logs().slice(cut)).filter((r) => r.msg === FAILED);
    assert.ok(early.length > 0, 'the refused cycle is logged');
    for (const line of early) {
      const err = line.error as { status: number; message: string };
      assert.equal(err.status, 401);
      assert.match(
        err.message,
        /the token was reloaded from SENTRY_AUTH_TOKEN_FILE .* \(reload 1\) and Sentry refuses that one too/,
      );
    }
    volume.rotate(T3);
    assert.equal(await cyclesUntilFresh(exporter, sim, 2), 1);
    assert.equal(await selfValue(exporter, 'sentry_exporter_token_reloads_total'), 2);

    // 3. The Secret gets a token Sentry does not know: the 401 says the token was reloaded and refused.
    cut = logs().length;
    volume.rotate(UNKNOWN);
    const unknown = await exporter.collection.runCycle();
    assert.ok(unknown.failed.length > 0, 'the cycle with an unknown token fails');
    const refusedAfterReload = logRecords(logs().slice(cut)).filter((r) => r.msg === FAILED);
    assert.ok(refusedAfterReload.length > 0, 'the cycle refused after the reload is logged');
    for (const line of refusedAfterReload) {
      assert.match(
        (line.error as { message: string }).message,
        /the token was reloaded from SENTRY_AUTH_TOKEN_FILE .* \(reload 3\) and Sentry refuses that one too/,
      );
    }
    assert.equal(await selfValue(exporter, 'sentry_exporter_token_reloads_total'), 3);

    for (const token of TOKENS) assert.ok(!logs().includes(token), 'no token in the log');
    t.diagnostic(`rotation through the volume: fresh data in cycle ${rotated} after the swap`);
  } finally {
    await exporter.stop();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a token file rewritten in place, the old token revoked at once: the next cycle is fresh', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'token-'));
  const path = join(dir, 'token');
  writeFileSync(path, `${T1}\n`);
  const sim = await startSimulator({ seed: 42, projects: 3, environmentsPerProject: 2, token: T1 });
  const { exporter, logs } = await startExporterAgainst(sim, {
    SENTRY_AUTH_TOKEN: '',
    SENTRY_AUTH_TOKEN_FILE: path,
    SENTRY_POLL_INTERVAL: '3600',
    SENTRY_METADATA_INTERVAL: '3600',
    SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
    SENTRY_API_RATE: '40',
  });
  try {
    assert.equal(await cyclesUntilFresh(exporter, sim, 1), 1);
    writeFileSync(path, `${T2}\n`);
    sim.acceptTokens([T2]);
    assert.ok(
      (await cyclesUntilFresh(exporter, sim, 2)) <= 2,
      'the token written in place gives fresh data within 2 cycles',
    );
    assert.equal(await selfValue(exporter, 'sentry_exporter_token_reloads_total'), 1);
    for (const token of TOKENS) assert.ok(!logs().includes(token), 'no token in the log');
  } finally {
    await exporter.stop();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
