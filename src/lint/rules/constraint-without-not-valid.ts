import { alterCommands } from '../lock-plans.js';
import { defineRule } from './rule.js';
import { addedConstraints } from './statements.js';

export const constraintWithoutNotValid = defineRule({
  id: 'constraint-without-not-valid',
  severity: 'error',
  on: ['AlterTableStmt'],
  firesOn: 'ADD CONSTRAINT CHECK or FOREIGN KEY without NOT VALID on an existing table',
  why: 'adding a CHECK or FOREIGN KEY checks every existing row while holding a lock that blocks writes (ACCESS EXCLUSIVE for CHECK, SHARE ROW EXCLUSIVE on both tables for a foreign key)',
  fix: 'ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT ... in a later migration (SHARE UPDATE EXCLUSIVE: writes go on)',
  check: (statement, context) =>
    addedConstraints(statement, context, ['CHECK', 'FOREIGN'])
      .filter(({ constraint }) => !constraint.skip_validation)
      .map(({ table, type, conname }) => {
        // The statement itself with NOT VALID, when it is this one subcommand and the constraint has a name to validate.
        const single = alterCommands(statement.node).length === 1;
        const sql =
          single && conname ? `${statement.sql} NOT VALID;\n-- in a later migration:\nALTER TABLE ${table} VALIDATE CONSTRAINT ${conname};` : undefined;
        return {
          message: `adds ${type === 'CHECK' ? 'CHECK' : 'FOREIGN KEY'} ${conname ? `${conname} ` : ''}on ${table} without NOT VALID, so every row is checked under a lock that blocks writes`,
          sql,
        };
      }),
  examples: [
    {
      unsafe: 'alter table tasks add constraint tasks_rank_check check (priority is not null);',
      safe: 'alter table tasks add constraint tasks_rank_check check (priority is not null) not valid;',
    },
    {
      unsafe: 'alter table tasks add constraint tasks_owner_fkey foreign key (user_id) references users (id);',
      safe: 'alter table tasks add constraint tasks_owner_fkey foreign key (user_id) references users (id) not valid;',
    },
  ],
});
