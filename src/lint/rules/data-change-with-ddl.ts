import type { RuleText } from './rule.js';

export const dataChangeWithDdl = {
  id: 'data-change-with-ddl',
  severity: 'error',
  firesOn: 'UPDATE, DELETE or INSERT ... SELECT on a table that gets DDL in the same migration',
  why: 'an UPDATE, DELETE or INSERT ... SELECT in the same transaction as DDL on the table holds the DDL\'s lock while every row is changed',
  fix: 'Move the data change to a migration of its own (and batch it on a large table)',
  examples: [
    { unsafe: 'alter table tasks add column done boolean;\nupdate tasks set done = status = \'completed\';', safe: 'update tasks set title = btrim(title) where title <> btrim(title);' },
    { unsafe: 'create index tasks_t_idx on tasks (title);\ndelete from tasks where title is null;', safe: 'create table notes (id int);\ninsert into notes select 1;' },
  ],
} as const satisfies RuleText;
