import pg from 'pg';
import { hostAndPort, type DatabaseUrl } from '../config/database-url.js';
import type { Environment } from '../config/settings.js';
import { TodoDbError } from '../errors.js';
import { classifyConnectionError, type ConnectionFailure } from './classify.js';
import { clientConfig, DEFAULT_CONNECT_TIMEOUT_MS } from './pool.js';
import { probePostgresProtocol } from './protocol-probe.js';
import { retry, type AttemptFailure } from './retry.js';

export const PRODUCTION_ATTEMPTS = 5;

export interface CheckConnectionOptions {
  url: DatabaseUrl;
  environment: Environment;
  /** Retries after the first attempt. Default: 4 in production (5 attempts), 0 elsewhere. */
  retries?: number;
  /** Deadline for all attempts together. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  onAttemptFailed?: (event: AttemptFailure<ConnectionFailure>) => void;
}

export interface ConnectionReport {
  target: string;
  serverVersion: string;
  database: string;
  user: string;
  tls: boolean;
  tlsVersion: string | null;
  pooled: boolean;
  neon: boolean;
  latencyMs: number;
  connectMs: number;
  attempts: number;
  elapsedMs: number;
}

export async function checkConnection(options: CheckConnectionOptions): Promise<ConnectionReport> {
  const { url, environment } = options;
  const retries = options.retries ?? (environment === 'production' ? PRODUCTION_ATTEMPTS - 1 : 0);
  const connectTimeoutMs = options.connectTimeoutMs ?? url.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const timeoutMs = options.timeoutMs ?? (retries === 0 ? connectTimeoutMs : 60_000);

  // Built once, before any attempt: a missing certificate file is a configuration error, not a retryable failure.
  const config = clientConfig(url);
  const outcome = await retry(
    ({ remainingMs }) => probe(url, { ...config, connectionTimeoutMillis: Math.min(connectTimeoutMs, remainingMs) }),
    (error) => classifyConnectionError(error, url),
    { maxAttempts: retries + 1, deadlineMs: timeoutMs },
    options.onAttemptFailed,
  );
  if (outcome.value) return { ...outcome.value, attempts: outcome.attempts, elapsedMs: outcome.elapsedMs };

  const failure = outcome.failure as ConnectionFailure;
  const tries = outcome.attempts === 1 ? '1 attempt' : `${outcome.attempts} attempts`;
  const ending = outcome.deadlineReached ? ` Gave up at the ${Math.round(timeoutMs / 100) / 10} s deadline after ${tries}.` : outcome.attempts > 1 ? ` Gave up after ${tries}.` : '';
  throw new TodoDbError({ code: failure.code, message: failure.message + ending, hint: failure.hint, kind: 'check' });
}

type ProbeResult = Omit<ConnectionReport, 'attempts' | 'elapsedMs'>;

async function probe(url: DatabaseUrl, config: pg.ClientConfig): Promise<ProbeResult> {
  const client = new pg.Client(config);
  // A socket error after connect would otherwise be an unhandled 'error' event and crash the process.
  client.on('error', () => {});
  const started = performance.now();
  try {
    await client.connect();
    const connectMs = performance.now() - started;
    const { rows } = await client.query<{ server_version: string; database: string; user: string; ssl: boolean | null; tls_version: string | null }>(
      `select current_setting('server_version') as server_version, current_database() as database, current_user as user,
              s.ssl, s.version as tls_version
         from (select 1) one left join pg_stat_ssl s on s.pid = pg_backend_pid()`,
    );
    const pingStarted = performance.now();
    await client.query('select 1');
    const latencyMs = performance.now() - pingStarted;
    const row = rows[0];
    if (!row) throw new Error('the server returned no row for the connection check');
    return {
      target: hostAndPort(url),
      serverVersion: row.server_version,
      database: row.database,
      user: row.user,
      tls: row.ssl ?? url.tls.enabled,
      tlsVersion: row.tls_version,
      pooled: url.pooled,
      neon: url.neon !== undefined,
      latencyMs: round(latencyMs),
      connectMs: round(connectMs),
    };
  } catch (error) {
    throw await explainTermination(error, url);
  } finally {
    await client.end().catch(() => {});
  }
}

/** pg reports a non-PostgreSQL server as a terminated connection; ask the port what it speaks. */
async function explainTermination(error: unknown, url: DatabaseUrl): Promise<unknown> {
  if (url.socket || !(error instanceof Error) || !/terminated unexpectedly/i.test(error.message)) return error;
  const verdict = await probePostgresProtocol(url.host, url.port);
  if (!verdict || verdict.postgres) return error;
  return Object.assign(new Error(`it answered "${verdict.firstBytes}", which is not the PostgreSQL protocol`), { code: 'NOT_POSTGRES' });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
