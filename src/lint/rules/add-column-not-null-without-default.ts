import { constraintType } from '../ast.js';
import { addColumnRewrite } from '../lock-plans.js';
import { defineRule } from './rule.js';
import { addedColumns } from './statements.js';

export const addColumnNotNullWithoutDefault = defineRule({
  id: 'add-column-not-null-without-default',
  severity: 'error',
  on: ['AlterTableStmt'],
  firesOn: 'ADD COLUMN ... NOT NULL without a default',
  why: 'fails on a table that has rows (they would hold NULL), and the deployed code does not write the column yet',
  fix: 'Give it a constant default: ADD COLUMN c type NOT NULL DEFAULT <constant> (no rewrite since PostgreSQL 11), or add it nullable, backfill, then add NOT NULL through a validated CHECK',
  check: (statement, context) =>
    addedColumns(statement, context).flatMap(({ table, command, column }) => {
      // A column whose default rewrites the table is add-column-rewrite's.
      if (addColumnRewrite(command, context)) return [];
      const types = column.constraints.map(constraintType);
      return types.includes('NOTNULL') && !types.includes('DEFAULT') && !types.includes('GENERATED')
        ? [{ message: `adds ${table}.${column.name} NOT NULL without a default` }]
        : [];
    }),
  examples: [{ unsafe: 'alter table tasks add column rank int not null;', safe: 'alter table tasks add column rank int not null default 0;' }],
});
