import { userInfo } from 'node:os';
import { usageError } from '../core/errors.js';

/**
 * Parses a PostgreSQL connection URL ourselves instead of handing it to pg: pg accepts nonsense silently
 * (port 70000, unknown sslmodes) and its sslmode semantics differ from libpq's, so we decide TLS here and
 * give pg an explicit config object.
 */
export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full' | 'no-verify';

/** How the certificate is checked once TLS is on. */
export type TlsVerification = 'none' | 'full' | 'chain-only';

export interface TlsPolicy {
  enabled: boolean;
  verification: TlsVerification;
  rootCertFile?: string;
  certFile?: string;
  keyFile?: string;
  /** pg 8 checks the certificate for sslmodes that libpq would not: explain that only if a check fails. */
  stricterThanLibpq: boolean;
}

export interface DatabaseUrl {
  variable: string;
  scheme: string;
  user: string;
  password?: string;
  host: string;
  /** Set when host is a Unix socket directory. */
  socket: boolean;
  port: number;
  database: string;
  isLocal: boolean;
  neon?: { endpointId: string };
  /** A transaction-mode pooler (Neon's -pooler host, pgbouncer=true, port 6432): no session state. */
  pooled: boolean;
  sslmode?: SslMode;
  tls: TlsPolicy;
  channelBinding: boolean;
  applicationName?: string;
  connectTimeoutMs?: number;
  options?: string;
  warnings: string[];
}

export interface ParseOptions {
  variable?: string;
  allowInsecure?: boolean;
}

const EXAMPLE = 'postgresql://user:password@localhost:5432/todo';
const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];
/** Parameters that Prisma's URL format uses and that mean nothing to a pg connection. */
const PRISMA_ONLY_PARAMS = new Set(['schema', 'connection_limit', 'pool_timeout', 'statement_cache_size', 'socket_timeout', 'sslaccept']);
/** The app's Python services (SQLAlchemy's dialect+driver spelling) share the URL: these schemes mean PostgreSQL. */
const PYTHON_SCHEMES = ['postgresql+asyncpg', 'postgresql+psycopg2', 'postgresql+psycopg', 'postgresql+pg8000'] as const;
/** asyncpg spells sslmode as ssl=; the same values, mapped so the connection gets the TLS the URL asks for. */
const ASYNCPG_SSL: Record<string, SslMode> = {
  disable: 'disable',
  allow: 'allow',
  prefer: 'prefer',
  require: 'require',
  'verify-ca': 'verify-ca',
  'verify-full': 'verify-full',
  false: 'disable',
  true: 'require',
};

export function parseDatabaseUrl(raw: string, { variable = 'DATABASE_URL', allowInsecure = false }: ParseOptions = {}): DatabaseUrl {
  const invalid = (what: string, hint = `Use a URL such as ${EXAMPLE}.`) => usageError('DATABASE_URL_INVALID', `${variable} ${what}.`, hint);

  if (/[\0\r\n]/.test(raw)) throw invalid('contains a newline or NUL character', 'Remove the control characters from the value.');
  const text = raw.trim();
  if (raw.length === 0) throw invalid('is set but empty', `Set it to a URL such as ${EXAMPLE}, or unset it to use the local database.`);
  if (text.length === 0) throw invalid('contains only whitespace', `Set it to a URL such as ${EXAMPLE}, or unset it to use the local database.`);

  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(text);
  if (!schemeMatch) throw invalid('is not a URL (it does not start with postgresql://)');
  const [, rawScheme = '', rest = ''] = schemeMatch;
  const scheme = rawScheme.toLowerCase();
  const warnings: string[] = [];
  if ((PYTHON_SCHEMES as readonly string[]).includes(scheme)) {
    warnings.push(`${variable} uses the Python driver scheme ${scheme}://; todo-db treats it as postgresql://.`);
  } else if (scheme !== 'postgresql' && scheme !== 'postgres') {
    throw invalid(`uses the scheme ${scheme}://, but todo-db only connects to PostgreSQL`, `Use postgresql:// or postgres://, for example ${EXAMPLE}.`);
  }

  refuseRawDelimiterBeforeAt(rest, invalid);
  if (rest.includes('#')) throw invalid('contains a "#" fragment', 'Percent-encode "#" in passwords as %23.');
  const queryAt = rest.indexOf('?');
  const beforeQuery = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const params = parseQuery(queryAt === -1 ? '' : rest.slice(queryAt + 1), invalid);
  const slashAt = beforeQuery.indexOf('/');
  const authority = slashAt === -1 ? beforeQuery : beforeQuery.slice(0, slashAt);
  const path = slashAt === -1 ? '' : beforeQuery.slice(slashAt + 1);

  const atAt = authority.lastIndexOf('@');
  const userInfoPart = atAt === -1 ? '' : authority.slice(0, atAt);
  const hostPart = atAt === -1 ? authority : authority.slice(atAt + 1);
  const colonAt = userInfoPart.indexOf(':');
  const user = decode(colonAt === -1 ? userInfoPart : userInfoPart.slice(0, colonAt), 'user name', invalid);
  const password = colonAt === -1 ? undefined : decode(userInfoPart.slice(colonAt + 1), 'password', invalid);

  const { host, port } = parseHostPort(hostPart, params, invalid);
  const database = decode(path, 'database name', invalid);
  if (database.includes('/')) throw invalid(`has a database name containing "/"`);

  const resolvedUser = user || params.get('user') || defaultUser();
  const socket = host.startsWith('/');
  const isLocal = socket || isLoopbackHost(host);
  const neon = neonEndpoint(host);
  const pooled = isPooled(host, port, params);

  const sslmode = readSslMode(params, invalid);
  const libpqCompat = params.get('uselibpqcompat') === 'true';
  const tls = tlsPolicy({ sslmode, isLocal, libpqCompat, params });
  if (!tls.enabled && !isLocal && !allowInsecure) {
    throw usageError(
      'INSECURE_CONNECTION_REFUSED',
      `${variable} asks for sslmode=disable to ${host}, which is not a local host: the password and data would cross the network unencrypted.`,
      'Remove sslmode=disable (TLS is required for remote hosts), or pass --allow-insecure if this network is trusted.',
    );
  }
  if (!tls.enabled && !isLocal) warnings.push(`${variable}: TLS is disabled for ${host} (--allow-insecure).`);

  const channelBinding = readChannelBinding(params, invalid);
  const connectTimeoutMs = readConnectTimeout(params, invalid);
  for (const name of params.keys()) {
    if (!KNOWN_PARAMS.has(name) && !PRISMA_ONLY_PARAMS.has(name)) warnings.push(`${variable}: ignoring unknown parameter "${name}".`);
  }
  if (pooled && params.has('options')) {
    throw invalid(
      'sets "options" on a pooled connection; PgBouncer in transaction mode rejects it as an unsupported startup parameter',
      'Remove the options parameter, or use the direct (non-pooler) host.',
    );
  }

  return {
    variable,
    scheme,
    user: resolvedUser,
    password,
    host,
    socket,
    port,
    database: database || resolvedUser,
    isLocal,
    neon,
    pooled,
    sslmode,
    tls,
    channelBinding,
    applicationName: params.get('application_name'),
    connectTimeoutMs,
    options: params.get('options'),
    warnings,
  };
}

const KNOWN_PARAMS = new Set([
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'uselibpqcompat',
  'channel_binding',
  'application_name',
  'connect_timeout',
  'options',
  'host',
  'port',
  'user',
  'pgbouncer',
  'ssl',
]);

type Invalid = (what: string, hint?: string) => Error;

function parseQuery(query: string, invalid: Invalid): Map<string, string> {
  const params = new Map<string, string>();
  if (!query) return params;
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = decode(eq === -1 ? pair : pair.slice(0, eq), 'query parameter name', invalid);
    const value = decode(eq === -1 ? '' : pair.slice(eq + 1).replace(/\+/g, ' '), `value of "${name}"`, invalid);
    params.set(name, value);
  }
  return params;
}

function decode(text: string, what: string, invalid: Invalid): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid(`has a malformed percent-encoding in the ${what}`, 'Encode special characters as %XX with two hex digits, e.g. "@" as %40 and "%" as %25.');
  }
}

function parseHostPort(hostPart: string, params: Map<string, string>, invalid: Invalid): { host: string; port: number } {
  if (hostPart.includes(',')) throw invalid('lists several hosts', 'todo-db connects to exactly one host; keep one of them.');
  let host: string;
  let portText: string | undefined;
  const ipv6 = /^\[([0-9A-Fa-f:.]+)\](?::(.*))?$/.exec(hostPart);
  if (ipv6) {
    host = ipv6[1] ?? '';
    portText = ipv6[2];
  } else {
    const colonAt = hostPart.lastIndexOf(':');
    host = colonAt === -1 ? hostPart : hostPart.slice(0, colonAt);
    portText = colonAt === -1 ? undefined : hostPart.slice(colonAt + 1);
  }
  host = decode(host, 'host', invalid) || params.get('host') || '';
  if (!host) throw invalid('has no host', `Put the server's host name after "://", as in ${EXAMPLE}.`);
  // Never quoted: with a malformed authority, what looks like the host can be part of the password.
  if (/[\s/]/.test(host) && !host.startsWith('/')) throw invalid('has a space or "/" in the host name (the part after the "@")');
  return { host, port: parsePort(portText ?? params.get('port'), invalid) };
}

function parsePort(text: string | undefined, invalid: Invalid): number {
  if (text === undefined || text === '') return 5432;
  // Never quoted: a password holding ":" without an "@" after it reads as host:port.
  if (!/^\d+$/.test(text))
    throw invalid(
      'has a port (the part after the host name\'s ":") that is not a number',
      `Use a port between 1 and 65535, as in ${EXAMPLE}; a ":" in a password must come before an "@".`,
    );
  const port = Number(text);
  if (port < 1 || port > 65535) throw invalid(`has port ${text}, outside the range 1-65535`, `Use a port between 1 and 65535, as in ${EXAMPLE}.`);
  return port;
}

function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function defaultUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'postgres';
  }
}

function neonEndpoint(host: string): { endpointId: string } | undefined {
  if (!/\.neon\.(tech|build)$/i.test(host)) return undefined;
  const label = host.split('.')[0] ?? '';
  return { endpointId: label.replace(/-pooler$/i, '') };
}

function isPooled(host: string, port: number, params: Map<string, string>): boolean {
  const firstLabel = host.split('.')[0] ?? '';
  return /-pooler$/i.test(firstLabel) || params.get('pgbouncer') === 'true' || port === 6432;
}

function readSslMode(params: Map<string, string>, invalid: Invalid): SslMode | undefined {
  const value = params.get('sslmode');
  const asyncpg = readAsyncpgSsl(params, invalid);
  if (value === undefined) return asyncpg;
  if (!(SSL_MODES as readonly string[]).includes(value))
    throw invalid(`has an unknown sslmode "${value}"`, `Use one of ${SSL_MODES.join(', ')}; for example sslmode=verify-full.`);
  if (asyncpg !== undefined && asyncpg !== value) {
    throw invalid(
      `asks for sslmode=${value} and ssl=${params.get('ssl')}, which disagree`,
      "Keep one of them (ssl= is asyncpg's spelling of sslmode=), or give both the same value.",
    );
  }
  return value as SslMode;
}

function readAsyncpgSsl(params: Map<string, string>, invalid: Invalid): SslMode | undefined {
  const value = params.get('ssl');
  if (value === undefined) return undefined;
  const mode = ASYNCPG_SSL[value.toLowerCase()];
  if (mode) return mode;
  throw invalid(`has an unknown ssl "${value}"`, `Use one of ${Object.keys(ASYNCPG_SSL).slice(0, 6).join(', ')} (asyncpg's spelling of sslmode).`);
}

/**
 * An "@" after the first "/", "?" or "#" means one of them is raw inside the user name or password (generated
 * passwords hold them): split there, the password would surface as a host, port or parameter in a message.
 */
function refuseRawDelimiterBeforeAt(rest: string, invalid: Invalid): void {
  const delimiterAt = rest.search(/[/?#]/);
  if (delimiterAt === -1 || rest.lastIndexOf('@') < delimiterAt) return;
  throw invalid(
    'has a raw "/", "?" or "#" in the part before the "@" (the user name or the password after it)',
    'Percent-encode them in the password: "/" as %2F, "?" as %3F, "#" as %23 (and "@" as %40, ":" as %3A, "%" as %25).',
  );
}

function readChannelBinding(params: Map<string, string>, invalid: Invalid): boolean {
  const value = params.get('channel_binding');
  if (value === undefined || value === 'disable' || value === 'prefer') return false;
  if (value === 'require') return true;
  throw invalid(`has an unknown channel_binding "${value}"`, 'Use channel_binding=require, prefer or disable.');
}

function readConnectTimeout(params: Map<string, string>, invalid: Invalid): number | undefined {
  const value = params.get('connect_timeout');
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) === 0)
    throw invalid(`has connect_timeout "${value}", which is not a positive number of seconds`, 'Use connect_timeout=10, for example.');
  return Number(value) * 1000;
}

/**
 * libpq's sslmodes mapped onto Node's TLS options. Without uselibpqcompat, pg 8 verifies the certificate and
 * host name for prefer, require and verify-ca too; we keep that stricter behaviour and remember it so that
 * a certificate failure can explain why.
 */
function tlsPolicy({
  sslmode,
  isLocal,
  libpqCompat,
  params,
}: {
  sslmode?: SslMode;
  isLocal: boolean;
  libpqCompat: boolean;
  params: Map<string, string>;
}): TlsPolicy {
  const files = { rootCertFile: params.get('sslrootcert'), certFile: params.get('sslcert'), keyFile: params.get('sslkey') };
  const mode = sslmode ?? (isLocal ? 'disable' : 'verify-full');
  const off = { enabled: false, verification: 'none', stricterThanLibpq: false } as const;
  if (mode === 'disable') return off;
  if ((mode === 'allow' || mode === 'prefer') && isLocal) return off;
  if (mode === 'no-verify') return { enabled: true, verification: 'none', stricterThanLibpq: false, ...files };
  if (mode === 'verify-full') return { enabled: true, verification: 'full', stricterThanLibpq: false, ...files };
  if (libpqCompat) {
    const verification = mode === 'verify-ca' ? 'chain-only' : 'none';
    return { enabled: true, verification, stricterThanLibpq: false, ...files };
  }
  return { enabled: true, verification: 'full', stricterThanLibpq: true, ...files };
}

/** The URL as it may be shown: never with its password. */
export function describeTarget(url: Pick<DatabaseUrl, 'user' | 'host' | 'port' | 'database' | 'socket'>): string {
  const host = url.socket ? url.host : url.host.includes(':') ? `[${url.host}]` : url.host;
  return `postgresql://${encodeURIComponent(url.user)}@${url.socket ? encodeURIComponent(host) : host}:${url.port}/${encodeURIComponent(url.database)}`;
}

export function hostAndPort(url: Pick<DatabaseUrl, 'host' | 'port' | 'socket'>): string {
  if (url.socket) return `${url.host}/.s.PGSQL.${url.port}`;
  return url.host.includes(':') ? `[${url.host}]:${url.port}` : `${url.host}:${url.port}`;
}
