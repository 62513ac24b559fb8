import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import { resolveSettings } from '../config/settings.js';
import { usageError } from '../core/errors.js';
import { type Prisma, PrismaClient } from '../generated/prisma/client.js';
import { createPool, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_POOL_SIZE } from './pool.js';
import { databaseTarget } from './target.js';

export type { Task, User } from '../generated/prisma/client.js';
/**
 * The data-access face the app's backend imports: Prisma Client on our own pg pool, so the app gets the same
 * URL rules, TLS handling and timeouts as the CLI. This is the only module that loads Prisma; the CLI never
 * imports it (Prisma Client costs about 0.35 s of start-up).
 */
export { Prisma, TaskPriority, TaskStatus } from '../generated/prisma/client.js';

const MAX_POOL_SIZE = 10;

export interface DatabaseOptions {
  /** Overrides DATABASE_URL, as --database-url does for the CLI. */
  databaseUrl?: string;
  envFile?: string;
  /** The local embedded database's directory, used when no URL is configured (never in production). */
  localDir?: string;
  /**
   * With no URL configured: 'running' (the default) uses the local database only if it already runs, and fails
   * with LOCAL_DATABASE_NOT_RUNNING otherwise; 'start' starts it, and it keeps running after close() until
   * `npx todo-db local stop`.
   */
  local?: 'running' | 'start';
  /** 1 to 10 connections; default 10. */
  poolSize?: number;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** Sent as application_name unless the URL sets one; shows up in pg_stat_activity. */
  applicationName?: string;
  /** Errors of idle pooled connections; without a listener pg would crash the process. */
  onIdleError?: (message: string) => void;
  /** Progress lines, e.g. when the local database is started. */
  log?: (line: string) => void;
}

export type TransactionClient = Prisma.TransactionClient;

export interface TransactionOptions {
  maxWait?: number;
  timeout?: number;
  isolationLevel?: Prisma.TransactionIsolationLevel;
}

export interface Database {
  readonly prisma: PrismaClient;
  /** Commits when fn resolves; rolls back and rethrows fn's error when it throws. */
  transaction<T>(fn: (tx: TransactionClient) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Ends Prisma Client and the pool. Safe to call more than once. */
  close(): Promise<void>;
}

/**
 * Async because, with no URL configured, finding the database reads the local server's state (and with
 * { local: 'start' } may start it). No connection is made here: pg.Pool and Prisma Client both connect on the
 * first query.
 */
export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  const poolOptions = validatePoolOptions(options); // before a local database is started for nothing
  const settings = resolveSettings({ databaseUrl: options.databaseUrl, envFile: options.envFile, localDir: options.localDir });
  const url = await databaseTarget(settings, { purpose: 'runtime', log: options.log, local: options.local ?? 'running' });
  return openDatabaseOn(createPool(url, { ...poolOptions, applicationName: options.applicationName, onIdleError: options.onIdleError }));
}

type PoolSettings = Pick<DatabaseOptions, 'poolSize' | 'connectTimeoutMs' | 'idleTimeoutMs'>;

/** Prisma Client on a pool the caller made (smoke opens its connection while this module loads); close() ends it. */
export function openDatabaseOn(pool: pg.Pool): Database {
  // PrismaPg adopts a pool only if it is an instance of its own pg's Pool; anything else it silently takes for a
  // config and opens its own pool (to localhost:5432). The build therefore bundles the adapter with our pg.
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    transaction: (fn, txOptions) => prisma.$transaction((tx) => fn(tx), txOptions),
    close: closeOnce(prisma, pool),
  };
}

function closeOnce(prisma: PrismaClient, pool: pg.Pool): () => Promise<void> {
  let closing: Promise<void> | undefined;
  // The adapter does not end a pool it was given, so the pool is ended here, after Prisma lets go of it.
  return () => (closing ??= prisma.$disconnect().finally(() => pool.end()));
}

function validatePoolOptions({
  poolSize = DEFAULT_POOL_SIZE,
  connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
  idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS,
}: PoolSettings) {
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > MAX_POOL_SIZE) {
    throw usageError(
      'POOL_SIZE_INVALID',
      `The pool size must be a whole number from 1 to ${MAX_POOL_SIZE} (got ${poolSize}).`,
      `Pass poolSize between 1 and ${MAX_POOL_SIZE}, or leave it out for ${DEFAULT_POOL_SIZE}.`,
    );
  }
  // pg reads 0 as "wait forever", which would hang the app on an unreachable database.
  if (!Number.isInteger(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw usageError(
      'CONNECT_TIMEOUT_INVALID',
      `The connect timeout must be a positive number of milliseconds (got ${connectTimeoutMs}).`,
      `Pass connectTimeoutMs such as ${DEFAULT_CONNECT_TIMEOUT_MS}, or leave it out.`,
    );
  }
  if (!Number.isInteger(idleTimeoutMs) || idleTimeoutMs < 0) {
    throw usageError(
      'IDLE_TIMEOUT_INVALID',
      `The idle timeout must be zero or a positive number of milliseconds (got ${idleTimeoutMs}).`,
      `Pass idleTimeoutMs such as ${DEFAULT_IDLE_TIMEOUT_MS}, or leave it out.`,
    );
  }
  return { max: poolSize, connectTimeoutMs, idleTimeoutMs };
}
