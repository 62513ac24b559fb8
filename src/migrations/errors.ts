import path from 'node:path';
import { redact } from '../config/redact.js';
import { TodoDbError } from '../errors.js';
import type { Migration } from './folder.js';
import { positionToLineColumn } from './sql.js';

interface PgError {
  message: string;
  code?: string;
  position?: string;
  detail?: string;
  hint?: string;
}

/**
 * A failed migration, told the way a compiler tells a syntax error: file:line:column, the line itself with a
 * caret, and PostgreSQL's own message, detail and hint.
 */
export function migrationFailed(migration: Migration, file: 'migration.sql' | 'down.sql', error: unknown, { offset = 0, rolledBack = true } = {}): TodoDbError {
  const pgError = error as PgError;
  const script = file === 'migration.sql' ? migration.sql : (migration.readDown() ?? '');
  const shownPath = displayPath(path.join(path.dirname(migration.path), file));
  const position = Number(pgError.position);
  let where = shownPath;
  let excerpt = '';
  if (position > 0) {
    const prefix = Array.from(script.slice(0, offset)).length;
    const { line, column, text } = positionToLineColumn(script, prefix + position);
    where = `${shownPath}:${line}:${column}`;
    const gutter = String(line).length;
    excerpt = `\n  ${line} | ${text}\n  ${' '.repeat(gutter)} | ${' '.repeat(Math.max(0, column - 1))}^`;
  }
  const detail = pgError.detail ? `\n  ${pgError.detail}` : '';
  return new TodoDbError({
    code: 'MIGRATION_FAILED',
    message: redact(`${where}: ${pgError.message}${excerpt}${detail}`),
    hint: rolledBack ? failureHint(pgError, file) : leftFailedHint(migration),
    cause: error,
  });
}

function failureHint(error: PgError, file: string): string {
  if (error.code === '55P03') {
    return 'A table lock was not granted in time (application traffic holds it): run again when traffic is lower, or raise --statement-lock-timeout.';
  }
  const own = error.hint ? `PostgreSQL suggests: ${error.hint} ` : '';
  return `${own}Fix ${file} and run again: the migration was rolled back, so nothing of it remains.`;
}

/** A migration outside a transaction cannot be undone for the user; Prisma's rule is to refuse until resolved. */
function leftFailedHint(migration: Migration): string {
  return `It ran outside a transaction, so statements before the failing one stay applied and it is recorded as failed. Undo them by hand, then mark it rolled back: todo-db migrate resolve --rolled-back ${migration.name}`;
}

export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}
