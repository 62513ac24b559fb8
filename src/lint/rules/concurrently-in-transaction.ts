import { NO_TX, type RuleText } from './rule.js';

export const concurrentlyInTransaction = {
  id: 'concurrently-in-transaction',
  severity: 'error',
  firesOn: 'CONCURRENTLY in a migration that runs in a transaction (PostgreSQL refuses it); use `-- todo-db: no-transaction`',
  why: 'PostgreSQL refuses CONCURRENTLY inside a transaction block, and todo-db runs this migration in one',
  fix: 'Move the statement to its own migration whose first line is -- todo-db: no-transaction',
  examples: [
    { unsafe: 'create index concurrently tasks_title_idx on tasks (title);', safe: `${NO_TX}create index concurrently tasks_title_idx on tasks (title);` },
  ],
} as const satisfies RuleText;
