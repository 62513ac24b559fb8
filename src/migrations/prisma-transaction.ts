import type { ParsedStatement } from '../sql/parser.js';

/**
 * Prisma's schema engine writes one kind of transaction control into the migrations it generates: removing a
 * value from a PostgreSQL enum renders as a line `BEGIN;`, the type rebuilt under a new name, and a line
 * `COMMIT;` (prisma-engines, schema-engine/connectors/sql-schema-connector/src/sql_renderer/postgres_renderer.rs,
 * render_postgres_alter_enum). Exactly that shape, and no other spelling, is folded into the transaction todo-db
 * runs the file in (with its history row): the two lines are not sent. `prisma migrate deploy` instead commits at
 * the COMMIT line, so what follows it commits on its own; docs/migrations.md says what that means.
 */

/** The BEGIN and COMMIT of each of Prisma's blocks in a file that runs in a transaction, in file order. */
export function prismaTransactionBlocks(script: string, statements: ParsedStatement[]): ParsedStatement[] {
  const folded: ParsedStatement[] = [];
  let open: ParsedStatement | undefined;
  for (const statement of statements) {
    if (statement.kind !== 'TransactionStmt' || SAVEPOINTS.has(String(statement.node.kind))) continue;
    const type = String(statement.node.kind);
    if (!open && type === 'TRANS_STMT_BEGIN' && isOwnLine(script, statement, 'BEGIN')) {
      open = statement;
    } else if (open && type === 'TRANS_STMT_COMMIT' && isOwnLine(script, statement, 'COMMIT')) {
      folded.push(open, statement);
      open = undefined;
    } else {
      // Any other transaction control ends the search: it, and whatever comes after it, stays refused.
      break;
    }
  }
  return folded;
}

const SAVEPOINTS = new Set(['TRANS_STMT_SAVEPOINT', 'TRANS_STMT_RELEASE', 'TRANS_STMT_ROLLBACK_TO']);

/** A line that holds exactly `BEGIN;` or `COMMIT;`, as Prisma writes it (its statements end in `;\n`): no options, no AND CHAIN, no other case. */
function isOwnLine(script: string, statement: ParsedStatement, keyword: 'BEGIN' | 'COMMIT'): boolean {
  if (statement.sql !== keyword || script[statement.end] !== ';') return false;
  const startsLine = statement.offset === 0 || script[statement.offset - 1] === '\n';
  const after = script.slice(statement.end + 1, statement.end + 3);
  return startsLine && (after === '' || after.startsWith('\n') || after === '\r\n');
}

/**
 * What the server is sent for a file with Prisma's blocks: their BEGIN and COMMIT (and their semicolons) blanked
 * out, every other character where it was, so positions PostgreSQL reports still count in the file; and the
 * statements without them, as each remaining one completes one command. The checksum stays the file's own.
 */
export function foldPrismaTransactions(script: string, statements: ParsedStatement[]): { send: string; statements: ParsedStatement[] } {
  const folded = new Set(prismaTransactionBlocks(script, statements));
  if (folded.size === 0) return { send: script, statements };
  let send = '';
  let from = 0;
  for (const statement of folded) {
    send += script.slice(from, statement.offset) + ' '.repeat(statement.end + 1 - statement.offset);
    from = statement.end + 1;
  }
  return { send: send + script.slice(from), statements: statements.filter((statement) => !folded.has(statement)) };
}
