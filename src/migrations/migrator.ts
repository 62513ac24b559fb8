import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { hostAndPort, type DatabaseUrl } from '../config/database-url.js';
import type { Environment } from '../config/settings.js';
import { connect } from '../db/connect.js';
import { TodoDbError, usageError } from '../errors.js';
import { loadSqlParser, SqlSyntaxError, type ParsedStatement } from '../sql/parser.js';
import { encodingInvalid, failureOffset, migrationFailed, statementRefused, syntaxError, type MigrationFile } from './errors.js';
import { readMigrations, type Migration, type SqlText } from './folder.js';
import { ensureHistoryTable, historyTable, insertStarted, insertStartedSql, markFailedSql, markFinishedSql, markRolledBackSql, observeHistory, readHistory, recordRolledBackFailure, type HistoryRow } from './history.js';
import { acquireMigrationLock, describeHolder, releaseMigrationLock } from './lock.js';
import { CONNECTION_CHECK_INTERVAL, connectionCheckSupported } from './connection-check.js';
import { goesThroughTransactionPooler } from './pooler.js';
import { MIGRATION_STATES, needsAttention, pendingUpTo, planMigrations, requireKnown, revertible, verifyHistory, type MigrationEntry, type MigrationState } from './plan.js';
import { eachStep } from './results.js';
import { findStatementProblem } from './sql.js';

export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;
export const DEFAULT_STATEMENT_LOCK_TIMEOUT_MS = 10_000;

export interface MigratorOptions {
  url: DatabaseUrl;
  migrationsDir: string;
  environment?: Environment;
  /** How long to wait for the migration lock held by another migrator. */
  lockTimeoutMs?: number;
  /** SET LOCAL lock_timeout inside each migration: a migration never queues application traffic for long. */
  statementLockTimeoutMs?: number;
  log?: (line: string) => void;
  /**
   * Given the migrations `up` is about to apply (or, in a dry run, would apply), on its connection, before any
   * runs; throwing stops `up` with nothing applied. Not called when nothing is pending. `migrate up` lints here.
   */
  beforeApply?: (pending: Migration[], client: pg.Client) => Promise<void>;
}

export interface UpOptions {
  to?: string;
  dryRun?: boolean;
  allowOutOfOrder?: boolean;
}

export interface DownOptions {
  steps?: number;
  to?: string;
  dryRun?: boolean;
  /** Required in production. */
  yes?: boolean;
}

export interface PlannedStep {
  name: string;
  transactional: boolean;
  sql: string;
}

export interface StepResult {
  name: string;
  durationMs: number;
}

export interface UpReport {
  dryRun: boolean;
  applied: StepResult[];
  plan: PlannedStep[];
  waitedForLockMs: number;
}

export interface DownReport {
  dryRun: boolean;
  rolledBack: StepResult[];
  plan: PlannedStep[];
  waitedForLockMs: number;
}

export interface StatusEntry {
  name: string;
  state: MigrationState;
  startedAt: string | null;
  finishedAt: string | null;
  rolledBackAt: string | null;
  logs: string | null;
}

export interface StatusReport {
  migrations: StatusEntry[];
  counts: Record<MigrationState, number>;
  upToDate: boolean;
}

/** A file about to run, judged and split by PostgreSQL's parser. */
interface Prepared {
  sql: string;
  statements: ParsedStatement[];
}

/**
 * What DISCARD ALL does, as its documentation spells it out, minus pg_advisory_unlock_all(), which would release the
 * migration lock. Sent after every migration and rollback, inside its transaction and before its history write,
 * so nothing it set (search_path, role, settings, temporary tables, prepared statements) reaches the history
 * write, the next migration or down.sql.
 */
const RESET_SESSION = 'close all; set session authorization default; reset role; reset all; deallocate all; unlisten *; discard plans; discard temp; discard sequences';

/**
 * Thin public methods over one private engine: every method reads the folder and the history the same way,
 * and up/down run under the migration lock on one dedicated, direct connection.
 */
export class Migrator {
  constructor(private readonly options: MigratorOptions) {}

  async status(): Promise<StatusReport> {
    return this.session(async (client, migrations) => {
      const { rows, migratorRunning } = await observeHistory(client);
      return statusReport(planMigrations(migrations, rows, migratorRunning));
    });
  }

  async up({ to, dryRun = false, allowOutOfOrder = false }: UpOptions = {}): Promise<UpReport> {
    if (!dryRun) this.refusePooled();
    return this.session(async (client, migrations) => {
      if (to !== undefined) requireKnown(migrations, to);
      const { rows, migratorRunning } = await observeHistory(client);
      const entries = planMigrations(migrations, rows, migratorRunning);
      verifyHistory(entries);
      const pending = pendingUpTo(entries, to, allowOutOfOrder);
      // A migration another migrator is applying: wait for its lock, then see what is left.
      const running = entries.some((entry) => entry.state === 'running');
      // Nothing pending needs no lock and no parser: another migrator can only add to the history, never make this wrong.
      if (pending.length === 0 && !running) return { dryRun, applied: [], plan: [], waitedForLockMs: 0 };
      // Loading the parser overlaps the pooler check and the lock; nothing is written before the files are judged.
      const judging = prepareEach(pending, prepareUp);
      judging.catch(() => {});
      // The caller's review (the lint) sees only files the engine accepts.
      if (pending.length > 0 && this.options.beforeApply) {
        await judging;
        await this.options.beforeApply(pending.map((entry) => entry.migration as Migration), client);
      }
      if (dryRun) {
        await judging;
        return { dryRun, applied: [], plan: pending.map(plannedUp), waitedForLockMs: 0 };
      }
      // Only where a lock is taken: the check costs a second connection, which a no-op up should not pay.
      await this.refuseDetectedPooler(client);
      return this.locked(client, async (waitedForLockMs) => {
        const judged = await judging;
        const table = await historyTable(client);
        await ensureHistoryTable(client, table);
        const stillPending = pendingUpTo(verified(planMigrations(migrations, await readHistory(client, table))), to, allowOutOfOrder);
        const prepared = await prepareEach(stillPending, prepareUp, judged);
        const applied = await eachStep(stillPending, 'applied', (entry) =>
          this.timed(entry.name, () => this.apply(client, table, entry.migration as Migration, prepared.get(entry.name) as Prepared)),
        );
        return { dryRun, applied, plan: stillPending.map(plannedUp), waitedForLockMs };
      });
    });
  }

  async down({ steps, to, dryRun = false, yes = false }: DownOptions = {}): Promise<DownReport> {
    if (this.options.environment === 'production' && !yes && !dryRun) {
      throw usageError('CONFIRMATION_REQUIRED', 'migrate down in production drops schema objects and their data.', 'Run it with --yes if you mean it, or with --dry-run to see what it would do.');
    }
    if (!dryRun) this.refusePooled();
    return this.session(async (client, migrations) => {
      if (to !== undefined) requireKnown(migrations, to);
      const planned = revertible(planMigrations(migrations, (await observeHistory(client)).rows), { steps, to });
      // Every down.sql that will run is judged before the first one runs.
      const judged = await prepareEach(planned, prepareDown);
      if (dryRun) return { dryRun, rolledBack: [], plan: planned.map(plannedDown), waitedForLockMs: 0 };
      await this.refuseDetectedPooler(client);
      return this.locked(client, async (waitedForLockMs) => {
        const table = await historyTable(client);
        const chosen = revertible(planMigrations(migrations, await readHistory(client, table)), { steps, to });
        const prepared = await prepareEach(chosen, prepareDown, judged);
        const rolledBack = await eachStep(chosen, 'rolled back', (entry) => this.timed(entry.name, () => this.revert(client, table, entry, prepared.get(entry.name) as Prepared)));
        return { dryRun, rolledBack, plan: chosen.map(plannedDown), waitedForLockMs };
      });
    });
  }

  private async apply(client: pg.Client, table: string, migration: Migration, prepared: Prepared): Promise<void> {
    if (!migration.transactional) return this.applyOutsideTransaction(client, table, migration, prepared);
    const id = randomUUID();
    try {
      await client.query(`begin; ${(await this.guards(client)).local}; ${insertStartedSql(table, id, migration.name, migration.checksum)}`);
      // One simple query: the whole file, as Prisma sends it, but inside our explicit transaction.
      await runWhole(client, prepared);
      await client.query(`${RESET_SESSION}; ${markFinishedSql(table, id)}; commit`);
    } catch (error) {
      await client.query('rollback').catch(() => {});
      const failure = migrationFailed(migration, 'migration.sql', prepared.sql, unwrap(error), { offset: offsetOf(error) });
      await recordRolledBackFailure(client, table, migration.name, migration.checksum, failure.message).catch(() => {});
      throw failure;
    }
  }

  /** Statement by statement: PostgreSQL runs a multi-statement query as one implicit transaction. */
  private async applyOutsideTransaction(client: pg.Client, table: string, migration: Migration, prepared: Prepared): Promise<void> {
    // Session-level, as there is no transaction to scope them to; RESET_SESSION ends them.
    await client.query((await this.guards(client)).session);
    const id = await insertStarted(client, table, migration.name, migration.checksum);
    for (const statement of prepared.statements) {
      try {
        await client.query(statement.sql);
      } catch (error) {
        const offset = failureOffset(error, { text: statement.sql, offset: statement.offset }, statement.offset);
        const failure = migrationFailed(migration, 'migration.sql', prepared.sql, error, { offset, rolledBack: false });
        await client.query(`${RESET_SESSION}; ${markFailedSql(table, id, failure.message)}`).catch(() => {});
        throw failure;
      }
    }
    await client.query(`${RESET_SESSION}; ${markFinishedSql(table, id)}`);
  }

  private async revert(client: pg.Client, table: string, entry: MigrationEntry, prepared: Prepared): Promise<void> {
    const migration = entry.migration as Migration;
    const row = entry.row as HistoryRow;
    try {
      await client.query(`begin; ${(await this.guards(client)).local}`);
      await runWhole(client, prepared);
      await client.query(`${RESET_SESSION}; ${markRolledBackSql(table, row.id)}; commit`);
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw migrationFailed(migration, 'down.sql', prepared.sql, unwrap(error), { offset: offsetOf(error) });
    }
  }

  private async timed(name: string, step: () => Promise<void>): Promise<StepResult> {
    const started = performance.now();
    await step();
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    this.options.log?.(`${name} (${durationMs} ms)`);
    return { name, durationMs };
  }

  private async locked<T>(client: pg.Client, work: (waitedForLockMs: number) => Promise<T>): Promise<T> {
    const timeoutMs = this.options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    const wait = await acquireMigrationLock(client, timeoutMs, (holder) => this.options.log?.(`waiting for the migration lock held by ${describeHolder(holder)}`));
    if (wait.waitedMs > 0) this.options.log?.(`got the migration lock after waiting ${wait.waitedMs} ms`);
    try {
      return await work(wait.waitedMs);
    } finally {
      await releaseMigrationLock(client).catch(() => {});
    }
  }

  /** Reads the folder while the connection is being set up: the two waits overlap. */
  private async session<T>(work: (client: pg.Client, migrations: Migration[]) => Promise<T>): Promise<T> {
    const connecting = this.connect();
    let migrations: Migration[];
    try {
      migrations = readMigrations(this.options.migrationsDir);
    } catch (error) {
      await connecting.then((client) => client.end(), () => {});
      throw error;
    }
    const client = await connecting;
    try {
      return await work(client, migrations);
    } finally {
      await client.end().catch(() => {});
    }
  }

  /**
   * The settings every migration and rollback runs under: lock_timeout, so it never queues application traffic
   * behind it for long, and on PostgreSQL 14+ the connection check, so a killed migrator releases its locks within
   * a second instead of when its statement ends.
   */
  private async guards(client: pg.Client): Promise<{ local: string; session: string }> {
    const lockTimeoutMs = Math.max(1, Math.round(this.options.statementLockTimeoutMs ?? DEFAULT_STATEMENT_LOCK_TIMEOUT_MS));
    const settings = [['lock_timeout', String(lockTimeoutMs)]];
    if (await connectionCheckSupported(client)) settings.push(['client_connection_check_interval', `'${CONNECTION_CHECK_INTERVAL}'`]);
    const statements = (verb: string) => settings.map(([name, value]) => `${verb} ${name} = ${value}`).join('; ');
    return { local: statements('set local'), session: statements('set') };
  }

  private async connect(): Promise<pg.Client> {
    const { client } = await connect(this.options.url, { environment: this.options.environment ?? 'development', applicationName: 'todo-db migrate' });
    return client;
  }

  /** A session lock through a transaction-mode pooler stays on whichever backend ran it. */
  private refusePooled(): void {
    const { url } = this.options;
    if (url.pooled) throw this.pooledError(`${url.variable} points at a transaction-mode pooler (${hostAndPort(url)}), where the migration lock cannot hold.`);
  }

  /** The URL rules only know Neon's -pooler hosts and port 6432; a PgBouncer elsewhere is found by how it behaves. */
  private async refuseDetectedPooler(client: pg.Client): Promise<void> {
    if (!(await goesThroughTransactionPooler(client, () => this.connect()))) return;
    const { url } = this.options;
    throw this.pooledError(`${url.variable} (${hostAndPort(url)}) goes through a transaction-mode pooler: two connections shared one server session, so the migration lock cannot hold.`);
  }

  private pooledError(message: string): TodoDbError {
    const { url } = this.options;
    return usageError(
      'POOLED_URL_FOR_MIGRATIONS',
      message,
      url.neon
        ? `Set DIRECT_DATABASE_URL to the direct host, ${url.host.replace(/-pooler(?=\.)/i, '')}, and keep DATABASE_URL pooled for the app.`
        : 'Set DIRECT_DATABASE_URL to the database server itself (not PgBouncer), and keep DATABASE_URL pooled for the app.',
    );
  }
}

/** The history under the lock: nothing unfinished can be another migrator's now, so the tamper checks are final. */
function verified(entries: MigrationEntry[]): MigrationEntry[] {
  verifyHistory(entries);
  return entries;
}

/**
 * Parsed and judged before anything runs: a syntax error, a byte that is not UTF-8, transaction control or a
 * statement PostgreSQL refuses in the transaction the file runs in. Loads the parser, so only for work to do.
 */
async function prepare(migration: Migration, file: MigrationFile, text: SqlText = migration, transactional = migration.transactional): Promise<Prepared> {
  if (text.encodingError) throw encodingInvalid(migration, file, text.sql, text.encodingError);
  const parser = await loadSqlParser();
  let statements: ParsedStatement[];
  try {
    statements = parser.parse(text.sql);
  } catch (error) {
    if (!(error instanceof SqlSyntaxError)) throw error;
    throw syntaxError(migration, file, text.sql, error.message, error.offset);
  }
  const problem = findStatementProblem(statements, { transactional });
  if (problem) throw statementRefused(migration, file, text.sql, problem);
  return { sql: text.sql, statements };
}

/** Judges the entries not judged yet (the history may have moved while waiting for the lock), by name. */
async function prepareEach(entries: MigrationEntry[], judge: (entry: MigrationEntry) => Promise<Prepared>, known = new Map<string, Prepared>()): Promise<Map<string, Prepared>> {
  for (const entry of entries) if (!known.has(entry.name)) known.set(entry.name, await judge(entry));
  return known;
}

const prepareUp = (entry: MigrationEntry) => prepare(entry.migration as Migration, 'migration.sql');

/** down.sql always runs in one transaction with its history update. */
function prepareDown(entry: MigrationEntry): Promise<Prepared> {
  const migration = entry.migration as Migration;
  return prepare(migration, 'down.sql', migration.readDown() as SqlText, true);
}

/** An error from a file's own statements, with the offset in the file it points at. */
class StatementFailure extends Error {
  constructor(
    readonly error: unknown,
    readonly offset: number | undefined,
  ) {
    super((error as Error).message);
  }
}

const unwrap = (error: unknown) => (error instanceof StatementFailure ? error.error : error);
const offsetOf = (error: unknown) => (error instanceof StatementFailure ? error.offset : undefined);

/**
 * Runs a file as one simple query and counts the statements the server completed (one CommandComplete each),
 * so an error without a position still names its statement: the next one in the parser's list.
 */
async function runWhole(client: pg.Client, { sql, statements }: Prepared): Promise<void> {
  let completed = 0;
  const count = () => void completed++;
  client.connection.on('commandComplete', count);
  try {
    await client.query(sql);
  } catch (error) {
    throw new StatementFailure(error, failureOffset(error, { text: sql, offset: 0 }, statements[completed]?.offset));
  } finally {
    client.connection.off('commandComplete', count);
  }
}

const plannedUp = (entry: MigrationEntry): PlannedStep => ({ name: entry.name, transactional: entry.migration?.transactional ?? true, sql: entry.migration?.sql ?? '' });
const plannedDown = (entry: MigrationEntry): PlannedStep => ({ name: entry.name, transactional: true, sql: entry.migration?.readDown()?.sql ?? '' });

function statusReport(entries: MigrationEntry[]): StatusReport {
  const counts = Object.fromEntries(MIGRATION_STATES.map((state) => [state, 0])) as Record<MigrationState, number>;
  for (const entry of entries) counts[entry.state]++;
  const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);
  return {
    migrations: entries.map(({ name, state, row }) => ({
      name,
      state,
      startedAt: iso(row?.started_at),
      finishedAt: iso(row?.finished_at),
      rolledBackAt: iso(row?.rolled_back_at),
      logs: row?.logs ?? null,
    })),
    counts,
    upToDate: !entries.some(needsAttention),
  };
}
