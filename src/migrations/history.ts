import { randomUUID } from 'node:crypto';
import pg from 'pg';

/**
 * `_prisma_migrations`, exactly as Prisma Migrate creates and fills it (migrations.md), so Prisma's tools can read
 * todo-db's history and the two never fight.
 */
export const HISTORY_TABLE = '_prisma_migrations';

const CREATE_HISTORY = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

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

export async function ensureHistoryTable(db: Queryable): Promise<void> {
  await db.query(CREATE_HISTORY);
}

/** One round trip: a no-op `migrate up` costs a connection and this query. */
export async function readHistory(db: Queryable): Promise<HistoryRow[]> {
  try {
    const { rows } = await db.query<HistoryRow>(`select * from "${HISTORY_TABLE}" order by started_at, migration_name`);
    return rows;
  } catch (error) {
    if ((error as { code?: string }).code === UNDEFINED_TABLE) return [];
    throw error;
  }
}

const UNDEFINED_TABLE = '42P01';

/** Rows get strictly increasing started_at values: Prisma compares checksums against the first row of a name. */
const NEXT_STARTED_AT = `greatest(clock_timestamp(), (select max(started_at) + interval '1 microsecond' from "${HISTORY_TABLE}"))`;

/**
 * Prisma's first write: the row exists before the script runs, with finished_at NULL and 0 steps. Returned as
 * SQL text so the runner can send it in the same round trip as BEGIN: 100 migrations are 100 x 3 round trips.
 */
export function insertStartedSql(id: string, name: string, checksum: string): string {
  return `insert into "${HISTORY_TABLE}" (id, checksum, migration_name, started_at, applied_steps_count) values (${pg.escapeLiteral(id)}, ${pg.escapeLiteral(checksum)}, ${pg.escapeLiteral(name)}, ${NEXT_STARTED_AT}, 0)`;
}

export function markFinishedSql(id: string): string {
  return `update "${HISTORY_TABLE}" set finished_at = clock_timestamp(), applied_steps_count = 1 where id = ${pg.escapeLiteral(id)}`;
}

export async function insertStarted(db: Queryable, name: string, checksum: string): Promise<string> {
  const id = randomUUID();
  await db.query(insertStartedSql(id, name, checksum));
  return id;
}

export async function markFinished(db: Queryable, id: string): Promise<void> {
  await db.query(markFinishedSql(id));
}

/** A non-transactional migration that failed: recorded exactly as Prisma records a failure. */
export async function markFailed(db: Queryable, id: string, logs: string): Promise<void> {
  await db.query(`update "${HISTORY_TABLE}" set logs = $2 where id = $1`, [id, logs]);
}

/**
 * A transactional migration that failed and rolled back leaves nothing in the schema, but we keep the failure
 * for the audit trail: rolled_back_at set means "rolled back, apply again" to Prisma.
 */
export async function recordRolledBackFailure(db: Queryable, name: string, checksum: string, logs: string): Promise<void> {
  await db.query(
    `insert into "${HISTORY_TABLE}" (id, checksum, migration_name, logs, started_at, rolled_back_at, applied_steps_count) values ($1, $2, $3, $4, ${NEXT_STARTED_AT}, clock_timestamp(), 0)`,
    [randomUUID(), checksum, name, logs],
  );
}

export async function markRolledBack(db: Queryable, id: string): Promise<void> {
  await db.query(`update "${HISTORY_TABLE}" set rolled_back_at = clock_timestamp() where id = $1`, [id]);
}

/**
 * `prisma migrate resolve --applied`'s row, as its schema engine writes it (mark_migration_applied_impl): a new
 * id, the file's checksum, logs '' (not NULL), started_at and finished_at the same instant, steps left at 0.
 */
export async function insertMarkedApplied(db: Queryable, name: string, checksum: string): Promise<void> {
  await db.query(
    `insert into "${HISTORY_TABLE}" (id, checksum, logs, started_at, finished_at, migration_name) values ($1, $2, '', now(), now(), $3)`,
    [randomUUID(), checksum, name],
  );
}

/** `prisma migrate resolve --rolled-back` (mark_migration_rolled_back_by_id), for each failed row of a name. */
export async function markFailedRolledBack(db: Queryable, name: string): Promise<number> {
  const { rowCount } = await db.query(`update "${HISTORY_TABLE}" set rolled_back_at = now() where migration_name = $1 and finished_at is null and rolled_back_at is null`, [name]);
  return rowCount ?? 0;
}
