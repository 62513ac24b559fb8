import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { TodoDbError } from '../errors.js';
import { migrationLockHeld } from './lock.js';
import { isUnfinished } from './plan.js';

/**
 * `_prisma_migrations`, exactly as Prisma Migrate creates and fills it (migrations.md), so Prisma's tools can read
 * todo-db's history and the two never fight.
 */
export const HISTORY_TABLE = '_prisma_migrations';

export interface HistoryRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

type Queryable = Pick<pg.ClientBase, 'query'>;

/**
 * The history table addressed by schema: the schema the session starts in (as Prisma resolves it), fixed before
 * any migration runs, so a migration's `set search_path` cannot move the history writes.
 */
export async function historyTable(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ schema: string | null }>('select current_schema() as schema');
  const schema = rows[0]?.schema;
  if (!schema) {
    throw new TodoDbError({ code: 'NO_SCHEMA', message: 'The session has no current schema: no schema of its search_path exists, so the migration history has nowhere to live.', hint: 'Create the schema, or fix the role\'s or database\'s search_path (SHOW search_path).', kind: 'usage' });
  }
  return `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(HISTORY_TABLE)}`;
}

export async function ensureHistoryTable(db: Queryable, table: string): Promise<void> {
  await db.query(`CREATE TABLE IF NOT EXISTS ${table} (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`);
}

/** One round trip: a no-op `migrate up` costs a connection and this query. */
export async function readHistory(db: Queryable, table: string): Promise<HistoryRow[]> {
  try {
    return (await db.query<HistoryRow>(`select * from ${table} order by started_at, migration_name`)).rows;
  } catch (error) {
    if ((error as { code?: string }).code === UNDEFINED_TABLE) return [];
    throw error;
  }
}

export interface ObservedHistory {
  rows: HistoryRow[];
  /** Another migrator holds the migration lock: an unfinished row may be its migration in progress. */
  migratorRunning: boolean;
}

/**
 * The history as seen from outside the lock (status, health, up before it locks). Unqualified, which is the same
 * table as historyTable's: nothing has changed the session yet. The lock is asked about only for an unfinished row.
 */
export async function observeHistory(db: Queryable): Promise<ObservedHistory> {
  const rows = await readHistory(db, pg.escapeIdentifier(HISTORY_TABLE));
  return { rows, migratorRunning: rows.some(isUnfinished) && (await migrationLockHeld(db)) };
}

const UNDEFINED_TABLE = '42P01';

/** Rows get strictly increasing started_at values: Prisma compares checksums against the first row of a name. */
const nextStartedAt = (table: string) => `greatest(clock_timestamp(), (select max(started_at) + interval '1 microsecond' from ${table}))`;

/**
 * Prisma's first write: the row exists before the script runs, with finished_at NULL and 0 steps. Returned as
 * SQL text so the runner can send it in the same round trip as BEGIN: 100 migrations are 100 x 3 round trips.
 */
export function insertStartedSql(table: string, id: string, name: string, checksum: string): string {
  return `insert into ${table} (id, checksum, migration_name, started_at, applied_steps_count) values (${pg.escapeLiteral(id)}, ${pg.escapeLiteral(checksum)}, ${pg.escapeLiteral(name)}, ${nextStartedAt(table)}, 0)`;
}

export function markFinishedSql(table: string, id: string): string {
  return `update ${table} set finished_at = clock_timestamp(), applied_steps_count = 1 where id = ${pg.escapeLiteral(id)}`;
}

/** A non-transactional migration that failed: recorded exactly as Prisma records a failure. */
export function markFailedSql(table: string, id: string, logs: string): string {
  return `update ${table} set logs = ${pg.escapeLiteral(logs)} where id = ${pg.escapeLiteral(id)}`;
}

export function markRolledBackSql(table: string, id: string): string {
  return `update ${table} set rolled_back_at = clock_timestamp() where id = ${pg.escapeLiteral(id)}`;
}

export async function insertStarted(db: Queryable, table: string, name: string, checksum: string): Promise<string> {
  const id = randomUUID();
  await db.query(insertStartedSql(table, id, name, checksum));
  return id;
}

/**
 * A transactional migration that failed and rolled back leaves nothing in the schema, but we keep the failure
 * for the audit trail: rolled_back_at set means "rolled back, apply again" to Prisma.
 */
export async function recordRolledBackFailure(db: Queryable, table: string, name: string, checksum: string, logs: string): Promise<void> {
  await db.query(
    `insert into ${table} (id, checksum, migration_name, logs, started_at, rolled_back_at, applied_steps_count) values ($1, $2, $3, $4, ${nextStartedAt(table)}, clock_timestamp(), 0)`,
    [randomUUID(), checksum, name, logs],
  );
}


/**
 * `prisma migrate resolve --applied`'s row, as its schema engine writes it (mark_migration_applied_impl): a new
 * id, the file's checksum, logs '' (not NULL), started_at and finished_at the same instant, steps left at 0.
 */
export async function insertMarkedApplied(db: Queryable, table: string, name: string, checksum: string): Promise<void> {
  await db.query(
    `insert into ${table} (id, checksum, logs, started_at, finished_at, migration_name) values ($1, $2, '', now(), now(), $3)`,
    [randomUUID(), checksum, name],
  );
}

/** `prisma migrate resolve --rolled-back` (mark_migration_rolled_back_by_id), for each failed row of a name. */
export async function markFailedRolledBack(db: Queryable, table: string, name: string): Promise<number> {
  const { rowCount } = await db.query(`update ${table} set rolled_back_at = now() where migration_name = $1 and finished_at is null and rolled_back_at is null`, [name]);
  return rowCount ?? 0;
}
