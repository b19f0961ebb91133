/**
 * A throw-away PKI for the TLS tests, made in-process with @peculiar/x509 on node's WebCrypto (no openssl
 * binary): a CA, a server certificate for 127.0.0.1 and localhost, a client certificate the CA signed and a
 * self-signed "rogue" client the CA knows nothing about. EC P-256 keys, valid for two days.
 */
import 'reflect-metadata'; // @peculiar/x509 needs a Reflect metadata polyfill, loaded before it
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

x509.cryptoProvider.set(webcrypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const HOUR = 3_600_000;

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
  /** Issues another server certificate (new serial, new key) into the given paths. */
  reissueServer(certFile: string, keyFile: string): Promise<void>;
  cleanup(): void;
}

interface Pair {
  cert: string;
  key: string;
}

/** A positive random serial (Go rejects negative ones), so a re-issued certificate differs. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function validity(): { notBefore: Date; notAfter: Date } {
  // An hour back, so a clock a little behind the one that issued them still accepts them.
  return { notBefore: new Date(Date.now() - HOUR), notAfter: new Date(Date.now() + 48 * HOUR) };
}

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function keyPem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
}

/** A self-signed certificate: the CA (with `ca`) or the rogue client. */
async function selfSigned(
  subject: string,
  ca: boolean,
  san?: x509.JsonGeneralNames,
): Promise<Pair & { keys: webcrypto.CryptoKeyPair; x509: x509.X509Certificate }> {
  const keys = await newKeys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(ca, undefined, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (ca)
    extensions.push(
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    );
  else extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]));
  if (san) extensions.push(new x509.SubjectAlternativeNameExtension(san));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: subject,
    ...validity(),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions,
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys), keys, x509: cert };
}

/** A leaf certificate signed by the CA. */
async function issue(
  ca: { keys: webcrypto.CryptoKeyPair; x509: x509.X509Certificate },
  subject: string,
  san: x509.JsonGeneralNames,
  usage: x509.ExtendedKeyUsage,
): Promise<Pair> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject,
    issuer: ca.x509.subject,
    ...validity(),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage]),
      new x509.SubjectAlternativeNameExtension(san),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.x509),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys) };
}

const SERVER_SAN: x509.JsonGeneralNames = [
  { type: 'ip', value: '127.0.0.1' },
  { type: 'dns', value: 'localhost' },
];

/** A throw-away CA, server and client certificates in a temporary directory. */
export async function makePki(): Promise<TestPki> {
  const ca = await selfSigned('CN=spe-test-ca', true);
  const server = await issue(ca, 'CN=localhost', SERVER_SAN, x509.ExtendedKeyUsage.serverAuth);
  const client = await issue(
    ca,
    'CN=scraper',
    [{ type: 'dns', value: 'scraper.example' }],
    x509.ExtendedKeyUsage.clientAuth,
  );
  const rogue = await selfSigned('CN=rogue', false, [{ type: 'dns', value: 'scraper.example' }]);

  const dir = mkdtempSync(join(tmpdir(), 'spe-http-tls-'));
  const files: Record<string, string> = {
    'ca.pem': ca.cert,
    'ca.key': ca.key,
    'server.pem': server.cert,
    'server.key': server.key,
    'client.pem': client.cert,
    'client.key': client.key,
    'rogue.pem': rogue.cert,
    'rogue.key': rogue.key,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o600 });
  return {
    dir,
    caPem: ca.cert,
    caFile: join(dir, 'ca.pem'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server.key'),
    client: { cert: client.cert, key: client.key },
    rogue: { cert: rogue.cert, key: rogue.key },
    async reissueServer(certFile, keyFile) {
      const next = await issue(ca, 'CN=localhost', SERVER_SAN, x509.ExtendedKeyUsage.serverAuth);
      writeFileSync(keyFile, next.key, { mode: 0o600 });
      writeFileSync(certFile, next.cert);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
