import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { createHttpServer } from '../../src/http/server.js';
import type { HttpServer } from '../../src/http/server.js';
import { makePki } from './certs.js';
import type { TestPki } from './certs.js';
import { makeDeps, METRICS_TEXT, request } from './helpers.js';
import type { RequestOptions } from './helpers.js';

let pki: TestPki;
let configCount = 0;

before(async () => {
  pki = await makePki();
});
after(() => pki?.cleanup());

/** Writes a web config into the PKI directory and starts a server using it. */
async function startWith(
  yaml: string,
  certReloadIntervalMs?: number,
): Promise<{ srv: HttpServer; url: string }> {
  const file = join(pki.dir, `web-${++configCount}.yml`);
  writeFileSync(file, yaml);
  const t = makeDeps({ webConfigFile: file });
  const srv = await createHttpServer(t.deps, certReloadIntervalMs ? { certReloadIntervalMs } : {});
  return { srv, url: await srv.listen() };
}

function tlsSection(extra = ''): string {
  return `tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n${extra}`;
}

/** Resolves to the status, or to `rejected: <code>` when the TLS layer refused the client. */
async function outcome(url: string, options: RequestOptions): Promise<string> {
  try {
    const res = await request(`${url}/metrics`, options);
    return String(res.status);
  } catch (err) {
    return `rejected: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
}

test('TLS: scrapes over https with the CA; a client that does not trust the CA fails', async () => {
  const { srv, url } = await startWith(tlsSection());
  try {
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(srv.protocol, 'https');
    const res = await request(`${url}/metrics`, { ca: pki.caPem });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), METRICS_TEXT);
    assert.match(await outcome(url, {}), /^rejected/);
    // Plain HTTP on the TLS port does not get metrics.
    assert.match(await outcome(url.replace('https:', 'http:'), {}), /^(rejected|400)/);
  } finally {
    await srv.close();
  }
});

test('mTLS RequireAndVerifyClientCert: no cert or an unknown cert is rejected, a CA-signed cert works', async () => {
  const { srv, url } = await startWith(
    tlsSection('  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n'),
  );
  try {
    assert.match(await outcome(url, { ca: pki.caPem }), /^rejected/);
    assert.match(await outcome(url, { ca: pki.caPem, ...pki.rogue }), /^rejected/);
    assert.equal(await outcome(url, { ca: pki.caPem, ...pki.client }), '200');
    // Health endpoints sit behind TLS client auth too (it is a connection-level policy).
    const health = await request(`${url}/livez`, { ca: pki.caPem, ...pki.client });
    assert.equal(health.status, 200);
  } finally {
    await srv.close();
  }
});

test('mTLS RequireAnyClientCert accepts any certificate but requires one', async () => {
  const { srv, url } = await startWith(tlsSection('  client_auth_type: RequireAnyClientCert\n'));
  try {
    assert.match(await outcome(url, { ca: pki.caPem }), /^rejected/);
    assert.equal(await outcome(url, { ca: pki.caPem, ...pki.rogue }), '200');
  } finally {
    await srv.close();
  }
});

test('mTLS VerifyClientCertIfGiven: none is fine, an untrusted one is not', async () => {
  const { srv, url } = await startWith(
    tlsSection('  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.pem\n'),
  );
  try {
    assert.equal(await outcome(url, { ca: pki.caPem }), '200');
    assert.equal(await outcome(url, { ca: pki.caPem, ...pki.client }), '200');
    assert.match(await outcome(url, { ca: pki.caPem, ...pki.rogue }), /^rejected/);
  } finally {
    await srv.close();
  }
});

test('client_allowed_sans: a verified cert without an allowed SAN is rejected', async () => {
  const base = '  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n';
  const good = await startWith(
    tlsSection(`${base}  client_allowed_sans: [other.example, scraper.example]\n`),
  );
  const bad = await startWith(tlsSection(`${base}  client_allowed_sans: [other.example]\n`));
  try {
    assert.equal(await outcome(good.url, { ca: pki.caPem, ...pki.client }), '200');
    assert.match(await outcome(bad.url, { ca: pki.caPem, ...pki.client }), /^rejected/);
  } finally {
    await good.srv.close();
    await bad.srv.close();
  }
});

test('min_version TLS13 refuses a TLS 1.2-only client', async () => {
  const { srv, url } = await startWith(tlsSection('  min_version: TLS13\n'));
  try {
    const port = Number(new URL(url).port);
    const version = (maxVersion: tls.SecureVersion) =>
      new Promise<string>((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port, ca: pki.caPem, maxVersion }, () => {
          const v = s.getProtocol() ?? '?';
          s.destroy();
          resolve(v);
        });
        s.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? ''}`));
      });
    assert.equal(await version('TLSv1.3'), 'TLSv1.3');
    assert.match(await version('TLSv1.2'), /^error/);
  } finally {
    await srv.close();
  }
});

test('rotated certificate files are picked up for new connections', async () => {
  copyFileSync(pki.serverCertFile, join(pki.dir, 'rot.pem'));
  copyFileSync(pki.serverKeyFile, join(pki.dir, 'rot.key'));
  const { srv, url } = await startWith('tls_server_config:\n  cert_file: rot.pem\n  key_file: rot.key\n', 50);
  const port = Number(new URL(url).port);
  const serial = () =>
    new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca: pki.caPem }, () => {
        const sn = s.getPeerCertificate().serialNumber;
        s.destroy();
        resolve(sn);
      });
      s.on('error', reject);
    });
  try {
    const first = await serial();
    await pki.reissueServer(join(pki.dir, 'rot.pem'), join(pki.dir, 'rot.key'));
    let next = first;
    for (let i = 0; i < 100 && next === first; i++) {
      await new Promise((r) => setTimeout(r, 50));
      next = await serial();
    }
    assert.notEqual(next, first);
  } finally {
    await srv.close();
  }
});

test('a missing certificate file is a start-up error naming the file', async () => {
  const file = join(pki.dir, 'missing-cert.yml');
  writeFileSync(file, 'tls_server_config:\n  cert_file: nope.pem\n  key_file: server.key\n');
  const t = makeDeps({ webConfigFile: file });
  await assert.rejects(createHttpServer(t.deps), (err: Error) => {
    assert.match(err.message, /nope\.pem/);
    assert.match(err.message, /missing-cert\.yml/);
    return true;
  });
});

test('a certificate that does not match its key is a start-up error', async () => {
  const file = join(pki.dir, 'mismatch.yml');
  writeFileSync(file, 'tls_server_config:\n  cert_file: server.pem\n  key_file: client.key\n');
  const t = makeDeps({ webConfigFile: file });
  await assert.rejects(createHttpServer(t.deps), /cannot load the certificate and key/);
});

test('cipher_suites (Go names) and curve_preferences restrict TLS 1.2; TLS 1.3 stays available', async () => {
  const { srv, url } = await startWith(
    tlsSection(
      '  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n  curve_preferences: [CurveP384]\n',
    ),
  );
  const port = Number(new URL(url).port);
  const probe = (o: tls.ConnectionOptions) =>
    new Promise<string>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca: pki.caPem, ...o }, () => {
        resolve(`${s.getProtocol()} ${s.getCipher().name}`);
        s.destroy();
      });
      s.on('error', () => resolve('refused'));
    });
  try {
    assert.equal(await probe({ maxVersion: 'TLSv1.2' }), 'TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384');
    assert.equal(await probe({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }), 'refused');
    assert.equal(await probe({ maxVersion: 'TLSv1.2', ecdhCurve: 'P-256' }), 'refused');
    assert.match(await probe({}), /^TLSv1\.3 /);
  } finally {
    await srv.close();
  }
});
