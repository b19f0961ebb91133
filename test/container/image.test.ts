/**
 * The image a user builds with `npm run image`. Where podman is present (and the test runs as root, as
 * podman builds on a CI machine do), test/container/smoke.sh builds it and runs it against the simulator:
 * Node.js 24, a non-root process, /healthz 200, every family, exit 0 within 5 s of SIGTERM. Elsewhere that
 * test is skipped with a line saying so: `.ci/run` does not install podman (CI machines may not run
 * containers), so CI=true does not turn the skip into a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onPath } from '../helpers/tools.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const script = path.join(repo, 'deploy/build-image.sh');

test('npm run image says what it needs when neither a Docker engine nor podman is usable', (t) => {
  // A PATH with node and the shell tools the script uses, and the docker client when this machine has one
  // (without a running engine it must not count), but no podman.
  const bin = mkdtempSync(path.join(tmpdir(), 'image-path-'));
  t.after(() => rmSync(bin, { recursive: true, force: true }));
  for (const command of ['bash', 'dirname', 'docker']) {
    const found = onPath(command);
    if (found) symlinkSync(found, path.join(bin, command));
  }
  symlinkSync(process.execPath, path.join(bin, 'node'));
  const dockerWorks = onPath('docker') !== undefined && spawnSync('docker', ['info']).status === 0;
  if (dockerWorks) {
    t.skip('a Docker engine answers here, so the script would build with it');
    return;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin };
  delete env.CONTAINER_ENGINE;
  const r = spawnSync(path.join(bin, 'bash'), [script], { cwd: repo, env, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /needs docker \(with a running Docker engine\) or podman; neither is usable here/);
});

const skip =
  onPath('podman') === undefined
    ? 'needs podman (apt-get install podman): builds and runs the image only where podman is present; .ci/run does not install it'
    : process.getuid?.() !== 0
      ? 'needs root to build the image with podman (sudo bash test/container/smoke.sh runs the same)'
      : false;

test(
  'the image builds with npm run image, runs Node.js 24 as non-root, answers /healthz and exits 0 on SIGTERM',
  { skip, timeout: 20 * 60_000 },
  async (t) => {
    // A tag of its own, so two runs at once never remove each other's image.
    const image = `localhost/sentry-prometheus-exporter:smoke-${process.pid}`;
    const child = spawn('bash', [path.join(repo, 'test/container/smoke.sh')], {
      env: { ...process.env, IMAGE: image },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, out.slice(-4000));
    const summary = /\[smoke\] summary: (.*)/.exec(out);
    assert.ok(summary, out.slice(-2000));
    t.diagnostic(summary[1]!);
    assert.match(summary[1]!, /Node\.js v24\./);
    assert.match(summary[1]!, /SIGTERM: exit 0 after/);
    assert.doesNotMatch(summary[1]!, /uid 0\b/);
  },
);
