/**
 * SENTRY_AUTH_TOKEN_FILE is watched: a Kubernetes Secret rotated by kubelet (a new `..<timestamp>` directory,
 * then the `..data` symlink swapped to it in one rename) and a file rewritten in place are both picked up,
 * a half-written or vanished file keeps the token read before, and the token never reaches the log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TokenFile, fixedToken } from '../../src/config/token-file.js';
import { memoryLogger } from '../helpers/exporter.js';
import { SecretVolume } from '../helpers/secret-volume.js';
import { logRecords, waitUntil } from '../hardening/helpers.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'token-file-'));
  dirs.push(dir);
  return dir;
}

const OLD = 'sntrys_oldQ7vX2mLw9Rz4TnK8bY6hJ3pD5sF1gC0aE';
const NEW = 'sntrys_newB3kW8pT1xZ6cV9mN4qR7sL2dF5gH0jK';

test('a kubelet-style rotation (..data symlink swap) is noticed through the directory watch', async () => {
  const volume = new SecretVolume(tempDir());
  volume.create(OLD);
  const { logger, lines } = memoryLogger();
  let reloads = 0;
  // A poll interval of an hour: only the watch can notice the swap within the test.
  const tokens = new TokenFile(volume.path, {
    initial: OLD,
    logger,
    onReload: () => reloads++,
    checkIntervalMs: 3_600_000,
  });
  try {
    assert.equal(tokens.current(), OLD);
    volume.rotate(NEW);
    await waitUntil('the new token', () => tokens.current() === NEW, 5000);
    assert.equal(reloads, 1);
    const info = logRecords(lines()).filter((r) => r.msg.startsWith('SENTRY_AUTH_TOKEN_FILE changed'));
    assert.equal(info.length, 1);
    assert.equal(info[0]?.file, volume.path);
    assert.ok(!lines().includes(OLD) && !lines().includes(NEW), 'no token in the log');
    assert.deepEqual(tokens.secrets(), [OLD, NEW]);
  } finally {
    tokens.close();
  }
});

test('a rewrite in place with the same length is noticed by reading the content', () => {
  const path = join(tempDir(), 'token');
  writeFileSync(path, `${OLD}\n`);
  const { logger } = memoryLogger();
  let reloads = 0;
  const tokens = new TokenFile(path, { initial: OLD, logger, onReload: () => reloads++, checkIntervalMs: 0 });
  try {
    assert.equal(tokens.current(), OLD);
    assert.equal(reloads, 0, 'the final newline the start-up read trimmed is no change');
    const same = NEW.slice(0, OLD.length).padEnd(OLD.length, 'x');
    assert.equal(same.length, OLD.length);
    writeFileSync(path, `${same}\n`);
    assert.equal(tokens.current(), same);
    assert.equal(reloads, 1);
  } finally {
    tokens.close();
  }
});

test('a symlink into another directory (no watch event) is noticed by the periodic read', async () => {
  const elsewhere = join(tempDir(), 'real-token');
  writeFileSync(elsewhere, OLD);
  const path = join(tempDir(), 'token');
  symlinkSync(elsewhere, path);
  const { logger } = memoryLogger();
  const tokens = new TokenFile(path, { initial: OLD, logger, checkIntervalMs: 50 });
  try {
    writeFileSync(elsewhere, NEW);
    await waitUntil('the new token', () => tokens.current() === NEW, 5000);
  } finally {
    tokens.close();
  }
});

test('an empty, vanished or unreadable file keeps the previous token and is logged once', () => {
  const path = join(tempDir(), 'token');
  writeFileSync(path, OLD);
  const { logger, lines } = memoryLogger();
  let reloads = 0;
  const tokens = new TokenFile(path, { initial: OLD, logger, onReload: () => reloads++, checkIntervalMs: 0 });
  try {
    writeFileSync(path, ''); // a writer between truncating and writing
    assert.equal(tokens.current(), OLD);
    assert.equal(tokens.current(), OLD);
    unlinkSync(path);
    assert.equal(tokens.current(), OLD);
    assert.equal(tokens.current(), OLD);
    const warnings = logRecords(lines()).filter((r) => r.level === 40);
    assert.deepEqual(
      warnings.map((w) => w.problem),
      ['the file is empty', 'cannot read it (ENOENT)'],
      'one line per distinct problem',
    );
    writeFileSync(path, OLD);
    assert.equal(tokens.current(), OLD, 'the file is back as it was');
    writeFileSync(path, '');
    assert.equal(tokens.current(), OLD);
    writeFileSync(path, NEW);
    assert.equal(tokens.current(), NEW);
    assert.equal(reloads, 1);
    writeFileSync(path, '');
    assert.equal(tokens.current(), NEW);
    assert.equal(
      logRecords(lines()).filter((r) => r.level === 40).length,
      4,
      'a problem after a good read is logged again',
    );
    assert.ok(!lines().includes(OLD) && !lines().includes(NEW), 'neither token appears in the log');
  } finally {
    tokens.close();
  }
});

test('a 401 reads the file at once, whatever the interval, and says what it found', () => {
  const path = join(tempDir(), 'token');
  writeFileSync(path, OLD);
  const { logger } = memoryLogger();
  const tokens = new TokenFile(path, { initial: OLD, logger, checkIntervalMs: 3_600_000 });
  try {
    assert.equal(tokens.refused(OLD), false, 'the file still holds the refused token');
    assert.match(
      tokens.refusalNote() ?? '',
      /was read again and still holds the token the exporter started with/,
    );
    writeFileSync(path, NEW);
    assert.equal(tokens.refused(OLD), true, 'a new token is worth one more try');
    assert.equal(tokens.current(), NEW);
    assert.equal(tokens.refused(NEW), false);
    assert.match(
      tokens.refusalNote() ?? '',
      /reloaded from SENTRY_AUTH_TOKEN_FILE .* \(reload 1\) and Sentry refuses that one too/,
    );
    assert.ok(!(tokens.refusalNote() ?? '').includes(NEW), 'the refusal note does not contain the new token');
  } finally {
    tokens.close();
  }
});

test('SENTRY_AUTH_TOKEN is fixed: a 401 has nothing to reload', () => {
  const tokens = fixedToken(OLD);
  assert.equal(tokens.current(), OLD);
  assert.equal(tokens.refused(OLD), false);
  assert.equal(tokens.refusalNote(), undefined);
  assert.deepEqual(tokens.secrets(), [OLD]);
});
