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
  /** The parse node's body: `{ relation, tableElts, ... }` for a CreateStmt. Its own `location`s are not offsets in the script. */
  node: Record<string, unknown>;
}

export interface SqlParser {
  /** Throws SqlSyntaxError when PostgreSQL would refuse the script's grammar. */
  parse(script: string): ParsedStatement[];
  /**
   * The same statements, a piece of the script at a time (see PIECE_CHARACTERS), for a reader that keeps less than
   * the parse trees: a large file's trees together weigh about 15 times the file. Throws SqlSyntaxError when it
   * reaches the piece that holds the error.
   */
  pieces(script: string): Iterable<ParsedStatement[]>;
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
  loading ??= compiledBaselineOnly(async () => {
    const module = await import('libpg-query');
    await module.loadModule();
    return module;
  }).then((module) => ({ parse: (script: string) => [...piecesOf(module, script)].flat(), pieces: (script: string) => piecesOf(module, script) }));
  return loading;
}

type Module = typeof import('libpg-query');

/**
 * A script is parsed in pieces of about this many characters, each cut just after a semicolon that the parser
 * confirms ends a statement: the parser's memory (its WebAssembly heap, which never shrinks, and the JSON it
 * returns) is then that of one piece, whatever the size of the file. Smaller pieces parse no slower (a 9 MB file
 * took 0.9 s in pieces of 8 kB, 1.0 s in pieces of 64 kB) and leave less garbage behind each call. At 8 kB the JSON
 * the parser returns for a piece (about 8 times the SQL) stays under V8's large-object size (128 kB), so it dies
 * young: JSON of 64 kB pieces went straight to the old generation, and a 9 MB file's lint peaked 40 MB higher.
 */
const PIECE_CHARACTERS = 8 * 1024;

function* piecesOf(module: Pick<Module, 'parseSync' | 'scanSync'>, script: string): Generator<ParsedStatement[]> {
  for (let start = 0; start < script.length; ) {
    const piece = parsePiece(module, script, start);
    yield piece.statements;
    start = piece.end;
  }
}

/**
 * The statements of the next piece from `start`. A cut that is no statement's end (a semicolon in a string, a
 * comment, a function body) fails to parse or leaves its semicolon outside the last statement: the piece then
 * doubles, so one huge statement costs a few parses of its own size, not one per semicolon.
 */
function parsePiece(module: Pick<Module, 'parseSync' | 'scanSync'>, script: string, start: number): { statements: ParsedStatement[]; end: number } {
  for (let size = PIECE_CHARACTERS; ; size *= 2) {
    const semicolon = start + size < script.length ? script.indexOf(';', start + size) : -1;
    const end = semicolon === -1 ? script.length : semicolon + 1;
    const last = end === script.length;
    const text = start === 0 && last ? script : script.slice(start, end);
    let result: ReturnType<Module['parseSync']>;
    try {
      result = module.parseSync(text);
    } catch (error) {
      if (!last) continue;
      // The cursor counts code points from 0 (libpg_query converts it, as the server does), unlike the byte locations.
      const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
      throw new SqlSyntaxError((error as Error).message, start + serverPositionToOffset(text, (details?.cursorPosition ?? 0) + 1));
    }
    const found = result.stmts ?? [];
    const final = found.at(-1);
    if (!last && (final?.stmt_len === undefined || (final.stmt_location ?? 0) + final.stmt_len !== Buffer.byteLength(text) - 1)) continue;
    return { statements: statementsOf(module, text, found, start), end };
  }
}

type RawStatements = NonNullable<ReturnType<Module['parseSync']>['stmts']>;

/** The parser's statements of one piece, with their offsets in the whole script. */
function statementsOf({ scanSync }: Pick<Module, 'scanSync'>, text: string, found: RawStatements, start: number): ParsedStatement[] {
  const offsets = byteToCharOffsets(text);
  return found.flatMap(({ stmt, stmt_location = 0, stmt_len = 0 }, index) => {
    if (!stmt) return [];
    const offset = offsets(stmt_location);
    // The last statement's span runs to the end of the script, trailing comments and blanks included.
    const end = stmt_len === 0 && index === found.length - 1 ? lastTokenEnd(scanSync, text, offsets, stmt_location) : offsets(stmt_location + stmt_len);
    const [kind, node] = Object.entries(stmt)[0] as [string, Record<string, unknown>];
    return [{ sql: text.slice(offset, end), offset: start + offset, end: start + end, kind, node }];
  });
}

/**
 * The end of the last token that is not a comment, scanning the last statement only: the whole script's tokens
 * would cost time and memory in proportion to the file for one statement's end. Token offsets count bytes from
 * where the scan starts, as statement locations do from the script's start.
 */
function lastTokenEnd(scanSync: Module['scanSync'], script: string, offsets: (byte: number) => number, fromByte: number): number {
  const from = offsets(fromByte);
  const tokens = scanSync(script.slice(from)).tokens;
  const last = tokens.findLast((token) => token.tokenName !== 'SQL_COMMENT' && token.tokenName !== 'C_COMMENT' && token.text !== ';');
  return last ? offsets(fromByte + last.end) : script.length;
}

/**
 * The parser counts UTF-8 bytes; a script of ASCII alone needs no conversion. Otherwise a cursor walks forward
 * from the last answer (statement locations come in order), so converting every statement's offsets costs one
 * pass over the script, not one per statement; an earlier byte starts it over.
 */
function byteToCharOffsets(script: string): (byte: number) => number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: any byte outside ASCII, NUL included
  if (!/[^\x00-\x7f]/.test(script)) return (byte) => Math.min(byte, script.length);
  let bytes = 0;
  let chars = 0;
  return (byte) => {
    if (byte < bytes) bytes = chars = 0;
    while (bytes < byte && chars < script.length) {
      const code = script.codePointAt(chars) as number;
      bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
      chars += code > 0xffff ? 2 : 1;
    }
    return chars;
  };
}

export interface SourcePosition {
  line: number;
  column: number;
  /** The whole line, without its line ending. */
  text: string;
}

/** Line and column (both from 1, columns in characters as an editor counts them) of an offset in the script. */
export function lineColumnAt(script: string, offset: number): SourcePosition {
  return new SourceLines(script).at(offset);
}

/**
 * Positions of many offsets in one script (a finding per statement): the line starts are found once, so each
 * position is a binary search, not a rescan of the script before it.
 */
export class SourceLines {
  private readonly starts: number[] = [0];
  /** Without surrogate pairs a column is a difference of offsets; with them, characters are counted. */
  private readonly astral: boolean;
  /** The last count, resumed from by the next one on the same line (statements on one long line come in order). */
  private counted = { start: -1, end: 0, count: 0 };

  constructor(private readonly script: string) {
    for (let at = script.indexOf('\n'); at !== -1; at = script.indexOf('\n', at + 1)) this.starts.push(at + 1);
    this.astral = /[\uD800-\uDBFF][\uDC00-\uDFFF]/.test(script);
  }

  at(offset: number): SourcePosition {
    const clamped = Math.min(Math.max(0, offset), this.script.length);
    const line = this.lineOf(clamped);
    const lineStart = this.starts[line - 1] as number;
    return { line, column: this.charactersBetween(lineStart, clamped) + 1, text: this.lineText(line) };
  }

  /** The whole line (from 1), without its line ending. */
  lineText(line: number): string {
    const start = this.starts[line - 1];
    if (start === undefined) return '';
    const next = this.starts[line];
    const text = this.script.slice(start, next === undefined ? this.script.length : next - 1);
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  }

  /** The last line starting at or before the offset. */
  private lineOf(offset: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if ((this.starts[middle] as number) <= offset) low = middle;
      else high = middle - 1;
    }
    return low + 1;
  }

  /** Code points from `start` to `end`, a lone surrogate counting as one, as Array.from counts them. */
  private charactersBetween(start: number, end: number): number {
    if (!this.astral) return end - start;
    const { counted } = this;
    // Not from the middle of a pair, which the last count took for a lone surrogate.
    const resume = counted.start === start && counted.end <= end && !isHighSurrogate(this.script.charCodeAt(counted.end - 1));
    let count = resume ? counted.count : 0;
    let at = resume ? counted.end : start;
    for (; at < end; count++) {
      const code = this.script.charCodeAt(at);
      const pair = isHighSurrogate(code) && at + 1 < end && (this.script.charCodeAt(at + 1) & 0xfc00) === 0xdc00;
      at += pair ? 2 : 1;
    }
    this.counted = { start, end: at, count };
    return count;
  }
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

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
