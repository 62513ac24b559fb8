import { defineRule } from './rule.js';
import { commandsOn } from './statements.js';

export const validateInSameMigration = defineRule({
  id: 'validate-in-same-migration',
  severity: 'error',
  on: ['AlterTableStmt'],
  firesOn: 'VALIDATE CONSTRAINT in the migration that added it NOT VALID',
  why: "validating in the same transaction that added the constraint NOT VALID keeps the ADD's blocking lock for the whole validation, so NOT VALID gains nothing",
  fix: 'Move VALIDATE CONSTRAINT to a later migration',
  check: (statement, context) =>
    commandsOn(statement, context, 'AT_ValidateConstraint').flatMap(({ table, name }) =>
      context.state.notValid.has(`${table}.${name}`) ? [{ message: `validates ${name} on ${table} in the migration that added it NOT VALID` }] : [],
    ),
  examples: [
    {
      unsafe: 'alter table tasks add constraint c check (priority is not null) not valid;\nalter table tasks validate constraint c;',
      safe: 'alter table tasks validate constraint c;',
    },
  ],
});
