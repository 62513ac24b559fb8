import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { usageError } from '../core/errors.js';
import { loadSqlParser, type ParsedStatement, SqlSyntaxError, serverPositionToOffset } from '../sql/parser.js';
import { CONNECTION_CHECK_INTERVAL, connectionCheckSupported } from './connection-check.js';
import { encodingInvalid, failureOffset, lostDuringRun, type MigrationFile, migrationFailed, statementRefused, syntaxError } from './errors.js';
import { explainRunFailure, type FailureContext, type RunProgress, reportAfterSignal } from './failure.js';
import type { Migration, SqlText } from './folder.js';
import {
  DURATION_COLUMN,
  insertStarted,
  insertStartedSql,
  markFailedSql,
  markFinishedSql,
  markRolledBackSql,
  observeHistory,
  recordRolledBackFailure,
} from './history.js';
import {
  type AppliedEntry,
  MIGRATION_STATES,
  type MigrationEntry,
  type MigrationState,
  needsAttention,
  nextStep,
  type PendingEntry,
  pendingUpTo,
  planMigrations,
  requireKnown,
  revertible,
  verifyHistory,
} from './plan.js';
import { foldPrismaTransactions } from './prisma-transaction.js';
import { type RunResults, resultSet, withResults } from './results.js';
import { type Session, type SessionTarget, withSession } from './session.js';
import { findStatementProblem, type StatementProblem } from './sql.js';

export { DEFAULT_LOCK_TIMEOUT_MS } from './session.js';
export const DEFAULT_STATEMENT_LOCK_TIMEOUT_MS = 10_000;

export interface MigratorOptions extends SessionTarget {
  /** SET LOCAL lock_timeout inside each migration: a migration never queues application traffic for long. */
  statementLockTimeoutMs?: number;
  /**
   * Given the migrations `up` is about to apply (or, in a dry run, would apply), on its connection, before any
   * runs; throwing stops `up` with nothing applied. Not called when nothing is pending. `migrate up` lints here.
   */
  beforeApply?: (pending: Migration[], client: pg.Client) => Promise<void>;
  /** Given the migrations `up` is about to apply, as soon as they are known, before any is parsed. */
  onPending?: (pending: Migration[]) => void;
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
  /** The result set, as a failure's error carries it: everything done, nothing failed (a dry run: nothing run). */
  results: RunResults;
}

export interface DownReport {
  dryRun: boolean;
  rolledBack: StepResult[];
  plan: PlannedStep[];
  waitedForLockMs: number;
  results: RunResults;
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
  /** The statements sent, each of which completes one command (the parse trees are dropped once judged). */
  statements: Spans;
}

/**
 * Where each statement stands in its file, two numbers per statement: an object and a string each would keep
 * about 6 MB alive through the run for a file of 100 000 statements, this 1.6 MB. The text is sliced when needed.
 */
class Spans {
  private readonly bounds: number[] = [];

  constructor(private readonly sql: string) {}

  add({ offset, end }: Pick<ParsedStatement, 'offset' | 'end'>): void {
    this.bounds.push(offset, end);
  }

  get length(): number {
    return this.bounds.length / 2;
  }

  offsetOf(index: number): number | undefined {
    return this.bounds[index * 2];
  }

  /** Without the statements that start at these offsets. */
  without(offsets: Set<number>): Spans {
    const kept = new Spans(this.sql);
    for (const statement of this) if (!offsets.has(statement.offset)) kept.add(statement);
    return kept;
  }

  *[Symbol.iterator](): Generator<{ sql: string; offset: number; end: number }> {
    for (let i = 0; i < this.bounds.length; i += 2) {
      const offset = this.bounds[i] as number;
      const end = this.bounds[i + 1] as number;
      yield { sql: this.sql.slice(offset, end), offset, end };
    }
  }
}

/**
 * What DISCARD ALL does, as its documentation spells it out, minus pg_advisory_unlock_all(), which would release the
 * migration lock. Sent after every migration and rollback, inside its transaction and before its history write,
 * so nothing it set (search_path, role, settings, temporary tables, prepared statements) reaches the history
 * write, the next migration or down.sql.
 */
const RESET_SESSION = [
  'close all',
  'set session authorization default',
  'reset role',
  'reset all',
  'deallocate all',
  'unlisten *',
  'discard plans',
  'discard temp',
  'discard sequences',
];

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

/** Up or down, as the one private sequence runs it: what it picks from the history, how it judges and applies each. */
interface Direction<E extends MigrationEntry> {
  verb: RunResults['verb'];
  command: FailureContext['command'];
  /** Up creates the history table under the lock; down finds none on a database never migrated. */
  createHistory: boolean;
  /** What runs, from the history: first as seen outside the lock, then under it. */
  choose(entries: MigrationEntry[]): E[];
  /** Told what was chosen, before anything of it is judged. */
  chosen?(chosen: E[]): void;
  judge(entry: E): Promise<Prepared>;
  /** The caller's review of what will run (up's lint), on the session's connection, before the lock. */
  review?(chosen: E[], client: pg.Client): Promise<void>;
  planned(entry: E): PlannedStep;
  /** Splits the judged steps into what travels together (one round trip each). */
  batches(steps: Step<E>[]): Step<E>[][];
  /** Runs one batch, adding each step that completed to `run.done`. */
  apply(run: Run, batch: Step<E>[]): Promise<void>;
}

/** An entry about to run with its judged file. */
interface Step<E extends MigrationEntry> {
  entry: E;
  prepared: Prepared;
}

/** What a batch runs on: the locked session's connection, the history table, the guards; what it completed so far. */
interface Run {
  client: pg.Client;
  table: string;
  guards: Guards;
  done: StepResult[];
}

/** What the private sequence gives back: its plan, what it did (in order), its result set, and how long it waited for the lock. */
interface Outcome {
  dryRun: boolean;
  done: StepResult[];
  plan: PlannedStep[];
  waitedForLockMs: number;
  results: RunResults;
}

/**
 * Thin public methods over one private sequence (#run): every method reads the folder and the history the same
 * way, and up/down run under the migration lock on one dedicated, direct connection (session.ts).
 */
export class Migrator {
  private readonly options: MigratorOptions;

  constructor(options: MigratorOptions) {
    this.options = options;
  }

  async status(): Promise<StatusReport> {
    return withSession(this.options, 'read', async (session) => statusReport(await session.observe()));
  }

  async up({ to, dryRun = false, allowOutOfOrder = false }: UpOptions = {}): Promise<UpReport> {
    const { done, ...outcome } = await this.#run(this.upward(to, allowOutOfOrder), to, dryRun);
    return { ...outcome, applied: done };
  }

  async down({ steps, to, dryRun = false, yes = false }: DownOptions = {}): Promise<DownReport> {
    if (this.options.environment === 'production' && !yes && !dryRun) {
      throw usageError(
        'CONFIRMATION_REQUIRED',
        'migrate down in production drops schema objects and their data.',
        'Run it with --yes if you mean it, or with --dry-run to see what it would do.',
      );
    }
    const { done, ...outcome } = await this.#run(this.downward(steps, to), to, dryRun);
    return { ...outcome, rolledBack: done };
  }

  /**
   * The one sequence: the history read, the plan, the files judged (and reviewed), the pooler check, the lock,
   * the history read again under it and the plan made final, then each batch applied. A lost connection or a
   * signal is reported from the history read back, never from the run itself.
   */
  async #run<E extends MigrationEntry>(direction: Direction<E>, to: string | undefined, dryRun: boolean): Promise<Outcome> {
    return withSession(this.options, dryRun ? 'read' : 'write', async (session) => {
      if (to !== undefined) requireKnown(session.migrations, to);
      const entries = await session.observe();
      const chosen = direction.choose(entries);
      // Nothing to do needs no lock and no parser, unless another migrator is running: wait for it, then see what is left.
      const nothingRun = (plan: PlannedStep[]): Outcome => ({
        dryRun,
        done: [],
        plan,
        waitedForLockMs: 0,
        results: resultSet(
          direction.verb,
          plan.map((step) => step.name),
          0,
          { failed: false },
        ),
      });
      if (chosen.length === 0 && !entries.some((entry) => entry.state === 'running')) return nothingRun([]);
      // Judging (the parser's load) overlaps the pooler check's connect and the lock; nothing is written before the files are judged.
      if (chosen.length > 0) direction.chosen?.(chosen);
      const judging = judgeEach(chosen, direction.judge);
      judging.catch(() => {});
      session.expectLock();
      // The caller's review sees only files the engine accepts.
      if (chosen.length > 0 && direction.review) {
        await judging;
        await direction.review(chosen, session.client);
      }
      if (dryRun) return nothingRun((await judging).map(({ entry }) => direction.planned(entry)));
      await session.checkPooler();
      return this.#applyLocked(session, direction, chosen, judging);
    });
  }

  /**
   * Under the lock: the plan made final from the history read there, each batch applied, and a failure told from
   * the history read back when the connection was lost (or, on a signal, before the process exits).
   */
  async #applyLocked<E extends MigrationEntry>(session: Session, direction: Direction<E>, seen: E[], judging: Promise<Step<E>[]>): Promise<Outcome> {
    // What was seen outside the lock, until the history under it says what runs: the fallback report if the lock is never had.
    const progress: RunProgress = { names: seen.map((entry) => entry.name), confirmed: 0, sent: 0 };
    const failureContext = () => this.failureContext(session.client, session.migrations, direction, progress);
    const { verb } = direction;
    return session
      .locked({ create: direction.createHistory }, async ({ table, entries, serverVersionNum, waitedForLockMs }) => {
        const chosen = direction.choose(entries);
        progress.names = chosen.map((entry) => entry.name);
        const steps = await judgeEach(chosen, direction.judge, await judging);
        const run: Run = { client: session.client, table, guards: this.guards(serverVersionNum), done: [] };
        const withdrawReport = reportAfterSignal(session.client, failureContext);
        try {
          for (const batch of direction.batches(steps)) {
            progress.sent += batch.length;
            await direction.apply(run, batch);
            progress.confirmed = run.done.length;
          }
        } catch (error) {
          throw withResults(error, verb, progress.names, run.done.length);
        } finally {
          withdrawReport();
        }
        return {
          dryRun: false,
          done: run.done,
          plan: chosen.map(direction.planned),
          waitedForLockMs,
          results: resultSet(verb, progress.names, run.done.length, { failed: false }),
        };
      })
      .catch(async (error: unknown) => Promise.reject(await explainRunFailure(error, failureContext())));
  }

  private upward(to: string | undefined, allowOutOfOrder: boolean): Direction<PendingEntry> {
    const { beforeApply, onPending } = this.options;
    return {
      verb: 'applied',
      command: 'migrate up',
      createHistory: true,
      choose: (entries) => {
        // Outside the lock a failed row may be a running migrator's (observe says running); under it the check is final.
        verifyHistory(entries);
        return pendingUpTo(entries, to, allowOutOfOrder);
      },
      chosen: onPending && ((chosen) => onPending(chosen.map((entry) => entry.migration))),
      judge: ({ migration }) => prepare(migration, 'migration.sql'),
      review:
        beforeApply &&
        ((chosen, client) =>
          beforeApply(
            chosen.map((entry) => entry.migration),
            client,
          )),
      planned: ({ name, migration }) => ({ name, transactional: migration.transactional, sql: migration.sql }),
      batches,
      apply: (run, batch) => {
        const [first] = batch;
        if (batch.length === 1 && first && !first.entry.migration.transactional)
          return this.timed(run, first.entry.name, () => this.applyOutsideTransaction(run, first));
        return this.applyTogether(run, batch);
      },
    };
  }

  private downward(steps: number | undefined, to: string | undefined): Direction<AppliedEntry> {
    return {
      verb: 'rolled back',
      command: 'migrate down',
      createHistory: false,
      choose: (entries) => revertible(entries, { steps, to }),
      judge: prepareDown,
      planned: ({ name, migration }) => ({ name, transactional: true, sql: migration.readDown()?.sql ?? '' }),
      batches: (judged) => judged.map((step) => [step]),
      apply: async (run, batch) => {
        for (const step of batch) await this.timed(run, step.entry.name, () => this.revert(run, step));
      },
    };
  }

  /**
   * Transactional migrations in one round trip: per migration begin, its guards, its history row, the file, the
   * session reset, the history finish and commit. PostgreSQL stops at the first error, with that migration's
   * transaction aborted: it is rolled back and the attempt recorded; the ones before it stay committed, and are
   * added to `run.done` (their durations unknown, 0) before the error leaves.
   */
  private async applyTogether({ client, table, guards, done }: Run, batch: Step<PendingEntry>[]): Promise<void> {
    const transactions = batch.map(({ entry: { migration }, prepared }, i): Transaction => {
      const id = randomUUID();
      return {
        prepared,
        before: ['begin', ...guards.local, insertStartedSql(table, id, migration.name, migration.checksum)],
        after: [...RESET_SESSION, ...(i < batch.length - 1 ? [ASYNC_COMMIT] : []), markFinishedSql(table, id), 'commit'],
      };
    });
    let results: pg.QueryResult[];
    try {
      results = await runTransactions(client, transactions);
    } catch (error) {
      if (!(error instanceof TransactionFailure)) throw error;
      const migrations = batch.map((step) => step.entry.migration);
      const migration = migrations[error.index];
      if (!migration) throw error.error;
      const failure = migrationFailed(migration, 'migration.sql', migration.sql, error.error, { offset: error.offset });
      // What committed is read back from the history (explainRunFailure): the count of completed commands is only a lower bound.
      if (lostDuringRun(failure)) throw failure;
      for (const before of migrations.slice(0, error.index)) {
        this.options.log?.(`${before.name} (applied)`);
        done.push({ name: before.name, durationMs: 0 });
      }
      await client.query('rollback').catch(() => {});
      await recordRolledBackFailure(client, table, migration.name, migration.checksum, failure.message).catch(() => {});
      throw failure;
    }
    const durations = results.filter((result) => result.fields[0]?.name === DURATION_COLUMN).map((result) => Number(result.rows[0]?.[DURATION_COLUMN] ?? 0));
    for (const [i, { entry }] of batch.entries()) {
      const durationMs = durations[i] ?? 0;
      this.options.log?.(`${entry.name} (${durationMs} ms)`);
      done.push({ name: entry.name, durationMs });
    }
  }

  /** Statement by statement: PostgreSQL runs a multi-statement query as one implicit transaction. */
  private async applyOutsideTransaction({ client, table, guards }: Run, { entry: { migration }, prepared }: Step<PendingEntry>): Promise<void> {
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
        if (!lostDuringRun(failure)) await client.query([...RESET_SESSION, markFailedSql(table, id, failure.message)].join('; ')).catch(() => {});
        throw failure;
      }
    }
    await client.query([...RESET_SESSION, markFinishedSql(table, id)].join('; '));
  }

  /** One round trip, as a migration: begin, guards, down.sql, the session reset, the history update and commit. */
  private async revert({ client, table, guards }: Run, { entry: { migration, row }, prepared }: Step<AppliedEntry>): Promise<void> {
    try {
      await runTransactions(client, [{ prepared, before: ['begin', ...guards.local], after: [...RESET_SESSION, markRolledBackSql(table, row.id), 'commit'] }]);
    } catch (error) {
      if (!(error instanceof TransactionFailure)) throw error;
      await client.query('rollback').catch(() => {});
      throw migrationFailed(migration, 'down.sql', prepared.sql, error.error, { offset: error.offset });
    }
  }

  /** Runs one step and adds it, with its duration, to what the run did. */
  private async timed(run: Run, name: string, step: () => Promise<void>): Promise<void> {
    const started = performance.now();
    await step();
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    this.options.log?.(`${name} (${durationMs} ms)`);
    run.done.push({ name, durationMs });
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

  private failureContext(client: pg.Client, migrations: Migration[], { verb, command }: Direction<MigrationEntry>, progress: RunProgress): FailureContext {
    const { url, environment, log } = this.options;
    return {
      url,
      environment,
      migrations,
      verb,
      command,
      progress,
      backendPid: (client as unknown as { processID?: number }).processID,
      statementLockTimeoutMs: this.statementLockTimeoutMs(),
      log,
    };
  }

  private statementLockTimeoutMs(): number {
    return Math.max(1, Math.round(this.options.statementLockTimeoutMs ?? DEFAULT_STATEMENT_LOCK_TIMEOUT_MS));
  }
}

/**
 * Parsed and judged before anything runs: a syntax error, a byte that is not UTF-8, transaction control or a
 * statement PostgreSQL refuses in the transaction the file runs in. Loads the parser, so only for work to do.
 */
async function prepare(migration: Migration, file: MigrationFile, text: SqlText = migration, transactional = migration.transactional): Promise<Prepared> {
  if (text.encodingError) throw encodingInvalid(migration, file, text.sql, text.encodingError);
  const parser = await loadSqlParser();
  const statements = new Spans(text.sql);
  // Transaction control is kept whole, for Prisma's blocks, which only the whole file tells.
  const control: ParsedStatement[] = [];
  let problem: StatementProblem | undefined;
  try {
    // A piece's parse trees are judged and dropped before the next piece is parsed; a syntax error anywhere still
    // comes first, as from a parse of the whole file.
    for (const piece of parser.pieces(text.sql)) {
      problem ??= findStatementProblem(
        piece.filter((statement) => statement.kind !== 'TransactionStmt'),
        { transactional },
      );
      for (const statement of piece) {
        if (statement.kind === 'TransactionStmt') control.push(statement);
        statements.add(statement);
      }
    }
  } catch (error) {
    if (!(error instanceof SqlSyntaxError)) throw error;
    throw syntaxError(migration, file, text.sql, error.message, error.offset);
  }
  const sent = transactional ? foldPrismaTransactions(text.sql, control) : { send: text.sql, statements: control };
  const controlProblem = findStatementProblem(sent.statements, { transactional });
  // The file's first problem, as one judgement of all its statements in order would find it.
  const first = !problem || (controlProblem && controlProblem.statement.offset < problem.statement.offset) ? controlProblem : problem;
  if (first) throw statementRefused(migration, file, text.sql, first);
  const folded = new Set(control.filter((statement) => !sent.statements.includes(statement)).map((statement) => statement.offset));
  return { sql: text.sql, send: sent.send, statements: folded.size === 0 ? statements : statements.without(folded) };
}

/** The entries with their files judged, in order; those judged before (outside the lock: the history may have moved meanwhile) are not judged again. */
async function judgeEach<E extends MigrationEntry>(
  entries: E[],
  judge: (entry: E) => Promise<Prepared>,
  known: Step<MigrationEntry>[] = [],
): Promise<Step<E>[]> {
  const judged = new Map(known.map((step) => [step.entry.name, step.prepared]));
  const steps: Step<E>[] = [];
  for (const entry of entries) steps.push({ entry, prepared: judged.get(entry.name) ?? (await judge(entry)) });
  return steps;
}

/** down.sql always runs in one transaction with its history update; revertible() made sure there is one. */
function prepareDown({ migration }: AppliedEntry): Promise<Prepared> {
  const down = migration.readDown();
  if (!down) throw new Error(`${migration.name} has no down.sql`);
  return prepare(migration, 'down.sql', down, true);
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
function batches(steps: Step<PendingEntry>[]): Step<PendingEntry>[][] {
  const result: Step<PendingEntry>[][] = [];
  let current: Step<PendingEntry>[] = [];
  let size = 0;
  for (const step of steps) {
    const { transactional } = step.entry.migration;
    const length = step.prepared.sql.length;
    if (current.length > 0 && (!transactional || size + length > BATCH_CHARACTERS)) {
      result.push(current);
      current = [];
      size = 0;
    }
    if (!transactional) {
      result.push([step]);
      continue;
    }
    current.push(step);
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
    const statementOffset = completed >= fileCommands ? prepared.statements.offsetOf(completed - fileCommands) : undefined;
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
