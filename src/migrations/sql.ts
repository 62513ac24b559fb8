/**
 * Just enough SQL lexing for a migration runner: split a script into statements (for migrations that must run
 * outside a transaction, where PostgreSQL refuses multi-statement queries for CREATE INDEX CONCURRENTLY), and
 * turn PostgreSQL's character positions into line:column. Quotes, dollar quotes and comments are respected.
 */
export interface Statement {
  sql: string;
  /** Character offset of the statement in the script. */
  offset: number;
}

export function splitStatements(script: string): Statement[] {
  const statements: Statement[] = [];
  let start = 0;
  let i = 0;
  while (i < script.length) {
    const skipped = skipQuotedOrComment(script, i);
    if (skipped !== i) {
      i = skipped;
      continue;
    }
    if (script[i] === ';') {
      pushStatement(statements, script, start, i + 1);
      start = i + 1;
    }
    i++;
  }
  pushStatement(statements, script, start, script.length);
  return statements;
}

function pushStatement(statements: Statement[], script: string, start: number, end: number): void {
  const text = script.slice(start, end);
  if (stripComments(text).trim().replace(/;$/, '').trim() === '') return;
  const leading = text.length - text.trimStart().length;
  statements.push({ sql: text.trim(), offset: start + leading });
}

/** Returns the index after a quoted string, dollar-quoted body or comment starting at i, or i itself. */
function skipQuotedOrComment(s: string, i: number): number {
  const c = s[i];
  if (c === "'" || c === '"') return skipUntilClosing(s, i + 1, c);
  if (c === '-' && s[i + 1] === '-') {
    const end = s.indexOf('\n', i);
    return end === -1 ? s.length : end + 1;
  }
  if (c === '/' && s[i + 1] === '*') return skipBlockComment(s, i);
  if (c === '$') {
    const tag = /^\$[A-Za-z_]?[A-Za-z0-9_]*\$/.exec(s.slice(i, i + 64))?.[0];
    if (tag) {
      const end = s.indexOf(tag, i + tag.length);
      return end === -1 ? s.length : end + tag.length;
    }
  }
  return i;
}

function skipUntilClosing(s: string, i: number, quote: string): number {
  while (i < s.length) {
    if (s[i] === quote) {
      if (s[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return s.length;
}

/** Block comments nest in PostgreSQL. */
function skipBlockComment(s: string, i: number): number {
  let depth = 0;
  while (i < s.length) {
    if (s[i] === '/' && s[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (s[i] === '*' && s[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return s.length;
}

function stripComments(text: string): string {
  return text.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
}

/** Statements that would end or nest the transaction the runner wraps around a migration. */
export function findTransactionControl(script: string): Statement | undefined {
  return splitStatements(script).find((statement) =>
    /^(BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK|END|ABORT)(\s+(WORK|TRANSACTION))?\s*;?$/i.test(stripComments(statement.sql).trim()),
  );
}

export interface SourcePosition {
  line: number;
  column: number;
  text: string;
}

/** PostgreSQL counts positions in characters, from 1. */
export function positionToLineColumn(script: string, position: number): SourcePosition {
  const chars = Array.from(script);
  const before = chars.slice(0, Math.max(0, position - 1)).join('');
  const lines = before.split('\n');
  const line = lines.length;
  const column = Array.from(lines[lines.length - 1] ?? '').length + 1;
  const text = (script.split('\n')[line - 1] ?? '').replace(/\r$/, '');
  return { line, column, text };
}
