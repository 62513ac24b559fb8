import { defineRule, NO_TX, ownMigration } from './rule.js';
import { indexWork } from './statements.js';

export const concurrentlyInTransaction = defineRule({
  id: 'concurrently-in-transaction',
  severity: 'error',
  firesOn: 'CONCURRENTLY in a migration that runs in a transaction (PostgreSQL refuses it); use `-- todo-db: no-transaction`',
  why: 'PostgreSQL refuses CONCURRENTLY inside a transaction block, and todo-db runs this migration in one',
  fix: 'Move the statement to its own migration whose first line is -- todo-db: no-transaction',
  on: ['IndexStmt', 'ReindexStmt', 'DropStmt'],
  check: (statement, context) => {
    if (!context.transactional) return [];
    return indexWork(statement, context)
      .filter((work) => work.concurrent)
      .map((work) => ({ message: `${work.what} uses CONCURRENTLY in a migration that runs in a transaction`, sql: ownMigration(statement.sql) }));
  },
  examples: [
    { unsafe: 'create index concurrently tasks_title_idx on tasks (title);', safe: `${NO_TX}create index concurrently tasks_title_idx on tasks (title);` },
  ],
});
