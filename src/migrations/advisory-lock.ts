import type pg from 'pg';
import { TodoDbError } from '../core/errors.js';

/**
 * The same session-level advisory lock Prisma Migrate takes, so a todo-db run and a Prisma run exclude each
 * other. It lives on the one dedicated connection that also runs the migrations; if the process dies, the server
 * drops the connection and the lock with it.
 */
export const MIGRATION_LOCK_KEY = 72707369;

export interface LockHolder {
  pid: number;
  applicationName: string;
  clientAddress: string | null;
  connectedSince: Date;
  state: string | null;
}

export interface LockWait {
  waitedMs: number;
  holder?: LockHolder;
}

/** How often a waiting migrator tries the lock again. */
const RETRY_INTERVAL_MS = 100;

/**
 * Waits by trying, never by blocking in pg_advisory_lock: a blocked waiter holds a snapshot, and CREATE INDEX
 * CONCURRENTLY in the holder's no-transaction migration waits for every transaction with an older snapshot, so
 * the two would deadlock. Each try is a transaction of a few microseconds.
 */
async function acquireMigrationLock(client: pg.Client, timeoutMs: number, onWait: (holder: LockHolder | undefined) => void): Promise<LockWait> {
  if (await tryLock(client)) return { waitedMs: 0 };
  const holder = await findLockHolder(client);
  onWait(holder);
  const started = Date.now();
  for (;;) {
    const remainingMs = timeoutMs - (Date.now() - started);
    if (remainingMs <= 0) throw lockTimeout(timeoutMs, await findLockHolder(client).catch(() => holder));
    await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_INTERVAL_MS, remainingMs)));
    if (await tryLock(client)) return { waitedMs: Date.now() - started, holder };
  }
}

/** Runs `work` under the migration lock (given how long it waited for it), and releases the lock after. */
export async function withMigrationLock<T>(
  client: pg.Client,
  timeoutMs: number,
  log: ((line: string) => void) | undefined,
  work: (waitedMs: number) => Promise<T>,
): Promise<T> {
  const wait = await acquireMigrationLock(client, timeoutMs, (holder) => log?.(`waiting for the migration lock held by ${describeHolder(holder)}`));
  if (wait.waitedMs > 0) log?.(`got the migration lock after waiting ${wait.waitedMs} ms`);
  try {
    return await work(wait.waitedMs);
  } finally {
    await releaseMigrationLock(client).catch(() => {});
  }
}

async function tryLock(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [MIGRATION_LOCK_KEY]);
  return rows[0]?.locked ?? false;
}

async function releaseMigrationLock(client: pg.Client): Promise<void> {
  await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
}

/** Advisory locks belong to a database: only a holder in this one is a migrator of this history. */
const THIS_LOCK = `l.locktype = 'advisory' and l.granted and l.classid = 0 and l.objid = $1 and l.objsubid = 1
        and l.database = (select oid from pg_database where datname = current_database())`;

/** Whether some session (another migrator, as this one asks before taking the lock) holds the migration lock. */
export async function migrationLockHeld(db: Pick<pg.ClientBase, 'query'>): Promise<boolean> {
  const { rows } = await db.query<{ held: boolean }>(`select exists (select 1 from pg_locks l where ${THIS_LOCK}) as held`, [MIGRATION_LOCK_KEY]);
  return rows[0]?.held ?? false;
}

async function findLockHolder(client: pg.Client): Promise<LockHolder | undefined> {
  const { rows } = await client.query<{ pid: number; application_name: string; client_addr: string | null; backend_start: Date; state: string | null }>(
    `select a.pid, a.application_name, host(a.client_addr) as client_addr, a.backend_start, a.state
       from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where ${THIS_LOCK}
      limit 1`,
    [MIGRATION_LOCK_KEY],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { pid: row.pid, applicationName: row.application_name, clientAddress: row.client_addr, connectedSince: row.backend_start, state: row.state };
}

function describeHolder(holder: LockHolder | undefined): string {
  if (!holder) return 'another session (it could not be identified)';
  const app = holder.applicationName ? ` "${holder.applicationName}"` : '';
  const from = holder.clientAddress ? ` from ${holder.clientAddress}` : ' over a local socket';
  return `pid ${holder.pid}${app}${from}, connected since ${holder.connectedSince.toISOString()}`;
}

function lockTimeout(timeoutMs: number, holder: LockHolder | undefined): TodoDbError {
  return new TodoDbError({
    code: 'LOCK_TIMEOUT',
    message: `Another migration holds the migration lock: ${describeHolder(holder)}. Waited ${timeoutMs} ms.`,
    hint: holder
      ? `Wait for it to finish and run again, raise --lock-timeout, or if that session is stuck end it with: select pg_terminate_backend(${holder.pid});`
      : 'Wait for the other migration to finish and run again, or raise --lock-timeout.',
  });
}
