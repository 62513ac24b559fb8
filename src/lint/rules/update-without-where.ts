import { defineRule } from './rule.js';
import { unfilteredChanges } from './statements.js';

export const updateWithoutWhere = defineRule({
  id: 'update-without-where',
  severity: 'error',
  on: 'every statement',
  firesOn: 'UPDATE with no WHERE, or one that is always true, also with FROM and inside a WITH',
  why: "overwrites every row, losing what it held (FROM joins other tables but filters nothing), and holds every row's lock until the migration commits, so writes to them wait",
  fix: 'Add the WHERE that picks the rows to change (in batches on a large table: WHERE id BETWEEN ...), or allow it with the reason',
  check: (statement, context) =>
    unfilteredChanges(statement, context, 'UpdateStmt').map(({ table, change, where }) => {
      const joined = change.fromClause ? ' ... FROM' : '';
      return { message: `UPDATE ${table}${joined} with ${where} overwrites every row${joined ? ' that joins' : ''}` };
    }),
  examples: [
    { unsafe: 'update tasks set description = null;', safe: "update tasks set description = null where description = '';" },
    { unsafe: 'update tasks set description = null where 1 = 1;', safe: 'update tasks set description = null where 1 = 2;' },
    { unsafe: 'update tasks set title = users.name from users;', safe: 'update tasks set title = users.name from users where users.id = tasks.user_id;' },
    {
      unsafe: "with moved as (update tasks set status = 'pending' returning id) insert into notes select id from moved;",
      safe: 'create table notes (id uuid);\nwith moved as (update notes set id = null returning id) select 1;',
    },
  ],
});
