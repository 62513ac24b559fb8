import { compiledBaselineOnly } from '../core/wasm-tier.js';

/**
 * PostgreSQL's own parser (libpg-query: PostgreSQL 18's grammar compiled to WebAssembly), so statement
 * boundaries, statement kinds and error positions are exactly the server's. Loaded on first use only: the module
 * and its .wasm cost about 60 ms, which a no-op `migrate up` must not pay.
 *
 * Positions handed out here are JavaScript string offsets (UTF-16 code units, 0-based) into the script, whatever
 * the parser counts internally (UTF-8 bytes).
 */
export interface ParsedStatement {
  /** The statement's text, without the terminating semicolon and without leading comments or blanks. */
  sql: string;
  /** Offset of its first character in the script. */
  offset: number;
  /** Offset just past its last character (before the semicolon, if any). */
  end: number;
  /** The parse node's type, e.g. `CreateStmt`, `TransactionStmt`, `IndexStmt`. */
  kind: string;
  /** The parse node's body: `{ relation, tableElts, ... }` for a CreateStmt. */
  node: Record<string, unknown>;
}

export interface SqlParser {
  /** Throws SqlSyntaxError when PostgreSQL would refuse the script's grammar. */
  parse(script: string): ParsedStatement[];
}

export class SqlSyntaxError extends Error {
  constructor(
    message: string,
    /** Offset in the script where PostgreSQL's cursor points. */
    readonly offset: number,
  ) {
    super(message);
    this.name = 'SqlSyntaxError';
  }
}

let loading: Promise<SqlParser> | undefined;

export function loadSqlParser(): Promise<SqlParser> {
  return (loading ??= compiledBaselineOnly(async () => {
    const module = await import('libpg-query');
    await module.loadModule();
    return module;
  }).then((module) => ({ parse: (script: string) => parseWith(module, script) })));
}


type Module = typeof import('libpg-query');

function parseWith({ parseSync, scanSync }: Pick<Module, 'parseSync' | 'scanSync'>, script: string): ParsedStatement[] {
  const offsets = byteToCharOffsets(script);
  let result;
  try {
    result = parseSync(script);
  } catch (error) {
    // The cursor counts code points from 0 (libpg_query converts it, as the server does), unlike the byte locations.
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    throw new SqlSyntaxError((error as Error).message, serverPositionToOffset(script, (details?.cursorPosition ?? 0) + 1));
  }
  const statements = result.stmts ?? [];
  return statements.flatMap(({ stmt, stmt_location = 0, stmt_len = 0 }, index) => {
    if (!stmt) return [];
    const offset = offsets(stmt_location);
    // The last statement's span runs to the end of the script, trailing comments and blanks included.
    const end = stmt_len === 0 && index === statements.length - 1 ? lastTokenEnd(scanSync, script, offsets) : offsets(stmt_location + stmt_len);
    const [kind, node] = Object.entries(stmt)[0] as [string, Record<string, unknown>];
    return [{ sql: script.slice(offset, end), offset, end, kind, node }];
  });
}


/** The end of the last token that is not a comment (token offsets count bytes, as statement locations do). */
function lastTokenEnd(scanSync: Module['scanSync'], script: string, offsets: (byte: number) => number): number {
  const tokens = scanSync(script).tokens;
  const last = tokens.findLast((token) => token.tokenName !== 'SQL_COMMENT' && token.tokenName !== 'C_COMMENT' && token.text !== ';');
  return last ? offsets(last.end) : script.length;
}

/** The parser counts UTF-8 bytes; a script of ASCII alone needs no table. */
function byteToCharOffsets(script: string): (byte: number) => number {
  if (!/[^\x00-\x7f]/.test(script)) return (byte) => Math.min(byte, script.length);
  const table: number[] = [];
  let chars = 0;
  for (const character of script) {
    const bytes = Buffer.byteLength(character);
    for (let i = 0; i < bytes; i++) table.push(chars);
    chars += character.length;
  }
  table.push(chars);
  return (byte) => table[Math.min(Math.max(0, byte), table.length - 1)] as number;
}

export interface SourcePosition {
  line: number;
  column: number;
  /** The whole line, without its line ending. */
  text: string;
}

/** Line and column (both from 1, columns in characters as an editor counts them) of an offset in the script. */
export function lineColumnAt(script: string, offset: number): SourcePosition {
  const before = script.slice(0, Math.max(0, offset));
  const lineStart = before.lastIndexOf('\n') + 1;
  const line = before.split('\n').length;
  const column = Array.from(before.slice(lineStart)).length + 1;
  const lineEnd = script.indexOf('\n', lineStart);
  const text = script.slice(lineStart, lineEnd === -1 ? script.length : lineEnd).replace(/\r$/, '');
  return { line, column, text };
}

/** PostgreSQL's error `position` counts characters (code points) from 1; this turns it into a string offset. */
export function serverPositionToOffset(script: string, position: number): number {
  let offset = 0;
  let count = 1;
  for (const character of script) {
    if (count >= position) break;
    offset += character.length;
    count++;
  }
  return offset;
}
