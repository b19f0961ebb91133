import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when the openssl CLI is available (node:crypto alone cannot issue X.509 certificates). */
export function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface TestPki {
  dir: string;
  caPem: string;
  /** Paths of the server pair signed by the CA (SAN IP:127.0.0.1, DNS:localhost). */
  serverCertFile: string;
  serverKeyFile: string;
  caFile: string;
  /** Client pair signed by the CA, SAN DNS:scraper.example. */
  client: { cert: string; key: string };
  /** Self-signed client pair the CA knows nothing about. */
  rogue: { cert: string; key: string };
  /** Issues another server certificate (new serial) into the given paths. */
  reissueServer(certFile: string, keyFile: string): void;
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function issue(dir: string, name: string, subject: string, ext: string): void {
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  ]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

/** A throw-away CA, server and client certificates in a temporary directory. */
export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'spe-http-tls-'));
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=spe-test-ca',
  ]);
  const serverExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';
  issue(dir, 'server', '/CN=localhost', serverExt);
  issue(dir, 'client', '/CN=scraper', 'subjectAltName=DNS:scraper.example\nextendedKeyUsage=clientAuth\n');
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'rogue.key',
    '-out',
    'rogue.pem',
    '-days',
    '2',
    '-subj',
    '/CN=rogue',
    '-addext',
    'subjectAltName=DNS:scraper.example',
  ]);
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    caPem: read('ca.pem'),
    caFile: join(dir, 'ca.pem'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server.key'),
    client: { cert: read('client.pem'), key: read('client.key') },
    rogue: { cert: read('rogue.pem'), key: read('rogue.key') },
    reissueServer(certFile: string, keyFile: string) {
      issue(dir, 'server2', '/CN=localhost', serverExt);
      writeFileSync(keyFile, read('server2.key'));
      writeFileSync(certFile, read('server2.pem'));
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
