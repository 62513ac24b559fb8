import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { TodoDbError } from '../core/errors.js';
import { migrationLockHeld } from './advisory-lock.js';

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

export interface OpenedHistory {
  /** Addressed by schema, so a migration's `set search_path` cannot move the history writes. */
  table: string;
  rows: HistoryRow[];
  /** server_version_num, read here rather than in a round trip of its own. */
  serverVersionNum: number;
}

const SESSION_FACTS = "select current_schema() as schema, current_setting('server_version_num')::int as version";

/**
 * The history as the migrator sees it under the lock, in one round trip: the schema the session starts in (as
 * Prisma resolves it), fixed before any migration runs; the server's version; the table, created first when
 * `create` is set; its rows. The unqualified names here resolve to that schema: nothing has changed the session yet.
 */
export async function openHistory(db: Queryable, { create }: { create: boolean }): Promise<OpenedHistory> {
  const unqualified = pg.escapeIdentifier(HISTORY_TABLE);
  const statements = [SESSION_FACTS, ...(create ? [createHistorySql(unqualified)] : []), selectHistorySql(unqualified)];
  let facts: { schema: string | null; version: number } | undefined;
  let rows: HistoryRow[] = [];
  try {
    const results = (await db.query(statements.join(';\n'))) as unknown as pg.QueryResult[];
    facts = results[0]?.rows[0];
    rows = historyRows(results.at(-1));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === NO_SCHEMA_SELECTED) throw noSchema();
    if (code !== UNDEFINED_TABLE) throw error;
    // Not created (down, on a database that has none): no rows, but the facts are still needed.
    facts = (await db.query<{ schema: string | null; version: number }>(SESSION_FACTS)).rows[0];
  }
  if (!facts?.schema) throw noSchema();
  return { table: `${pg.escapeIdentifier(facts.schema)}.${pg.escapeIdentifier(HISTORY_TABLE)}`, rows, serverVersionNum: facts.version };
}

function noSchema(): TodoDbError {
  return new TodoDbError({
    code: 'NO_SCHEMA',
    message: 'The session has no current schema: no schema of its search_path exists, so the migration history has nowhere to live.',
    hint: "Create the schema, or fix the role's or database's search_path (SHOW search_path).",
    kind: 'usage',
  });
}

const createHistorySql = (table: string) => `CREATE TABLE IF NOT EXISTS ${table} (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/**
 * All rows in one value, a JSON array of arrays: pg decodes a row at a time in JavaScript, which costs about 8 ms
 * for a thousand rows in a process that has just started, on every no-op command; the server builds the array in
 * about 2 ms, and JSON.parse reads it in well under one. The timestamps come as epoch milliseconds (floored, as
 * pg's own parser truncates to a Date's precision). Ordered by the columns themselves, so microseconds still count.
 */
const selectHistorySql = (table: string) =>
  `select coalesce(json_agg(json_build_array(h.id, h.checksum, ${epochMs('finished_at')}, h.migration_name, h.logs, ${epochMs('rolled_back_at')}, ${epochMs('started_at')}, h.applied_steps_count)
    order by h.started_at, h.migration_name), '[]') as history from ${table} as h`;

const epochMs = (column: string) => `floor(extract(epoch from h.${column}) * 1000)::int8`;

type HistoryArray = [string, string, number | null, string, string | null, number | null, number, number];

/**
 * The rows of selectHistorySql's one value (pg parses json itself). Read by index: destructuring an array goes
 * through its iterator, which in a process that has just started costs a result object per element.
 */
function historyRows(result: pg.QueryResult | undefined): HistoryRow[] {
  const history: HistoryArray[] = result?.rows[0]?.history ?? [];
  return history.map((row) => ({
    id: row[0],
    checksum: row[1],
    finished_at: dateOrNull(row[2]),
    migration_name: row[3],
    logs: row[4],
    rolled_back_at: dateOrNull(row[5]),
    started_at: new Date(row[6]),
    applied_steps_count: row[7],
  }));
}

const dateOrNull = (ms: number | null) => (ms === null ? null : new Date(ms));

/** One round trip: a no-op `migrate up` costs a connection and this query. */
export async function readHistory(db: Queryable, table: string): Promise<HistoryRow[]> {
  try {
    return historyRows(await db.query(selectHistorySql(table)));
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
 * table as openHistory's: nothing has changed the session yet. The lock is asked about only for an unfinished row.
 */
export async function observeHistory(db: Queryable): Promise<ObservedHistory> {
  const rows = await readHistory(db, pg.escapeIdentifier(HISTORY_TABLE));
  return { rows, migratorRunning: rows.some(isUnfinished) && (await migrationLockHeld(db)) };
}

const UNDEFINED_TABLE = '42P01';
const NO_SCHEMA_SELECTED = '3F000';

/** Rows get strictly increasing started_at values: Prisma compares checksums against the first row of a name. */
const nextStartedAt = (table: string) => `greatest(clock_timestamp(), (select max(started_at) + interval '1 microsecond' from ${table}))`;

/**
 * Prisma's first write: the row exists before the script runs, with finished_at NULL and 0 steps. Returned as
 * SQL text so the runner can send it in the same message as BEGIN, the script and COMMIT.
 */
export function insertStartedSql(table: string, id: string, name: string, checksum: string): string {
  return `insert into ${table} (id, checksum, migration_name, started_at, applied_steps_count) values (${pg.escapeLiteral(id)}, ${pg.escapeLiteral(checksum)}, ${pg.escapeLiteral(name)}, ${nextStartedAt(table)}, 0)`;
}

/** The column of markFinishedSql's one row: how long the migration ran, as the server measured it. */
export const DURATION_COLUMN = 'todo_db_duration_ms';

export function markFinishedSql(table: string, id: string): string {
  return `update ${table} set finished_at = clock_timestamp(), applied_steps_count = 1 where id = ${pg.escapeLiteral(id)}
    returning round((extract(epoch from finished_at - started_at) * 1000)::numeric, 1)::float8 as ${DURATION_COLUMN}`;
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
  await db.query(`insert into ${table} (id, checksum, logs, started_at, finished_at, migration_name) values ($1, $2, '', now(), now(), $3)`, [
    randomUUID(),
    checksum,
    name,
  ]);
}

/** `prisma migrate resolve --rolled-back` (mark_migration_rolled_back_by_id), for each failed row of a name. */
export async function markFailedRolledBack(db: Queryable, table: string, name: string): Promise<number> {
  const { rowCount } = await db.query(
    `update ${table} set rolled_back_at = now() where migration_name = $1 and finished_at is null and rolled_back_at is null`,
    [name],
  );
  return rowCount ?? 0;
}

/**
 * `migrate resolve --edited`: the file's checksum on the applied rows of that name (the ones Prisma and todo-db
 * compare the file with); nothing else changes.
 */
export async function recordEditedChecksum(db: Queryable, table: string, name: string, checksum: string): Promise<void> {
  await db.query(`update ${table} set checksum = $1 where migration_name = $2 and finished_at is not null and rolled_back_at is null`, [checksum, name]);
}

/** A row of a migration that neither finished nor was rolled back: running now, or cut short. */
function isUnfinished(row: HistoryRow): boolean {
  return !row.finished_at && !row.rolled_back_at;
}
