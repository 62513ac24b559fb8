import { isNewColumn } from '../context.js';
import { defineRule, type RawFinding } from './rule.js';
import { commandsOn } from './statements.js';

export const dropNotNull = defineRule({
  id: 'drop-not-null',
  severity: 'error',
  on: ['AlterTableStmt'],
  firesOn: 'DROP NOT NULL',
  why: 'the deployed code may not expect NULL in this column',
  fix: 'Release code that handles NULL first; then allow it with a reason',
  check: (statement, context) =>
    commandsOn(statement, context, 'AT_DropNotNull').flatMap(({ table, name: column }): RawFinding[] => {
      if (isNewColumn(context, table, column)) return [];
      if (context.undoes.has(`notnull:${table}.${column}`))
        return [{ message: `DROP NOT NULL on ${table}.${column} (undoing its migration)`, severity: 'warning' }];
      return [{ message: `DROP NOT NULL on ${table}.${column}: clients may not expect NULL` }];
    }),
  examples: [{ unsafe: 'alter table tasks alter column title drop not null;', safe: "alter table tasks alter column title set default '';" }],
});
