import type { ParsedStatement } from '../sql/parser.js';

/**
 * What a migration's statements mean to the runner, judged from PostgreSQL's own parse tree (src/sql/parser.ts),
 * never from the text: every spelling of a statement is the same node. Pure, so each rule is tested on its own.
 */
export type StatementProblem =
  /** BEGIN, COMMIT AND CHAIN, PREPARE TRANSACTION, ...: would end or split the transaction around a migration. */
  | { kind: 'transaction-control'; statement: ParsedStatement; what: string }
  /** CREATE INDEX CONCURRENTLY, VACUUM, ...: PostgreSQL refuses it inside a transaction block. */
  | { kind: 'needs-no-transaction'; statement: ParsedStatement; what: string }
  /** DISCARD ALL: releases every advisory lock of the session, the migration lock with it. */
  | { kind: 'releases-lock'; statement: ParsedStatement; what: string };

/**
 * The first statement a migration may not hold. In a transactional file (and down.sql, which always runs in one)
 * savepoints are harmless: ROLLBACK TO stays inside the transaction. Outside one they are meaningless.
 */
export function findStatementProblem(statements: ParsedStatement[], { transactional }: { transactional: boolean }): StatementProblem | undefined {
  for (const statement of statements) {
    const control = transactionControl(statement, transactional);
    if (control) return { kind: 'transaction-control', statement, what: control };
    if (isDiscardAll(statement)) return { kind: 'releases-lock', statement, what: 'DISCARD ALL' };
    const refused = transactional ? refusedInTransactionBlock(statement) : undefined;
    if (refused) return { kind: 'needs-no-transaction', statement, what: refused };
  }
  return undefined;
}

const TRANSACTION_CONTROL: Record<string, string> = {
  TRANS_STMT_BEGIN: 'BEGIN',
  TRANS_STMT_START: 'START TRANSACTION',
  TRANS_STMT_COMMIT: 'COMMIT',
  TRANS_STMT_ROLLBACK: 'ROLLBACK',
  TRANS_STMT_PREPARE: 'PREPARE TRANSACTION',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT PREPARED',
  TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK PREPARED',
};
const SAVEPOINTS: Record<string, string> = {
  TRANS_STMT_SAVEPOINT: 'SAVEPOINT',
  TRANS_STMT_RELEASE: 'RELEASE SAVEPOINT',
  TRANS_STMT_ROLLBACK_TO: 'ROLLBACK TO SAVEPOINT',
};

/** END and ABORT parse as COMMIT and ROLLBACK; AND CHAIN is a flag on them. */
function transactionControl({ kind, node }: ParsedStatement, transactional: boolean): string | undefined {
  if (kind !== 'TransactionStmt') return undefined;
  const type = String(node.kind);
  const what = TRANSACTION_CONTROL[type] ?? (transactional ? undefined : SAVEPOINTS[type]);
  return what && node.chain ? `${what} AND CHAIN` : what;
}

function isDiscardAll({ kind, node }: ParsedStatement): boolean {
  return kind === 'DiscardStmt' && node.target === 'DISCARD_ALL';
}

/**
 * The statements PostgreSQL's PreventInTransactionBlock refuses, as far as the statement alone tells. The rest
 * (REINDEX or CLUSTER of a partitioned table, ALTER SUBSCRIPTION ... REFRESH, DROP SUBSCRIPTION of a subscription
 * with a slot) depend on the catalog: the server refuses them with SQLSTATE 25001, which gets the same hint.
 */
function refusedInTransactionBlock({ kind, node }: ParsedStatement): string | undefined {
  switch (kind) {
    case 'IndexStmt':
      return node.concurrent ? 'CREATE INDEX CONCURRENTLY' : undefined;
    case 'DropStmt':
      return node.concurrent ? 'DROP INDEX CONCURRENTLY' : undefined;
    case 'ReindexStmt':
      if (hasOption(node.params, 'concurrently')) return 'REINDEX CONCURRENTLY';
      return { REINDEX_OBJECT_SCHEMA: 'REINDEX SCHEMA', REINDEX_OBJECT_SYSTEM: 'REINDEX SYSTEM', REINDEX_OBJECT_DATABASE: 'REINDEX DATABASE' }[
        String(node.kind)
      ];
    case 'VacuumStmt':
      return node.is_vacuumcmd ? 'VACUUM' : undefined;
    case 'ClusterStmt':
      return node.relation ? undefined : 'CLUSTER without a table';
    case 'AlterTableStmt':
      return (node.cmds as Array<{ AlterTableCmd?: { subtype?: string; def?: { PartitionCmd?: { concurrent?: boolean } } } }> | undefined)?.some(
        ({ AlterTableCmd: cmd }) => cmd?.subtype === 'AT_DetachPartition' && cmd.def?.PartitionCmd?.concurrent,
      )
        ? 'ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY'
        : undefined;
    case 'AlterDatabaseStmt':
      return hasOption(node.options, 'tablespace') ? 'ALTER DATABASE ... SET TABLESPACE' : undefined;
    case 'CreateSubscriptionStmt':
      // create_slot defaults to true, and connect = false implies no slot.
      return isOff(node.options, 'create_slot') || isOff(node.options, 'connect') ? undefined : 'CREATE SUBSCRIPTION (with a replication slot)';
    default:
      return WHOLE_KINDS[kind];
  }
}

const WHOLE_KINDS: Record<string, string> = {
  CreatedbStmt: 'CREATE DATABASE',
  DropdbStmt: 'DROP DATABASE',
  CreateTableSpaceStmt: 'CREATE TABLESPACE',
  DropTableSpaceStmt: 'DROP TABLESPACE',
  AlterSystemStmt: 'ALTER SYSTEM',
};

type DefElems = Array<{ DefElem?: { defname?: string; arg?: Record<string, unknown> } }> | undefined;

function hasOption(options: unknown, name: string): boolean {
  return (options as DefElems)?.some((option) => option.DefElem?.defname === name) ?? false;
}

/** `create_slot = false` parses as a Boolean, a String 'false' or 'off', or an Integer 0, depending on the spelling. */
function isOff(options: unknown, name: string): boolean {
  const arg = (options as DefElems)?.find((option) => option.DefElem?.defname === name)?.DefElem?.arg;
  if (!arg) return false;
  const value =
    (arg.Boolean as { boolval?: boolean } | undefined)?.boolval ??
    (arg.String as { sval?: string } | undefined)?.sval ??
    (arg.Integer as { ival?: number } | undefined)?.ival ??
    0;
  return value === false || value === 0 || /^(false|off|no|0)$/i.test(String(value));
}
