import path from 'node:path';
import { redact } from '../config/redact.js';
import { type FailureCause, type TimeoutSetting, TodoDbError, usageError } from '../core/errors.js';
import { causeOf, connectionLost } from '../db/causes.js';
import { isSqlState } from '../db/sqlstate.js';
import { lineColumnAt, serverPositionToOffset } from '../sql/parser.js';
import { type EncodingError, type Migration, NO_TRANSACTION_HEADER } from './folder.js';
import type { StatementProblem } from './sql.js';

interface PgError {
  message: string;
  code?: string;
  position?: string;
  detail?: string;
  hint?: string;
}

export type MigrationFile = 'migration.sql' | 'down.sql';

/** What was sent to the server: its text and where it starts in the file. */
export interface SentText {
  text: string;
  offset: number;
}

/**
 * Where in the file an error points: PostgreSQL's own position when it gives one (it counts characters of the
 * text sent), else the start of the statement that failed.
 */
export function failureOffset(error: unknown, sent: SentText, statementOffset: number | undefined): number | undefined {
  const position = Number((error as PgError).position);
  if (position > 0) return sent.offset + serverPositionToOffset(sent.text, position);
  return statementOffset;
}

/**
 * A failed migration, told the way a compiler tells an error: file:line:column, the line itself with a caret,
 * and PostgreSQL's own message, SQLSTATE, detail and hint; then what to do, which depends on the cause.
 */
export function migrationFailed(
  migration: Migration,
  file: MigrationFile,
  script: string,
  error: unknown,
  { offset, rolledBack = true }: { offset?: number; rolledBack?: boolean },
): TodoDbError {
  const pgError = error as PgError;
  // Node's socket errors (ECONNRESET, EPIPE) carry a code too, but only PostgreSQL's are SQLSTATEs.
  const sqlstate = isSqlState(pgError.code) ? pgError.code : undefined;
  const state = sqlstate ? ` (SQLSTATE ${sqlstate})` : '';
  const detail = pgError.detail ? `\n  ${pgError.detail}` : '';
  const cause = causeOf(error) ?? (outcomeUnknown(error) ? 'connection_lost' : undefined);
  const setting = settingInFile(file, script, offset, cause);
  return new TodoDbError({
    code: 'MIGRATION_FAILED',
    message: redact(`${located(migration, file, script, offset)}: ${pgError.message}${state}${excerpt(script, offset)}${detail}`),
    hint: `${causeHint(pgError, file)} ${rolledBack ? 'It was rolled back, so nothing of it remains.' : leftFailedHint(migration)}`,
    cause: error,
    facts: { sqlstate, cause, ...(setting ? { setting } : {}) },
  });
}

/**
 * PostgreSQL did not say how the statement ended: the connection was lost, or the driver failed on what came back
 * (no SQLSTATE: a broken proxy or network). Only the history can tell what committed, so such a failure is told
 * as a lost connection (cause connection_lost), and nothing is written for it on the session it broke.
 */
function outcomeUnknown(error: unknown): boolean {
  return connectionLost(error) || !isSqlState((error as PgError | null)?.code);
}

/** A migration's failure that only the history read back can tell the outcome of. */
export const lostDuringRun = (failure: TodoDbError): boolean => failure.facts?.cause === 'connection_lost';

/** The file's own SET of the timeout that struck, the last one before the failing statement. */
function settingInFile(file: MigrationFile, script: string, offset: number | undefined, cause: FailureCause | undefined): TimeoutSetting | undefined {
  if (cause !== 'lock_timeout' && cause !== 'statement_timeout') return undefined;
  const pattern = new RegExp(`^[ \\t]*set\\s+(?:local\\s+|session\\s+)?${cause}\\s*(?:=|to)\\s*([^;\\n]+)`, 'gim');
  const found = [...script.slice(0, offset ?? script.length).matchAll(pattern)].at(-1);
  if (!found?.[1]) return undefined;
  const value = found[1].trim().replace(/^'(.*)'$/, '$1');
  return { name: cause, value, source: `set in ${file}, line ${lineColumnAt(script, found.index ?? 0).line}` };
}

/** A file refused before anything ran: a syntax error, a byte that is not UTF-8, or a statement it may not hold. */
export function syntaxError(migration: Migration, file: MigrationFile, script: string, message: string, offset: number): TodoDbError {
  return usageError(
    'MIGRATION_INVALID',
    `${located(migration, file, script, offset)}: ${message} (SQLSTATE 42601)${excerpt(script, offset)}`,
    `Fix ${file}; nothing was run.${editAdvice(migration, file)}`,
  );
}

export function encodingInvalid(migration: Migration, file: MigrationFile, script: string, { kind, offset }: EncodingError): TodoDbError {
  const where = located(migration, file, script, offset);
  if (kind === 'nul') {
    return usageError(
      'MIGRATION_INVALID',
      `${where}: the file holds a NUL byte, which PostgreSQL cannot receive in a query (it would cut the SQL off there; shown as \u2400)${excerpt(script.replace(/\0/g, '\u2400'), offset)}`,
      `Remove the NUL byte from ${file} (a binary paste, or a file saved as UTF-16: save it as UTF-8); nothing was run.${editAdvice(migration, file)}`,
    );
  }
  return usageError(
    'MIGRATION_INVALID',
    `${where}: the file is not UTF-8 (a byte there is invalid in UTF-8; shown as \uFFFD)${excerpt(script, offset)}`,
    `Save ${file} as UTF-8 (iconv -f latin1 -t utf-8, or your editor's "save with encoding"); nothing was run.${editAdvice(migration, file)}`,
  );
}

/**
 * Said wherever a hint asks for a change to migration.sql: a database that already applied it (Prisma deployed it
 * there) would then see it as edited. The edit is recorded there on purpose, never left to MIGRATION_EDITED.
 */
function editAdvice(migration: Migration, file: MigrationFile): string {
  // The checksum is migration.sql's alone: a change to down.sql is no edit to any history.
  if (file === 'down.sql') return '';
  return ` If a database already applied this migration (Prisma deployed it), record the change there afterwards: todo-db migrate resolve --edited ${migration.name}.`;
}

export function statementRefused(migration: Migration, file: MigrationFile, script: string, problem: StatementProblem): TodoDbError {
  const where = located(migration, file, script, problem.statement.offset);
  const shown = excerpt(script, problem.statement.offset);
  if (problem.kind === 'transaction-control') {
    const runsIn =
      file === 'down.sql' || migration.transactional
        ? 'would end or split the transaction todo-db runs it in, and its history row with it'
        : 'would leave the session in a transaction that the history row then joins';
    const hint =
      migration.transactional || file === 'down.sql'
        ? `Remove it: the file already runs in one transaction, committed with its history row (only the block Prisma generates, a line BEGIN; and a line COMMIT;, is folded into it). For statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY), put them in their own migration that starts with ${NO_TRANSACTION_HEADER}.`
        : 'Remove it: a no-transaction migration runs each statement on its own; put statements that must be atomic in a separate, transactional migration.';
    return usageError(
      'MIGRATION_INVALID',
      `${where}: ${problem.what} is transaction control, which ${runsIn}.${shown}`,
      `${hint} Nothing was run.${editAdvice(migration, file)}`,
    );
  }
  if (problem.kind === 'releases-lock') {
    return usageError(
      'MIGRATION_INVALID',
      `${where}: DISCARD ALL releases the session's advisory locks, the migration lock with it.${shown}`,
      `Remove it: todo-db already resets the session (settings, role, temporary objects) after every migration. Nothing was run.${editAdvice(migration, file)}`,
    );
  }
  const hint =
    file === 'down.sql'
      ? 'down.sql runs in a transaction: use the form that can (DROP INDEX without CONCURRENTLY), or undo it by hand. Nothing was run.'
      : `Move it to its own migration whose first line is ${NO_TRANSACTION_HEADER} (each of its statements then runs on its own, so a failure can leave the ones before it applied). Nothing was run.${editAdvice(migration, file)}`;
  return usageError('MIGRATION_INVALID', `${where}: ${problem.what} cannot run inside a transaction block, and this file runs in one.${shown}`, hint);
}

function located(migration: Migration, file: MigrationFile, script: string, offset: number | undefined): string {
  const shownPath = displayPath(path.join(path.dirname(migration.path), file));
  if (offset === undefined) return shownPath;
  const { line, column } = lineColumnAt(script, offset);
  return `${shownPath}:${line}:${column}`;
}

function excerpt(script: string, offset: number | undefined): string {
  if (offset === undefined) return '';
  const { line, column, text } = lineColumnAt(script, offset);
  const gutter = String(line).length;
  return `\n  ${line} | ${text}\n  ${' '.repeat(gutter)} | ${' '.repeat(Math.max(0, column - 1))}^`;
}

/** The hint's first words for a migration whose connection ended under it. */
export const CONNECTION_ENDED =
  'The connection to PostgreSQL ended while it ran (an administrator, a restart, a failover or the network ended it); the SQL may be fine. Run migrate up again once the server is reachable.';

/** The same for a rollback: what rolled back is in the history, so the user knows how many are left. */
export const DOWN_CONNECTION_ENDED =
  'The connection to PostgreSQL ended while down.sql ran (an administrator, a restart, a failover or the network ended it); the SQL may be fine. Once the server is reachable, todo-db migrate status shows what is still applied.';

/** What to do depends on why it failed: only some failures mean the SQL needs fixing. */
function causeHint(error: PgError, file: MigrationFile): string {
  const code = error.code ?? '';
  if (outcomeUnknown(error)) return CONNECTION_ENDED;
  if (code === '55P03') {
    return 'A table lock was not granted in time (application traffic holds it): run again when traffic is lower, or raise --statement-lock-timeout.';
  }
  if (code === '57014') {
    return "The statement was cancelled: by statement_timeout (set on the role or database; see SHOW statement_timeout) or by a cancel request; the SQL may be fine. Run it when the tables are less busy, or start the file with SET statement_timeout = '15min' (todo-db resets it after the migration).";
  }
  if (code === '40P01' || code === '40001') return 'It lost a deadlock or a serialization conflict with another session: run again.';
  if (code === '25001')
    return `PostgreSQL refuses that statement in a transaction block: move it to its own migration whose first line is ${NO_TRANSACTION_HEADER}.`;
  const own = error.hint ? `PostgreSQL suggests: ${error.hint} ` : '';
  return `${own}Fix ${file} and run again.`;
}

/** A migration outside a transaction cannot be undone for the user; Prisma's rule is to refuse until resolved. */
export function leftFailedHint(migration: Migration): string {
  return `It ran outside a transaction, so statements before the failing one stay applied and it is recorded as failed. Undo them by hand, then mark it rolled back: todo-db migrate resolve --rolled-back ${migration.name}`;
}

export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}
