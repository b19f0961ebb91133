import { readFileSync, statSync } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { tlsServerOptions } from './tls-options.js';
import type { WebTlsConfig } from './web-config.js';

/** How often certificate files are checked for changes by default (milliseconds). */
export const DEFAULT_CERT_RELOAD_INTERVAL_MS = 30_000;

function fingerprint(path: string): string {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}

/**
 * Keeps an HTTPS server's certificate current when cert-manager or similar rotates the files (exporter-toolkit
 * re-reads them per connection; checking every few seconds gives the same effect without I/O per handshake).
 * A half-written or mismatched pair is logged and the previous certificate stays in use.
 * Returns a function that stops watching.
 */
export function watchCertificates(
  server: HttpsServer,
  tls: WebTlsConfig,
  intervalMs: number,
  log: Logger,
): () => void {
  const files = [tls.certFile, tls.keyFile, tls.clientCaFile].filter((f): f is string => f !== undefined);
  if (files.length === 0) return () => undefined;
  let seen = files.map(fingerprint).join('|');
  const timer = setInterval(() => {
    const now = files.map(fingerprint).join('|');
    if (now === seen) return;
    try {
      const next: WebTlsConfig = {
        ...tls,
        cert: tls.certFile ? readFileSync(tls.certFile, 'utf8') : tls.cert,
        key: tls.keyFile ? readFileSync(tls.keyFile, 'utf8') : tls.key,
      };
      if (tls.clientCaFile) next.clientCa = readFileSync(tls.clientCaFile, 'utf8');
      const options = tlsServerOptions(next);
      createSecureContext(options); // throws on a mismatched or truncated pair
      server.setSecureContext(options);
      seen = now;
      log.info({ files }, 'TLS certificate files changed; new connections use the new certificate');
    } catch (err) {
      // Keep `seen` unchanged so the next tick retries (the writer may not have finished yet).
      log.error(
        { err, files },
        'TLS certificate files changed but cannot be loaded; keeping the previous ones',
      );
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
