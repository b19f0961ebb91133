import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import bcrypt from 'bcryptjs';
import { parse } from 'yaml';
import { nodeCurveName, opensslCipherName } from './cipher-suites.js';
import { parseGoDuration } from '../../config/duration.js';

/**
 * The Prometheus exporter-toolkit web configuration file (`--web.config.file` of node_exporter and friends),
 * so one file works for every exporter on a host. Format:
 * https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md
 */

const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
type TlsVersionName = keyof typeof TLS_VERSIONS;
type NodeTlsVersion = (typeof TLS_VERSIONS)[TlsVersionName];

/**
 * Headers exporter-toolkit lets a web config set, with their allowed values (empty: any value). The list is
 * closed on purpose (as in the toolkit) so the file cannot override Content-Type or similar.
 */
const CONFIGURABLE_HEADERS: Readonly<Record<string, readonly string[]>> = {
  'Strict-Transport-Security': [],
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': [],
  'Content-Security-Policy': [],
};

export interface WebTlsConfig {
  /** PEM server certificate chain, from `cert_file` (resolved path in `certFile`) or inline `cert`. */
  cert: string;
  certFile?: string;
  /** PEM private key, from `key_file` or inline `key`. */
  key: string;
  keyFile?: string;
  /** PEM CA bundle that client certificates must chain to, from `client_ca_file` or inline `client_ca`. */
  clientCa?: string;
  clientCaFile?: string;
  clientAuthType: ClientAuthType;
  /** When set, a client certificate must carry one of these SANs (DNS, IP, e-mail or URI). */
  clientAllowedSans?: string[];
  minVersion: NodeTlsVersion;
  maxVersion: NodeTlsVersion;
  /** OpenSSL cipher list for TLS ≤ 1.2, or undefined for Node's defaults. */
  ciphers?: string;
  honorCipherOrder: boolean;
  /** Node `ecdhCurve` value, or undefined for Node's defaults. */
  ecdhCurve?: string;
}

interface WebRateLimit {
  /** Milliseconds between two requests once the burst is used up. */
  intervalMs: number;
  burst: number;
}

export interface WebConfig {
  /** Absolute path the config was read from. */
  path: string;
  /** Undefined: serve plain HTTP. */
  tls?: WebTlsConfig;
  /** As configured (default true); the server speaks HTTP/1.1 either way, see README. */
  http2: boolean;
  /** Extra response headers, validated against `CONFIGURABLE_HEADERS`. */
  headers: Record<string, string>;
  /** user → bcrypt hash. Empty: no bcrypt users. */
  basicAuthUsers: Map<string, string>;
  /** Undefined: no rate limit. */
  rateLimit?: WebRateLimit;
  /** Things that were accepted but deserve a log line. */
  warnings: string[];
}

/** A web config problem, always naming the file and the offending key. */
export class WebConfigError extends Error {
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`web config ${file}: ${message}`, options);
    this.name = 'WebConfigError';
  }
}

type YamlMap = Record<string, unknown>;

/**
 * Reads, validates and resolves a web config file, with the text it parsed (what a watcher compares later
 * reads with). Throws `WebConfigError` on any problem.
 */
export function readWebConfig(path: string): { text: string; config: WebConfig } {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new WebConfigError(file, `cannot read the file: ${(err as Error).message}`, { cause: err });
  }
  return { text, config: parseWebConfig(file, text) };
}

/** Validates and resolves the text of the web config file at `path`. Throws `WebConfigError`. */
export function parseWebConfig(path: string, text: string): WebConfig {
  const file = resolve(path);
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    throw new WebConfigError(file, `invalid YAML: ${(err as Error).message}`, { cause: err });
  }
  return new WebConfigReader(file).read(doc);
}

class WebConfigReader {
  private readonly dir: string;
  private readonly warnings: string[] = [];

  constructor(private readonly file: string) {
    this.dir = dirname(file);
  }

  read(doc: unknown): WebConfig {
    const root = doc === null || doc === undefined ? {} : this.map(doc, '(top level)');
    this.onlyKeys(root, '', ['tls_server_config', 'http_server_config', 'basic_auth_users', 'rate_limit']);
    const httpServer = this.optionalMap(root, 'http_server_config', '');
    this.onlyKeys(httpServer, 'http_server_config.', ['http2', 'headers']);
    const config: WebConfig = {
      path: this.file,
      http2: this.bool(httpServer, 'http2', 'http_server_config.') ?? true,
      headers: this.headers(this.optionalMap(httpServer, 'headers', 'http_server_config.')),
      basicAuthUsers: this.users(this.optionalMap(root, 'basic_auth_users', '')),
      warnings: this.warnings,
    };
    if (httpServer['http2'] === true) {
      this.warnings.push(
        'http_server_config.http2: HTTP/2 is not supported; serving HTTP/1.1 (scrapers fall back to it)',
      );
    }
    const tls = this.tls(this.optionalMap(root, 'tls_server_config', ''));
    if (tls) config.tls = tls;
    const rateLimit = this.rateLimit(this.optionalMap(root, 'rate_limit', ''));
    if (rateLimit) config.rateLimit = rateLimit;
    return config;
  }

  private tls(section: YamlMap): WebTlsConfig | undefined {
    const p = 'tls_server_config.';
    this.onlyKeys(section, p, [
      'cert',
      'key',
      'client_ca',
      'cert_file',
      'key_file',
      'client_auth_type',
      'client_ca_file',
      'client_allowed_sans',
      'min_version',
      'max_version',
      'cipher_suites',
      'prefer_server_cipher_suites',
      'curve_preferences',
    ]);
    const s = (key: string) => this.string(section, key, p) ?? '';
    const certFile = s('cert_file');
    const keyFile = s('key_file');
    const caFile = s('client_ca_file');
    const certText = s('cert');
    const keyText = s('key');
    const caText = s('client_ca');
    const authName = s('client_auth_type');
    const enabled = [certFile, keyFile, caFile, certText, keyText, caText, authName].some((v) => v !== '');
    if (!enabled) {
      if (Object.keys(section).length > 0) {
        this.warnings.push('tls_server_config has no certificate settings; serving plain HTTP');
      }
      return undefined;
    }
    const clientAuthType = this.clientAuthType(authName);
    this.exclusive(certFile, certText, 'cert_file', 'cert');
    this.exclusive(keyFile, keyText, 'key_file', 'key');
    this.exclusive(caFile, caText, 'client_ca_file', 'client_ca');
    if (certFile === '' && certText === '')
      throw this.error('tls_server_config: missing one of cert or cert_file');
    if (keyFile === '' && keyText === '')
      throw this.error('tls_server_config: missing one of key or key_file');

    const tls: WebTlsConfig = {
      cert: certFile !== '' ? this.readPem(certFile, `${p}cert_file`) : certText,
      key: keyFile !== '' ? this.readPem(keyFile, `${p}key_file`) : keyText,
      clientAuthType,
      minVersion: this.tlsVersion(section, 'min_version', 'TLS12'),
      maxVersion: this.tlsVersion(section, 'max_version', 'TLS13'),
      honorCipherOrder: this.bool(section, 'prefer_server_cipher_suites', p) ?? true,
    };
    if (certFile !== '') tls.certFile = this.path(certFile);
    if (keyFile !== '') tls.keyFile = this.path(keyFile);
    if (caFile !== '') {
      tls.clientCaFile = this.path(caFile);
      tls.clientCa = this.readPem(caFile, `${p}client_ca_file`);
    } else if (caText !== '') {
      tls.clientCa = caText;
    }
    try {
      createSecureContext({ cert: tls.cert, key: tls.key, ...(tls.clientCa ? { ca: tls.clientCa } : {}) });
    } catch (err) {
      const what = tls.certFile ? `${tls.certFile} / ${tls.keyFile ?? 'inline key'}` : 'the inline cert/key';
      throw this.error(`cannot load the certificate and key (${what}): ${(err as Error).message}`, err);
    }
    if (tls.clientCa !== undefined && tls.clientAuthType === 'NoClientCert') {
      throw this.error(`${p}client_ca_file: client CAs have been configured without a client_auth_type`);
    }
    if (Number(tls.minVersion.replace('TLSv', '')) > Number(tls.maxVersion.replace('TLSv', ''))) {
      throw this.error(`${p}min_version is above max_version`);
    }
    const sans = this.stringList(section, 'client_allowed_sans', p);
    if (sans !== undefined) {
      if (
        tls.clientAuthType !== 'RequireAnyClientCert' &&
        tls.clientAuthType !== 'RequireAndVerifyClientCert'
      ) {
        throw this.error(
          `${p}client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert or RequireAndVerifyClientCert`,
        );
      }
      tls.clientAllowedSans = sans;
    }
    const ciphers = this.ciphers(this.stringList(section, 'cipher_suites', p) ?? []);
    if (ciphers) tls.ciphers = ciphers;
    const curves = (this.stringList(section, 'curve_preferences', p) ?? []).map((name) => {
      const curve = nodeCurveName(name);
      if (curve === undefined) throw this.error(`${p}curve_preferences: unknown curve: ${name}`);
      return curve;
    });
    if (curves.length > 0) tls.ecdhCurve = curves.join(':');
    return tls;
  }

  private ciphers(names: string[]): string | undefined {
    const openssl: string[] = [];
    for (const name of names) {
      const mapped = opensslCipherName(name);
      if (mapped === undefined) throw this.error(`tls_server_config.cipher_suites: unknown cipher: ${name}`);
      if (mapped === null) {
        this.warnings.push(`cipher suite ${name} is a TLS 1.3 suite; TLS 1.3 suites are always enabled`);
      } else {
        openssl.push(mapped);
      }
    }
    return openssl.length > 0 ? openssl.join(':') : undefined;
  }

  private clientAuthType(name: string): ClientAuthType {
    if (name === '') return 'NoClientCert';
    if (name === 'RequireClientCert') return 'RequireAnyClientCert';
    if ((CLIENT_AUTH_TYPES as readonly string[]).includes(name)) return name as ClientAuthType;
    throw this.error(
      `tls_server_config.client_auth_type: invalid value ${JSON.stringify(name)} (expected one of ${CLIENT_AUTH_TYPES.join(', ')})`,
    );
  }

  private tlsVersion(section: YamlMap, key: string, fallback: TlsVersionName): NodeTlsVersion {
    const name = this.string(section, key, 'tls_server_config.') ?? fallback;
    if (!Object.hasOwn(TLS_VERSIONS, name)) {
      throw this.error(`tls_server_config.${key}: unknown TLS version: ${name}`);
    }
    return TLS_VERSIONS[name as TlsVersionName];
  }

  private headers(section: YamlMap): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, raw] of Object.entries(section)) {
      const where = `http_server_config.headers.${name}`;
      if (!Object.hasOwn(CONFIGURABLE_HEADERS, name)) {
        throw this.error(`${where}: HTTP header ${JSON.stringify(name)} can not be configured`);
      }
      if (typeof raw !== 'string') throw this.error(`${where}: expected a string`);
      const allowed = CONFIGURABLE_HEADERS[name] ?? [];
      if (allowed.length > 0 && !allowed.includes(raw)) {
        throw this.error(
          `${where}: invalid value ${JSON.stringify(raw)}, expected one of ${allowed.join(', ')}`,
        );
      }
      if (/[\r\n\0]/.test(raw)) throw this.error(`${where}: header values cannot contain line breaks`);
      if (raw !== '') headers[name] = raw;
    }
    return headers;
  }

  private users(section: YamlMap): Map<string, string> {
    const users = new Map<string, string>();
    for (const [user, hash] of Object.entries(section)) {
      // Never echo the hash: it is a secret in the toolkit's schema.
      const where = `basic_auth_users.${user}`;
      if (typeof hash !== 'string') throw this.error(`${where}: expected a bcrypt hash string`);
      if (!/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(hash)) {
        throw this.error(
          `${where}: not a bcrypt hash (expected $2a$, $2b$ or $2y$ followed by cost and 53 characters)`,
        );
      }
      const rounds = bcrypt.getRounds(hash);
      if (rounds < 4 || rounds > 31)
        throw this.error(`${where}: bcrypt cost ${rounds} is out of range 4..31`);
      users.set(user, hash);
    }
    return users;
  }

  private rateLimit(section: YamlMap): WebRateLimit | undefined {
    const p = 'rate_limit.';
    this.onlyKeys(section, p, ['interval', 'burst']);
    const rawInterval = section['interval'];
    let intervalMs = 0;
    if (typeof rawInterval === 'string') {
      const parsed = parseGoDuration(rawInterval);
      if (parsed === undefined)
        throw this.error(`${p}interval: invalid duration ${JSON.stringify(rawInterval)}`);
      intervalMs = parsed;
    } else if (typeof rawInterval === 'number' && Number.isFinite(rawInterval) && rawInterval >= 0) {
      intervalMs = rawInterval / 1e6; // a bare number is nanoseconds, as Go's YAML decoder reads it
    } else if (rawInterval !== undefined && rawInterval !== null) {
      throw this.error(`${p}interval: expected a duration such as 1s`);
    }
    const rawBurst = section['burst'] ?? 0;
    if (typeof rawBurst !== 'number' || !Number.isInteger(rawBurst) || rawBurst < 0) {
      throw this.error(`${p}burst: expected a non-negative integer`);
    }
    if (intervalMs === 0) return undefined;
    if (rawBurst === 0) this.warnings.push('rate_limit.burst is 0: every request will be refused with 429');
    return { intervalMs, burst: rawBurst };
  }

  // --- small typed accessors -------------------------------------------------------------------------

  private map(value: unknown, where: string): YamlMap {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.error(`${where}: expected a mapping`);
    }
    return value as YamlMap;
  }

  private optionalMap(parent: YamlMap, key: string, prefix: string): YamlMap {
    const value = parent[key];
    return value === undefined || value === null ? {} : this.map(value, `${prefix}${key}`);
  }

  private onlyKeys(section: YamlMap, prefix: string, allowed: string[]): void {
    for (const key of Object.keys(section)) {
      if (!allowed.includes(key)) {
        throw this.error(
          `unknown key ${JSON.stringify(`${prefix}${key}`)} (allowed here: ${allowed.join(', ')})`,
        );
      }
    }
  }

  private string(section: YamlMap, key: string, prefix: string): string | undefined {
    const value = section[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw this.error(`${prefix}${key}: expected a string`);
    return value;
  }

  private bool(section: YamlMap, key: string, prefix: string): boolean | undefined {
    const value = section[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw this.error(`${prefix}${key}: expected true or false`);
    return value;
  }

  private stringList(section: YamlMap, key: string, prefix: string): string[] | undefined {
    const value = section[key];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      throw this.error(`${prefix}${key}: expected a list of strings`);
    }
    return value as string[];
  }

  private exclusive(fileValue: string, inlineValue: string, fileKey: string, inlineKey: string): void {
    if (fileValue !== '' && inlineValue !== '') {
      throw this.error(`tls_server_config: set only one of ${fileKey} and ${inlineKey}`);
    }
  }

  /** Relative paths are relative to the config file's directory, as in exporter-toolkit. */
  private path(p: string): string {
    return isAbsolute(p) ? p : resolve(this.dir, p);
  }

  private readPem(p: string, key: string): string {
    const full = this.path(p);
    try {
      return readFileSync(full, 'utf8');
    } catch (err) {
      throw this.error(
        `${key}: cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        err,
      );
    }
  }

  private error(message: string, cause?: unknown): WebConfigError {
    return new WebConfigError(this.file, message, cause === undefined ? undefined : { cause });
  }
}
