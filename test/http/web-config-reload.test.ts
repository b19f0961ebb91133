/**
 * The web config's `basic_auth_users` and headers follow the file while the exporter runs, as in
 * exporter-toolkit (which reads the file for every request): a Secret rotated by kubelet or a file rewritten
 * in place takes effect on the next requests, a file that no longer parses keeps the settings read before,
 * and a change that needs a restart (turning bcrypt authentication off) is logged and not applied.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { createHttpServer } from '../../src/http/server.js';
import { logRecords, waitUntil } from '../hardening/helpers.js';
import { SecretVolume } from '../helpers/secret-volume.js';
import { basic, makeDeps, request } from './helpers.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const hash = (password: string): string => bcrypt.hashSync(password, 4);

function webConfig(users: Record<string, string>, frame = 'deny'): string {
  const lines = ['http_server_config:', '  headers:', `    X-Frame-Options: ${frame}`];
  if (Object.keys(users).length > 0) {
    lines.push('basic_auth_users:');
    for (const [user, password] of Object.entries(users)) lines.push(`  ${user}: ${hash(password)}`);
  }
  return `${lines.join('\n')}\n`;
}

async function status(url: string, user: string, password: string): Promise<number> {
  return (await request(`${url}/metrics`, { headers: { authorization: basic(user, password) } })).status;
}

test('a web config rewritten in place: new users and headers apply, a broken file keeps the last good one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'web-config-'));
  dirs.push(dir);
  const file = join(dir, 'web.yml');
  writeFileSync(file, webConfig({ alice: 'alice-pass-1' }));
  const t = makeDeps({ webConfigFile: file });
  const srv = await createHttpServer(t.deps);
  const url = await srv.listen();
  try {
    assert.equal(await status(url, 'alice', 'alice-pass-1'), 200);
    const first = await request(`${url}/metrics`, {
      headers: { authorization: basic('alice', 'alice-pass-1') },
    });
    assert.equal(first.headers['x-frame-options'], 'deny');

    writeFileSync(file, webConfig({ bob: 'bob-pass-2' }, 'sameorigin'));
    await waitUntil('bob is accepted', async () => (await status(url, 'bob', 'bob-pass-2')) === 200, 5000);
    assert.equal(
      await status(url, 'alice', 'alice-pass-1'),
      401,
      'the user removed from the file is refused',
    );
    const after = await request(`${url}/metrics`, { headers: { authorization: basic('bob', 'bob-pass-2') } });
    assert.equal(after.headers['x-frame-options'], 'sameorigin');

    writeFileSync(file, 'basic_auth_users: [not, a, mapping\n');
    // The file is read again on requests (at most once a second), as the toolkit reads it per request.
    const logged = async (msg: string): Promise<boolean> => {
      await status(url, 'bob', 'bob-pass-2');
      return logRecords(t.logs()).some((r) => r.msg.startsWith(msg));
    };
    await waitUntil(
      'the broken file is reported',
      () => logged('web config file changed but cannot be used'),
      5000,
    );
    assert.equal(await status(url, 'bob', 'bob-pass-2'), 200, 'the last good users stay');

    writeFileSync(file, webConfig({}));
    await waitUntil(
      'the restart warning',
      () => logged('web config changes that take effect only after a restart'),
      5000,
    );
    assert.equal(
      await status(url, 'bob', 'bob-pass-2'),
      200,
      'authentication is not turned off while running',
    );
    assert.equal(await status(url, 'mallory', 'x'), 401);
    for (const secret of ['alice-pass-1', 'bob-pass-2'])
      assert.ok(!t.logs().includes(secret), `the log does not contain the password ${secret}`);
  } finally {
    await srv.close();
  }
});

test('a web config in a Secret volume: the kubelet swap of ..data brings the new users', async () => {
  const volume = new SecretVolume(mkdtempSync(join(tmpdir(), 'web-secret-')), 'web.yml');
  dirs.push(volume.dir);
  volume.create(webConfig({ alice: 'alice-pass-1' }));
  const t = makeDeps({ webConfigFile: volume.path });
  const srv = await createHttpServer(t.deps);
  const url = await srv.listen();
  try {
    assert.equal(await status(url, 'alice', 'alice-pass-1'), 200);
    volume.rotate(webConfig({ alice: 'alice-pass-2' }));
    await waitUntil(
      'the new password',
      async () => (await status(url, 'alice', 'alice-pass-2')) === 200,
      5000,
    );
    assert.equal(await status(url, 'alice', 'alice-pass-1'), 401);
  } finally {
    await srv.close();
  }
});
