import { addColumnRewrite as rewriteBy } from '../lock-plans.js';
import { defineRule } from './rule.js';
import { addedColumns } from './statements.js';

export const addColumnRewrite = defineRule({
  id: 'add-column-rewrite',
  severity: 'error',
  on: ['AlterTableStmt'],
  firesOn: 'ADD COLUMN with a volatile default (`gen_random_uuid()`, `random()`, `clock_timestamp()`, ...), serial, identity or a stored generated column',
  why: 'a volatile default, serial, identity or stored generated column makes PostgreSQL rewrite the whole table under ACCESS EXCLUSIVE',
  fix: 'Add the column without it, backfill in batches in later migrations, then set the default (ALTER COLUMN c SET DEFAULT ... affects new rows only)',
  check: (statement, context) =>
    addedColumns(statement, context).flatMap(({ table, command, column }) => {
      const rewrite = rewriteBy(command, context);
      return rewrite ? [{ message: `adding ${table}.${column.name} rewrites the table: ${rewrite}` }] : [];
    }),
  examples: [
    { unsafe: 'alter table tasks add column token uuid default gen_random_uuid();', safe: 'alter table tasks add column token uuid;' },
    { unsafe: 'alter table tasks add column n bigserial;', safe: 'alter table tasks add column n bigint;' },
    {
      unsafe: 'alter table tasks add column n bigint generated always as identity;',
      safe: 'create table notes (n bigint generated always as identity primary key);',
    },
    {
      unsafe: 'alter table tasks add column t text generated always as (lower(title)) stored;',
      safe: 'alter table tasks add column t text generated always as (lower(title)) virtual;',
    },
  ],
});
