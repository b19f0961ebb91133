/**
 * Credentials in SENTRY_BASE_URL (`http://user:pass@proxy/api/0/`, for a proxy in front of Sentry) are
 * never written out: not in the start-up line, not in the hints of a failing first call, not in a
 * configuration error, not in anything the exporter answers. The URL is shown with `***` in their place.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import { ROOT, logRecords, spawnExporterChild, waitUntil } from './helpers.js';

const PROXY_USER = 'proxyuserK3v9';
const PROXY_PASS = 'proxypassW7q2Zr5Xt8';

function assertClean(where: string, text: string): void {
  assert.ok(!text.includes(PROXY_PASS), `${where} holds the proxy password`);
  assert.ok(!text.includes(PROXY_USER), `${where} holds the proxy user`);
}

for (const c of [
  { what: 'a working base URL', path: '/api/0/' },
  { what: 'a base URL without /api/0/ (the first call fails with hints)', path: '/sentry/' },
]) {
  test(`userinfo in SENTRY_BASE_URL is never written out: ${c.what}`, async () => {
    const sim = await startSimulator({ seed: 98, projects: 2, environmentsPerProject: 1 });
    const base = new URL(sim.url);
    const url = `http://${PROXY_USER}:${PROXY_PASS}@${base.host}${c.path}`;
    const child = await spawnExporterChild({
      SENTRY_BASE_URL: url,
      SENTRY_AUTH_TOKEN: sim.token,
      SENTRY_EXPORTER_ORG: sim.org,
      SENTRY_API_RATE: '40',
      LOG_LEVEL: 'trace',
    });
    try {
      const listening = logRecords(child.output()).find(
        (r) => r.msg === 'sentry-prometheus-exporter listening',
      );
      assert.equal(listening?.sentry, `http://***@${base.host}${c.path}`);
      // Until the first run of the metadata collector has ended, well or not.
      await waitUntil('the first metadata run to end', async () => {
        const health = (await (await fetch(`${child.url}/healthz`)).json()) as {
          collectors: Record<string, { state: string }>;
        };
        return health.collectors['metadata']?.state !== 'not yet run';
      });
      const answers = await Promise.all(
        ['/healthz', '/metrics', '/', '/livez'].map(async (p) => (await fetch(`${child.url}${p}`)).text()),
      );
      answers.forEach((text, i) => assertClean(`answer ${i}`, text));
      if (c.path !== '/api/0/') {
        const failed = logRecords(child.output()).find((r) => r.msg.startsWith('collector failed'));
        const message = (failed?.error as { message?: string } | undefined)?.message ?? '';
        assert.match(message, /check SENTRY_BASE_URL first/, message);
        assert.ok(message.includes(`http://***@${base.host}`), message);
      }
    } finally {
      await child.stop();
      await sim.close();
    }
    assertClean('the output', child.output());
  });
}

test('an unparsable SENTRY_BASE_URL with userinfo: the configuration error shows it without', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      SENTRY_BASE_URL: `http://${PROXY_USER}:${PROXY_PASS}@proxy:notaport/api/0/`,
      SENTRY_AUTH_TOKEN: 'x',
      SENTRY_EXPORTER_ORG: 'acme',
    },
    encoding: 'utf8',
  });
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    /SENTRY_BASE_URL.*must be an http\(s\) URL.*"http:\/\/\*\*\*@proxy:notaport\/api\/0\/"/,
  );
  assertClean('stderr', `${r.stdout}${r.stderr}`);
});
