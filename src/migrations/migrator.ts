import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { DatabaseUrl } from '../config/database-url.js';
import type { Environment } from '../config/settings.js';
import { connectionLost } from '../db/causes.js';
import { connect } from '../db/connect.js';
import { usageError } from '../core/errors.js';
import { loadSqlParser, serverPositionToOffset, SqlSyntaxError, type ParsedStatement } from '../sql/parser.js';
import { encodingInvalid, failureOffset, migrationFailed, statementRefused, syntaxError, type MigrationFile } from './errors.js';
import { explainRunFailure, reportAfterSignal, type FailureContext, type RunProgress } from './failure.js';
import { readMigrations, type Migration, type SqlText } from './folder.js';
import { DURATION_COLUMN, insertStarted, insertStartedSql, markFailedSql, markFinishedSql, markRolledBackSql, observeHistory, openHistory, recordRolledBackFailure, type HistoryRow } from './history.js';
import { withMigrationLock } from './advisory-lock.js';
import { CONNECTION_CHECK_INTERVAL, connectionCheckSupported } from './connection-check.js';
import { openSecondConnection, refuseDetectedPooler, refusePooledUrl, type SecondConnection } from './pooler.js';
import { MIGRATION_STATES, needsAttention, nextStep, pendingUpTo, planMigrations, requireKnown, revertible, verifyHistory, type MigrationEntry, type MigrationState } from './plan.js';
import { eachStep, withResults } from './results.js';
import { foldPrismaTransactions } from './prisma-transaction.js';
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
  /**
   * A database no other migrator reaches (a shadow database this process made or wipes): the behaviour check for
   * a transaction-mode pooler, and its second connection, are skipped.
   */
  unshared?: boolean;
  /**
   * An open connection to `url` that the caller owns (setup shares one across its steps): the session runs on it
   * instead of a new one, and leaves it open. The pooler check still opens its second connection.
   */
  connection?: pg.Client;
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
  /** What resolves it, naming the command (plan.ts nextStep); null when nothing is to do. */
  next: string | null;
}

export interface StatusReport {
  migrations: StatusEntry[];
  counts: Record<MigrationState, number>;
  upToDate: boolean;
}

/** A file about to run, judged and split by PostgreSQL's parser. */
interface Prepared {
  sql: string;
  /** What the server gets: the file with Prisma's BEGIN ... COMMIT lines folded into its transaction (same length). */
  send: string;
  /** The statements sent, each of which completes one command. */
  statements: ParsedStatement[];
}

/**
 * What DISCARD ALL does, as its documentation spells it out, minus pg_advisory_unlock_all(), which would release the
 * migration lock. Sent after every migration and rollback, inside its transaction and before its history write,
 * so nothing it set (search_path, role, settings, temporary tables, prepared statements) reaches the history
 * write, the next migration or down.sql.
 */
const RESET_SESSION = ['close all', 'set session authorization default', 'reset role', 'reset all', 'deallocate all', 'unlisten *', 'discard plans', 'discard temp', 'discard sequences'];

/**
 * Consecutive transactional migrations travel together in one message of at most this many characters (a file
 * larger than that alone): each is still its own transaction, and PostgreSQL stops at the first error.
 */
const BATCH_CHARACTERS = 1_000_000;

/**
 * Every migration of a batch but the last commits without waiting for its WAL flush: the last one's commit flushes
 * the WAL up to itself, theirs included, so when the batch returns all of them are as durable as with one fsync
 * each, for one fsync. (A failure's history row, written after, flushes those before it the same way.) Until then a
 * crash of the server itself could lose a tail of them, each whole with its history row, never half of one.
 * After RESET_SESSION, whose RESET ALL would undo it.
 */
const ASYNC_COMMIT = 'set local synchronous_commit = off';

/** The settings every migration and rollback runs under, as statements. */
interface Guards {
  local: string[];
  session: string[];
}

/**
 * Thin public methods over one private engine: every method reads the folder and the history the same way,
 * and up/down run under the migration lock on one dedicated, direct connection.
 */
export class Migrator {
  constructor(private readonly options: MigratorOptions) {}

  async status(): Promise<StatusReport> {
    return this.session(migrationStatus);
  }

  async up({ to, dryRun = false, allowOutOfOrder = false }: UpOptions = {}): Promise<UpReport> {
    if (!dryRun) refusePooledUrl(this.options.url);
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
      // Only where a lock is taken: the pooler check costs a second connection, which a no-op up should not pay.
      // Opened now, while the files are judged and linted.
      const second = dryRun || this.options.unshared ? undefined : this.openSecond();
      try {
        // The caller's review (the lint) sees only files the engine accepts.
        if (pending.length > 0 && this.options.beforeApply) {
          await judging;
          await this.options.beforeApply(pending.map((entry) => entry.migration as Migration), client);
        }
      } catch (error) {
        second?.close();
        throw error;
      }
      if (dryRun) {
        await judging;
        return { dryRun, applied: [], plan: pending.map(plannedUp), waitedForLockMs: 0 };
      }
      if (second) await refuseDetectedPooler(this.options.url, client, second.client);
      const progress: RunProgress = { names: pending.map((entry) => entry.name), confirmed: 0, sent: 0 };
      const failureContext = () => this.failureContext(client, migrations, progress);
      return this.locked(client, async (waitedForLockMs) => {
        const judged = await judging;
        const { table, rows, serverVersionNum } = await openHistory(client, { create: true });
        const guards = this.guards(serverVersionNum);
        const stillPending = pendingUpTo(verified(planMigrations(migrations, rows)), to, allowOutOfOrder);
        progress.names = stillPending.map((entry) => entry.name);
        const prepared = await prepareEach(stillPending, prepareUp, judged);
        const applied: StepResult[] = [];
        const withdrawReport = reportAfterSignal(client, failureContext);
        try {
          for (const batch of batches(stillPending.map((entry) => entry.migration as Migration), prepared)) {
            const [first] = batch;
            progress.sent += batch.length;
            if (batch.length === 1 && first && !first.transactional) {
              applied.push(await this.timed(first.name, () => this.applyOutsideTransaction(client, table, guards, first, prepared.get(first.name) as Prepared)));
            } else {
              await this.applyTogether(client, table, guards, batch, prepared, applied);
            }
            progress.confirmed = applied.length;
          }
        } catch (error) {
          throw withResults(error, 'applied', progress.names, applied.length);
        } finally {
          withdrawReport();
        }
        return { dryRun, applied, plan: stillPending.map(plannedUp), waitedForLockMs };
      }).catch(async (error: unknown) => Promise.reject(await explainRunFailure(error, failureContext())));
    });
  }

  async down({ steps, to, dryRun = false, yes = false }: DownOptions = {}): Promise<DownReport> {
    if (this.options.environment === 'production' && !yes && !dryRun) {
      throw usageError('CONFIRMATION_REQUIRED', 'migrate down in production drops schema objects and their data.', 'Run it with --yes if you mean it, or with --dry-run to see what it would do.');
    }
    if (!dryRun) refusePooledUrl(this.options.url);
    return this.session(async (client, migrations) => {
      if (to !== undefined) requireKnown(migrations, to);
      const planned = revertible(planMigrations(migrations, (await observeHistory(client)).rows), { steps, to });
      // Every down.sql that will run is judged before the first one runs; the pooler check's connection opens meanwhile.
      const second = dryRun || this.options.unshared ? undefined : this.openSecond();
      let judged: Map<string, Prepared>;
      try {
        judged = await prepareEach(planned, prepareDown);
      } catch (error) {
        second?.close();
        throw error;
      }
      if (dryRun) return { dryRun, rolledBack: [], plan: planned.map(plannedDown), waitedForLockMs: 0 };
      if (second) await refuseDetectedPooler(this.options.url, client, second.client);
      return this.locked(client, async (waitedForLockMs) => {
        const { table, rows, serverVersionNum } = await openHistory(client, { create: false });
        const guards = this.guards(serverVersionNum);
        const chosen = revertible(planMigrations(migrations, rows), { steps, to });
        const prepared = await prepareEach(chosen, prepareDown, judged);
        const rolledBack = await eachStep(chosen, 'rolled back', (entry) => this.timed(entry.name, () => this.revert(client, table, guards, entry, prepared.get(entry.name) as Prepared)));
        return { dryRun, rolledBack, plan: chosen.map(plannedDown), waitedForLockMs };
      });
    });
  }

  /**
   * Transactional migrations in one round trip: per migration begin, its guards, its history row, the file, the
   * session reset, the history finish and commit. PostgreSQL stops at the first error, with that migration's
   * transaction aborted: it is rolled back and the attempt recorded; the ones before it stay committed, and are
   * added to `applied` (their durations unknown, 0) before the error leaves.
   */
  private async applyTogether(client: pg.Client, table: string, guards: Guards, batch: Migration[], prepared: Map<string, Prepared>, applied: StepResult[]): Promise<void> {
    const transactions = batch.map((migration, i): Transaction => {
      const id = randomUUID();
      return {
        prepared: prepared.get(migration.name) as Prepared,
        before: ['begin', ...guards.local, insertStartedSql(table, id, migration.name, migration.checksum)],
        after: [...RESET_SESSION, ...(i < batch.length - 1 ? [ASYNC_COMMIT] : []), markFinishedSql(table, id), 'commit'],
      };
    });
    let results: pg.QueryResult[];
    try {
      results = await runTransactions(client, transactions);
    } catch (error) {
      if (!(error instanceof TransactionFailure)) throw error;
      const migration = batch[error.index] as Migration;
      const failure = migrationFailed(migration, 'migration.sql', migration.sql, error.error, { offset: error.offset });
      // What committed is read back from the history (explainRunFailure): the count of completed commands is only a lower bound.
      if (connectionLost(error.error)) throw failure;
      for (const done of batch.slice(0, error.index)) {
        this.options.log?.(`${done.name} (applied)`);
        applied.push({ name: done.name, durationMs: 0 });
      }
      await client.query('rollback').catch(() => {});
      await recordRolledBackFailure(client, table, migration.name, migration.checksum, failure.message).catch(() => {});
      throw failure;
    }
    const durations = results.filter((result) => result.fields[0]?.name === DURATION_COLUMN).map((result) => Number(result.rows[0]?.[DURATION_COLUMN] ?? 0));
    for (const [i, migration] of batch.entries()) {
      const durationMs = durations[i] ?? 0;
      this.options.log?.(`${migration.name} (${durationMs} ms)`);
      applied.push({ name: migration.name, durationMs });
    }
  }

  /** Statement by statement: PostgreSQL runs a multi-statement query as one implicit transaction. */
  private async applyOutsideTransaction(client: pg.Client, table: string, guards: Guards, migration: Migration, prepared: Prepared): Promise<void> {
    // Session-level, as there is no transaction to scope them to; RESET_SESSION ends them.
    await client.query(guards.session.join('; '));
    const id = await insertStarted(client, table, migration.name, migration.checksum);
    for (const statement of prepared.statements) {
      try {
        await client.query(statement.sql);
      } catch (error) {
        const offset = failureOffset(error, { text: statement.sql, offset: statement.offset }, statement.offset);
        const failure = migrationFailed(migration, 'migration.sql', prepared.sql, error, { offset, rolledBack: false });
        // A lost session cannot write; its started row stays, and the history read back tells it.
        if (!connectionLost(error)) await client.query([...RESET_SESSION, markFailedSql(table, id, failure.message)].join('; ')).catch(() => {});
        throw failure;
      }
    }
    await client.query([...RESET_SESSION, markFinishedSql(table, id)].join('; '));
  }

  /** One round trip, as a migration: begin, guards, down.sql, the session reset, the history update and commit. */
  private async revert(client: pg.Client, table: string, guards: Guards, entry: MigrationEntry, prepared: Prepared): Promise<void> {
    const migration = entry.migration as Migration;
    const row = entry.row as HistoryRow;
    try {
      await runTransactions(client, [{ prepared, before: ['begin', ...guards.local], after: [...RESET_SESSION, markRolledBackSql(table, row.id), 'commit'] }]);
    } catch (error) {
      if (!(error instanceof TransactionFailure)) throw error;
      await client.query('rollback').catch(() => {});
      throw migrationFailed(migration, 'down.sql', prepared.sql, error.error, { offset: error.offset });
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
    return withMigrationLock(client, this.options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, this.options.log, work);
  }

  /** Reads the folder while the connection is being set up: the two waits overlap. */
  private async session<T>(work: (client: pg.Client, migrations: Migration[]) => Promise<T>): Promise<T> {
    const shared = this.options.connection;
    const connecting = shared ? Promise.resolve(shared) : this.connect();
    const close = async (client: pg.Client) => {
      if (client !== shared) await client.end();
    };
    let migrations: Migration[];
    try {
      migrations = readMigrations(this.options.migrationsDir);
    } catch (error) {
      await connecting.then(close, () => {});
      throw error;
    }
    const client = await connecting;
    try {
      return await work(client, migrations);
    } finally {
      await close(client).catch(() => {});
    }
  }

  /**
   * The settings every migration and rollback runs under: lock_timeout, so it never queues application traffic
   * behind it for long, and on PostgreSQL 14+ the connection check, so a killed migrator releases its locks within
   * a second instead of when its statement ends.
   */
  private guards(serverVersionNum: number): Guards {
    const settings = [['lock_timeout', String(this.statementLockTimeoutMs())]];
    if (connectionCheckSupported(serverVersionNum)) settings.push(['client_connection_check_interval', `'${CONNECTION_CHECK_INTERVAL}'`]);
    const statements = (verb: string) => settings.map(([name, value]) => `${verb} ${name} = ${value}`);
    return { local: statements('set local'), session: statements('set') };
  }

  private failureContext(client: pg.Client, migrations: Migration[], progress: RunProgress): FailureContext {
    const { url, environment, log } = this.options;
    const backendPid = (client as unknown as { processID?: number }).processID;
    return { url, environment, migrations, progress, backendPid, statementLockTimeoutMs: this.statementLockTimeoutMs(), log };
  }

  private statementLockTimeoutMs(): number {
    return Math.max(1, Math.round(this.options.statementLockTimeoutMs ?? DEFAULT_STATEMENT_LOCK_TIMEOUT_MS));
  }

  private connect(): Promise<pg.Client> {
    return connectForMigrations(this.options.url, this.options.environment);
  }

  private openSecond(): SecondConnection {
    return openSecondConnection(() => this.connect());
  }
}

/** A migration job's own direct connection (as pg_stat_activity names it: todo-db migrate). */
export async function connectForMigrations(url: DatabaseUrl, environment: Environment = 'development'): Promise<pg.Client> {
  const { client } = await connect(url, { environment, applicationName: 'todo-db migrate' });
  return client;
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
  const sent = transactional ? foldPrismaTransactions(text.sql, statements) : { send: text.sql, statements };
  const problem = findStatementProblem(sent.statements, { transactional });
  if (problem) throw statementRefused(migration, file, text.sql, problem);
  return { sql: text.sql, send: sent.send, statements: sent.statements };
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

/** One transaction of a message: the statements around a file, each of which completes as one command. */
interface Transaction {
  prepared: Prepared;
  before: string[];
  after: string[];
}

/** The transaction of a message that failed (by index), PostgreSQL's error, and the offset in its file. */
class TransactionFailure extends Error {
  constructor(
    readonly index: number,
    readonly error: unknown,
    readonly offset: number | undefined,
  ) {
    super((error as Error).message);
  }
}

/** Consecutive transactional migrations, up to BATCH_CHARACTERS together; a no-transaction migration alone. */
function batches(migrations: Migration[], prepared: Map<string, Prepared>): Migration[][] {
  const result: Migration[][] = [];
  let current: Migration[] = [];
  let size = 0;
  for (const migration of migrations) {
    const length = (prepared.get(migration.name) as Prepared).sql.length;
    if (current.length > 0 && (!migration.transactional || size + length > BATCH_CHARACTERS)) {
      result.push(current);
      current = [];
      size = 0;
    }
    if (!migration.transactional) {
      result.push([migration]);
      continue;
    }
    current.push(migration);
    size += length;
  }
  if (current.length > 0) result.push(current);
  return result;
}

/**
 * Sends the transactions as one simple query and counts the commands the server completed (one CommandComplete
 * each), so a failure names its transaction and, when PostgreSQL gives no position, its statement: the next one
 * in the parser's list. A position PostgreSQL gives counts characters of the whole message: less the file's start.
 */
async function runTransactions(client: pg.Client, transactions: Transaction[]): Promise<pg.QueryResult[]> {
  let message = '';
  let commands = 0;
  const layout = transactions.map(({ prepared, before, after }) => {
    // A newline after the file ends a trailing -- comment.
    const head = `${before.join('; ')};\n`;
    const fileStart = message.length + head.length;
    message += `${head}${prepared.send}\n;${after.join('; ')};\n`;
    const fileCommands = commands + before.length;
    commands = fileCommands + prepared.statements.length + after.length;
    return { fileStart, fileCommands, end: commands };
  });
  let completed = 0;
  const count = () => void completed++;
  client.connection.on('commandComplete', count);
  try {
    const results = await client.query(message);
    return Array.isArray(results) ? results : [results];
  } catch (error) {
    const found = layout.findIndex((part) => completed < part.end);
    const index = found === -1 ? transactions.length - 1 : found;
    const { prepared } = transactions[index] as Transaction;
    const { fileStart, fileCommands } = layout[index] as (typeof layout)[number];
    const statementOffset = completed >= fileCommands ? prepared.statements[completed - fileCommands]?.offset : undefined;
    throw new TransactionFailure(index, error, offsetInFile(error, message, fileStart, prepared.sql.length) ?? statementOffset);
  } finally {
    client.connection.off('commandComplete', count);
  }
}

/** PostgreSQL's position, when it gives one inside the file's part of the message. */
function offsetInFile(error: unknown, message: string, fileStart: number, fileLength: number): number | undefined {
  const position = Number((error as { position?: string }).position);
  if (!(position > 0)) return undefined;
  const offset = serverPositionToOffset(message, position) - fileStart;
  return offset >= 0 && offset <= fileLength ? offset : undefined;
}

const plannedUp = (entry: MigrationEntry): PlannedStep => ({ name: entry.name, transactional: entry.migration?.transactional ?? true, sql: entry.migration?.sql ?? '' });
const plannedDown = (entry: MigrationEntry): PlannedStep => ({ name: entry.name, transactional: true, sql: entry.migration?.readDown()?.sql ?? '' });

/** The folder against the history, in one query on a connection the caller has (smoke's, shared with Prisma). */
export async function migrationStatus(db: pg.ClientBase, migrations: Migration[]): Promise<StatusReport> {
  const { rows, migratorRunning } = await observeHistory(db);
  return statusReport(planMigrations(migrations, rows, migratorRunning));
}

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
      next: nextStep({ name, state }),
    })),
    counts,
    upToDate: !entries.some(needsAttention),
  };
}
