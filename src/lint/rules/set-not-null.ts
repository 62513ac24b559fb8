import { notNullProven } from '../lock-plans.js';
import { defineRule } from './rule.js';
import { commandsOn } from './statements.js';

export const setNotNull = defineRule({
  id: 'set-not-null',
  severity: 'error',
  on: ['AlterTableStmt'],
  firesOn: 'SET NOT NULL without a validated CHECK (c IS NOT NULL) first (in this run or live)',
  why: 'SET NOT NULL scans the whole table under ACCESS EXCLUSIVE unless a validated CHECK (c IS NOT NULL) already proves it',
  fix: 'ADD CONSTRAINT t_c_not_null CHECK (c IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT t_c_not_null in a later migration; then SET NOT NULL (no scan) and DROP CONSTRAINT t_c_not_null',
  check: (statement, context) =>
    commandsOn(statement, context, 'AT_SetNotNull').flatMap(({ table, name: column }) => {
      if (notNullProven(table, column, context)) return [];
      const check = `${table}_${column}_not_null`.slice(0, 63);
      const sql = [
        `ALTER TABLE ${table} ADD CONSTRAINT ${check} CHECK (${column} IS NOT NULL) NOT VALID;`,
        `-- in a later migration:\nALTER TABLE ${table} VALIDATE CONSTRAINT ${check};`,
        `-- then:\nALTER TABLE ${table} ALTER COLUMN ${column} SET NOT NULL;\nALTER TABLE ${table} DROP CONSTRAINT ${check};`,
      ].join('\n');
      return [
        {
          message: `SET NOT NULL on ${table}.${column} scans the table under ACCESS EXCLUSIVE: no validated CHECK (${column} IS NOT NULL) proves it first`,
          sql,
        },
      ];
    }),
  examples: [
    {
      unsafe: 'alter table tasks alter column description set not null;',
      safe: 'alter table tasks add constraint tasks_description_not_null check (description is not null);\nalter table tasks alter column description set not null;',
    },
  ],
});
