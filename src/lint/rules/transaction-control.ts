import type { RuleText } from './rule.js';

export const transactionControl = {
  id: 'transaction-control',
  severity: 'error',
  firesOn: "BEGIN, COMMIT, ROLLBACK, END, ABORT, PREPARE TRANSACTION, ... (the engine refuses them too), except Prisma's own block (`prisma-transaction-block`)",
  why: 'todo-db runs each migration in its own transaction together with its history row; this would end it or run outside it',
  fix: 'Remove it (in a file no database has applied; where Prisma deployed it, record the edit with todo-db migrate resolve --edited <name>); for statements that cannot run in a transaction, start the file with -- todo-db: no-transaction',
  examples: [
    { unsafe: 'commit and chain;', safe: 'savepoint before_change;' },
    { unsafe: 'begin;\ncreate table notes (id int);', safe: 'create table notes (id int);' },
  ],
} as const satisfies RuleText;
