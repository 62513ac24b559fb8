import { defineRule } from './rule.js';

export const transactionControl = defineRule({
  id: 'transaction-control',
  severity: 'error',
  on: ['TransactionStmt'],
  firesOn:
    "BEGIN, COMMIT, ROLLBACK, END, ABORT, PREPARE TRANSACTION, ... (the engine refuses them too), except Prisma's own block (`prisma-transaction-block`)",
  why: 'todo-db runs each migration in its own transaction together with its history row; this would end it or run outside it',
  fix: 'Remove it (in a file no database has applied; where Prisma deployed it, record the edit with todo-db migrate resolve --edited <name>); for statements that cannot run in a transaction, start the file with -- todo-db: no-transaction',
  check: (statement, context) => {
    const { node } = statement;
    const kind = String(node.kind).replace(/^TRANS_STMT_/, '');
    // Prisma's block is prisma-transaction-block's.
    if (context.prismaBlocks.has(statement)) return [];
    // Savepoints nest inside the migration's transaction; they only fail where there is none.
    if (context.transactional && ['SAVEPOINT', 'RELEASE', 'ROLLBACK_TO'].includes(kind)) return [];
    return [{ message: `${kind.replace(/_/g, ' ')}${node.chain ? ' AND CHAIN' : ''} is transaction control` }];
  },
  examples: [
    { unsafe: 'commit and chain;', safe: 'savepoint before_change;' },
    { unsafe: 'begin;\ncreate table notes (id int);', safe: 'create table notes (id int);' },
  ],
});
