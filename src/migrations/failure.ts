import pg from 'pg';
import type { DatabaseUrl } from '../config/database-url.js';
import { redact } from '../config/redact.js';
import type { Environment } from '../config/settings.js';
import { TodoDbError } from '../core/errors.js';
import { registerFinder } from '../core/interruption.js';
import { connectionLost, failureFacts } from '../db/causes.js';
import { withConnection } from '../db/connect.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../db/pool.js';
import { settingSource, sqlState } from '../db/server-errors.js';
import { withMigrationLock } from './advisory-lock.js';
import { CONNECTION_ENDED, DOWN_CONNECTION_ENDED, leftFailedHint } from './errors.js';
import type { Migration } from './folder.js';
import { HISTORY_TABLE, type HistoryRow, readHistory } from './history.js';
import { type MigrationState, planMigrations } from './plan.js';
import type { RunResults } from './results.js';

/**
 * What `up` or `down` knew of its own progress when it failed. After a lost connection only the database can say what
 * committed, so this is the fallback for when it cannot be asked: the `confirmed` first were confirmed (whole
 * batches, whose last commit flushed the WAL for all of them), the ones up to `sent` may or may not have run.
 */
export interface RunProgress {
  /** The migrations the run set out to apply, in order. */
  names: string[];
  confirmed: number;
  sent: number;
}

export interface FailureContext {
  url: DatabaseUrl;
  environment: Environment;
  migrations: Migration[];
  /** What the run did to each migration ("applied" for up, "rolled back" for down), and the command that runs it again. */
  verb: RunResults['verb'];
  command: 'migrate up' | 'migrate down';
  progress: RunProgress;
  /** The lost session's backend, ended before the history is read so that nothing of it is still running. */
  backendPid: number | undefined;
  /** lock_timeout as todo-db set it inside each migration. */
  statementLockTimeoutMs: number;
  log?: (line: string) => void;
  /** How long the read-back may take; by default READ_BACK_CONNECT_TIMEOUTS connect timeouts. */
  readBackMs?: number;
}

/**
 * A failure of `up` or `down`, told truly. A lost connection (a socket error, the server ending the session, a crash or
 * restart) says nothing of what committed: the history is read back on a new connection (retried, within a
 * bound) and reported as it stands, or, when that fails too, what could not be known is said to be unknown. A
 * migration's timeout gets its setting and where it was set.
 */
export async function explainRunFailure(error: unknown, context: FailureContext): Promise<unknown> {
  if (connectionLost(error) || failureFacts(error).cause === 'connection_lost') return reportFromHistory(error, context);
  await addTimeoutSetting(error, context);
  return error;
}

/** Four connect timeouts: enough for a restart or a crash recovery, bounded so a server that stays down ends the wait. */
const READ_BACK_CONNECT_TIMEOUTS = 4;

async function reportFromHistory(error: unknown, context: FailureContext): Promise<TodoDbError> {
  const { results, summary, hint } = await whatRan(context);
  const said = error instanceof TodoDbError ? error.message : (error as Error).message;
  const lost = new TodoDbError({
    code: 'CONNECTION_LOST',
    message: redact(`The connection to PostgreSQL was lost while migrations ran: ${said}\n${summary}`),
    hint,
    cause: error,
    facts: { sqlstate: sqlState(error)?.code, cause: 'connection_lost' },
  });
  return Object.assign(lost, { results });
}

/** A signal asks to stop now (a container's grace period is often 10 s): one short try. */
const SIGNAL_READ_BACK_MS = 5_000;

/**
 * While migrations run, a signal's report says what the history holds once the run's session is ended (the
 * handler runs this before it exits): the batch in flight may have committed any number of them.
 */
export function reportAfterSignal(client: pg.Client, context: () => FailureContext): () => void {
  return registerFinder(async () => {
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const { results, summary } = await whatRan({ ...context(), readBackMs: SIGNAL_READ_BACK_MS });
    return { sentence: summary, results };
  });
}

/** The run's result set from the history read back, or, when it cannot be read, from the run's own progress. */
async function whatRan(context: FailureContext): Promise<{ results: RunResults; summary: string; hint: string }> {
  const { verb, progress } = context;
  try {
    const states = new Map(planMigrations(context.migrations, await readBack(context)).map((entry) => [entry.name, entry.state]));
    return fromHistory(context, states);
  } catch (readError) {
    const unknown = progress.names.slice(progress.confirmed, progress.sent);
    return {
      results: {
        verb,
        done: progress.names.slice(0, progress.confirmed),
        failed: null,
        notRun: progress.names.slice(progress.sent),
        source: 'unknown',
        unknown,
      },
      summary: `The history could not be read back (${(readError as Error).message}), so whether ${unknown.length === 1 ? 'this migration is' : `these ${unknown.length} migrations are`} ${verb} is unknown: ${unknown.join(', ') || 'none'}.`,
      hint: `Once the server is reachable, todo-db migrate status shows which are applied; then run ${context.command} again for the rest.`,
    };
  }
}

/** The state each migration of the run reached: applied (up) or rolled back (down), else not. */
const REACHED: Record<RunResults['verb'], MigrationState> = { applied: 'applied', 'rolled back': 'rolled-back' };

function fromHistory(
  { verb, command, progress: { names }, migrations }: FailureContext,
  states: Map<string, MigrationState>,
): { results: RunResults; summary: string; hint: string } {
  const done = names.filter((name) => states.get(name) === REACHED[verb]);
  // Only a no-transaction migration can be left started: a transaction's history row goes with it (down.sql always has one).
  const failed = names.find((name) => states.get(name) === 'failed') ?? null;
  const results: RunResults = { verb, done, failed, notRun: names.filter((name) => name !== failed && !done.includes(name)), source: 'history' };
  const summary = `The history, read back on a new connection: ${done.length} of ${names.length} ${verb}${failed ? `, ${failed} started and not finished` : ''}, ${results.notRun.length} not ${verb}.`;
  const failedMigration = failed ? migrations.find((migration) => migration.name === failed) : undefined;
  if (failedMigration) return { results, summary, hint: `${CONNECTION_ENDED} ${leftFailedHint(failedMigration)}` };
  const rest = results.notRun.length;
  if (command === 'migrate down')
    return {
      results,
      summary,
      hint: `${DOWN_CONNECTION_ENDED}${rest > 0 ? ` Run migrate down again for the ${rest} not rolled back (--steps ${rest}).` : ''}`,
    };
  return { results, summary, hint: `${CONNECTION_ENDED}${rest > 0 ? ` It applies the ${rest} not applied.` : ''}` };
}

/**
 * A new connection, retried while the server restarts or recovers; the lost session's backend ended (it may still
 * be running the batch when only the socket broke), and the migration lock taken, so no transaction of the lost
 * session can still commit while the history is read.
 */
async function readBack(context: FailureContext): Promise<HistoryRow[]> {
  const deadlineMs = context.readBackMs ?? READ_BACK_CONNECT_TIMEOUTS * (context.url.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  const started = Date.now();
  const options = {
    environment: context.environment,
    retries: 1_000,
    timeoutMs: deadlineMs,
    connectTimeoutMs: Math.min(deadlineMs, context.url.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
    applicationName: 'todo-db migrate',
  } as const;
  context.log?.('the connection was lost: reading the history back on a new connection');
  return withConnection(context.url, options, async (db) => {
    if (context.backendPid) await endLostBackend(db, context.backendPid);
    return withMigrationLock(db, Math.max(1, deadlineMs - (Date.now() - started)), context.log, () => readHistory(db, pg.escapeIdentifier(HISTORY_TABLE)));
  });
}

/** Only our own lost session: same pid, same role, same database, a migrator's name. */
async function endLostBackend(db: pg.Client, pid: number): Promise<void> {
  await db.query(
    "select pg_terminate_backend(pid) from pg_stat_activity where pid = $1 and application_name = 'todo-db migrate' and datname = current_database() and usename = current_user",
    [pid],
  );
}

/**
 * A lock or statement timeout names its value and where it was set: in the file (migrationFailed found it), else
 * lock_timeout is todo-db's own guard, and statement_timeout is read from pg_settings on a new connection.
 */
async function addTimeoutSetting(error: unknown, context: FailureContext): Promise<void> {
  const facts = error instanceof TodoDbError ? error.facts : undefined;
  if (!facts || facts.setting) return;
  if (facts.cause === 'lock_timeout') {
    facts.setting = {
      name: 'lock_timeout',
      value: `${context.statementLockTimeoutMs}ms`,
      source: 'set by todo-db for each migration (--statement-lock-timeout)',
    };
  }
  if (facts.cause === 'statement_timeout') {
    const setting = await settingSource({ url: context.url, environment: context.environment }, 'statement_timeout').catch(() => undefined);
    if (setting) facts.setting = { name: 'statement_timeout', value: setting.value, source: setting.from };
  }
}
