import pg from 'pg';
import type { DatabaseUrl } from '../config/database-url.js';
import type { Environment } from '../config/settings.js';
import { TodoDbError } from '../core/errors.js';
import { type ConnectionFailure, classifyConnectionError } from './classify.js';
import { clientConfig, DEFAULT_CONNECT_TIMEOUT_MS } from './pool.js';
import { probePostgresProtocol } from './protocol-probe.js';
import { type AttemptFailure, retry } from './retry.js';

const PRODUCTION_ATTEMPTS = 5;

export interface ConnectOptions {
  environment: Environment;
  /** Retries after the first attempt. Default: 4 in production (5 attempts, for a Neon compute waking up), 0 elsewhere. */
  retries?: number;
  /** Deadline for all attempts together. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  applicationName?: string;
  onAttemptFailed?: (event: AttemptFailure<ConnectionFailure>) => void;
}

export interface Connection {
  client: pg.Client;
  attempts: number;
  elapsedMs: number;
  connectMs: number;
}

/**
 * One dedicated connection, with transient failures retried (backoff with full jitter, within a deadline) and
 * every failure turned into a TodoDbError that says what to do.
 */
export async function connect(url: DatabaseUrl, options: ConnectOptions): Promise<Connection> {
  // Built once, before any attempt: a missing certificate file is a configuration error, not a retryable failure.
  const config = clientConfig(url, { applicationName: options.applicationName });
  return establish(url, options, (timeoutMs) => attempt({ ...config, connectionTimeoutMillis: timeoutMs }));
}

/**
 * A pool's first connection, made now with connect()'s retries and messages and handed back to the pool, which
 * keeps it for its next query: a caller can open it while it loads something else (smoke, while Prisma loads).
 * Each attempt takes the pool's own connect timeout.
 */
export async function connectPool(pool: pg.Pool, url: DatabaseUrl, options: ConnectOptions): Promise<pg.PoolClient> {
  const { client } = await establish(url, options, () => pool.connect());
  return client;
}

/** Attempts `open` under the retry policy; each attempt is timed, and a failure explained and classified. */
async function establish<C>(
  url: DatabaseUrl,
  options: ConnectOptions,
  open: (timeoutMs: number) => Promise<C>,
): Promise<{ client: C; attempts: number; elapsedMs: number; connectMs: number }> {
  const retries = options.retries ?? (options.environment === 'production' ? PRODUCTION_ATTEMPTS - 1 : 0);
  const connectTimeoutMs = options.connectTimeoutMs ?? url.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const timeoutMs = options.timeoutMs ?? (retries === 0 ? connectTimeoutMs : 60_000);
  const timedAttempt = async ({ remainingMs }: { remainingMs: number }) => {
    const started = performance.now();
    const client = await open(Math.min(connectTimeoutMs, remainingMs)).catch(async (error: unknown) => Promise.reject(await explainTermination(error, url)));
    return { client, connectMs: Math.round((performance.now() - started) * 100) / 100 };
  };
  const outcome = await retry(
    timedAttempt,
    (error) => classifyConnectionError(error, url),
    { maxAttempts: retries + 1, deadlineMs: timeoutMs },
    options.onAttemptFailed,
  );
  if (outcome.value) return { ...outcome.value, attempts: outcome.attempts, elapsedMs: outcome.elapsedMs };

  const failure = outcome.failure as ConnectionFailure;
  const tries = outcome.attempts === 1 ? '1 attempt' : `${outcome.attempts} attempts`;
  const ending = outcome.deadlineReached
    ? ` Gave up at the ${Math.round(timeoutMs / 100) / 10} s deadline after ${tries}.`
    : outcome.attempts > 1
      ? ` Gave up after ${tries}.`
      : '';
  throw new TodoDbError({
    code: failure.code,
    message: failure.message + ending,
    hint: failure.hint,
    kind: 'check',
    facts: { sqlstate: failure.sqlstate, ...(failure.lost ? { cause: 'connection_lost' as const } : {}) },
  });
}

/** One connection for one piece of work, always closed afterwards, whatever the work does. */
export async function withConnection<T>(url: DatabaseUrl, options: ConnectOptions, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const { client } = await connect(url, options);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function attempt(config: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client(config);
  // A socket error while idle would otherwise be an unhandled 'error' event and crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
}

/** pg reports a non-PostgreSQL server as a terminated connection; ask the port what it speaks. */
async function explainTermination(error: unknown, url: DatabaseUrl): Promise<unknown> {
  if (url.socket || !(error instanceof Error) || !/terminated unexpectedly/i.test(error.message)) return error;
  const verdict = await probePostgresProtocol(url.host, url.port);
  if (!verdict || verdict.postgres) return error;
  return Object.assign(new Error(`it answered "${verdict.firstBytes}", which is not the PostgreSQL protocol`), { code: 'NOT_POSTGRES' });
}
