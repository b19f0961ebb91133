import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { WebTlsConfig } from './web-config.js';

/** Node TLS server options for a web config's `tls_server_config`. */
export function tlsServerOptions(tls: WebTlsConfig): HttpsServerOptions {
  const auth = tls.clientAuthType;
  const options: HttpsServerOptions = {
    cert: tls.cert,
    key: tls.key,
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    honorCipherOrder: tls.honorCipherOrder,
    requestCert: auth !== 'NoClientCert',
    // Only RequireAndVerifyClientCert can be left to OpenSSL; the in-between policies need the handshake to
    // finish so `clientCertificateRejection` can decide.
    rejectUnauthorized: auth === 'RequireAndVerifyClientCert',
  };
  if (tls.clientCa !== undefined) options.ca = tls.clientCa;
  if (tls.ciphers !== undefined) options.ciphers = tls.ciphers;
  if (tls.ecdhCurve !== undefined) options.ecdhCurve = tls.ecdhCurve;
  return options;
}

/**
 * Why a finished TLS connection must be dropped under the configured client auth policy, or undefined when
 * it may proceed. Mirrors Go's `tls.ClientAuthType` semantics plus exporter-toolkit's `client_allowed_sans`.
 */
export function clientCertificateRejection(tls: WebTlsConfig, socket: TLSSocket): string | undefined {
  const auth = tls.clientAuthType;
  if (auth === 'NoClientCert' || auth === 'RequestClientCert') return undefined;
  const cert = socket.getPeerCertificate();
  const present = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0;
  if (!present) {
    return auth === 'VerifyClientCertIfGiven' ? undefined : 'client certificate required';
  }
  if ((auth === 'VerifyClientCertIfGiven' || auth === 'RequireAndVerifyClientCert') && !socket.authorized) {
    return `client certificate not trusted: ${String(socket.authorizationError)}`;
  }
  if (tls.clientAllowedSans !== undefined) {
    const sans = subjectAltNames(cert);
    if (!sans.some((san) => tls.clientAllowedSans?.includes(san))) {
      return 'client certificate has none of the allowed SANs';
    }
  }
  return undefined;
}

/**
 * The SAN values of a certificate as Go lists them (DNS names, e-mail addresses, IP addresses, URIs),
 * parsed from Node's `subjectaltname` string (`DNS:a.example, IP Address:10.0.0.1, email:x@y, URI:spiffe://…`).
 */
function subjectAltNames(cert: PeerCertificate): string[] {
  const raw = cert.subjectaltname;
  if (!raw) return [];
  const out: string[] = [];
  // Node quotes values that contain separators as JSON strings, e.g. DNS:"a,b".
  const re = /(DNS|IP Address|email|URI):("(?:[^"\\]|\\.)*"|[^,]*)(?:,\s*|$)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(raw)) !== null) {
    if (m[0] === '') break;
    const value = m[2] ?? '';
    out.push(value.startsWith('"') ? (JSON.parse(value) as string) : value.trim());
  }
  return out;
}
