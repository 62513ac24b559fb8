import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import type { DatabaseUrl } from '../config/database-url.js';
import { redact } from '../config/redact.js';
import { usageError } from '../core/errors.js';
import { passwordFor } from './password.js';

export const DEFAULT_POOL_SIZE = 10;
/** Neon recommends at least 10-15 s: a suspended compute can take seconds to wake. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

export interface ConnectionOptionsInput {
  connectTimeoutMs?: number;
  applicationName?: string;
}

export interface PoolOptions extends ConnectionOptionsInput {
  max?: number;
  idleTimeoutMs?: number;
  /** Where errors of idle clients go; without a listener pg would crash the process. */
  onIdleError?: (message: string) => void;
}

/**
 * The pg settings for one URL. Only startup parameters that PgBouncer in transaction mode accepts are sent:
 * statement_timeout, lock_timeout and friends are set with SET LOCAL inside transactions instead.
 */
export function clientConfig(url: DatabaseUrl, { connectTimeoutMs, applicationName }: ConnectionOptionsInput = {}): pg.ClientConfig {
  return {
    host: url.host,
    port: url.port,
    user: url.user,
    password: passwordFor(url),
    database: url.database,
    ssl: tlsOptions(url),
    enableChannelBinding: url.channelBinding,
    application_name: url.applicationName ?? applicationName ?? 'todo-db',
    connectionTimeoutMillis: connectTimeoutMs ?? url.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    keepAlive: true,
    ...(url.options === undefined ? {} : { options: url.options }),
  };
}

export function createPool(url: DatabaseUrl, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    ...clientConfig(url, options),
    max: options.max ?? DEFAULT_POOL_SIZE,
    idleTimeoutMillis: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
  });
  pool.on('error', (error) => options.onIdleError?.(redact(`an idle database connection failed: ${error.message}`)));
  return pool;
}

function tlsOptions(url: DatabaseUrl): false | ConnectionOptions {
  const { tls } = url;
  if (!tls.enabled) return false;
  const options: ConnectionOptions = { rejectUnauthorized: tls.verification !== 'none' };
  if (!url.socket && !/^[\d.:]+$/.test(url.host)) options.servername = url.host;
  if (tls.verification === 'chain-only') options.checkServerIdentity = () => undefined;
  if (tls.rootCertFile && tls.rootCertFile !== 'system') options.ca = readTlsFile(url, 'sslrootcert', tls.rootCertFile);
  if (tls.certFile) options.cert = readTlsFile(url, 'sslcert', tls.certFile);
  if (tls.keyFile) options.key = readTlsFile(url, 'sslkey', tls.keyFile);
  return options;
}

function readTlsFile(url: DatabaseUrl, parameter: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    throw usageError('TLS_FILE_UNREADABLE', `${url.variable} names ${parameter}=${path}, which ${reason}.`, `Point ${parameter} at a readable PEM file.`);
  }
}
