import { defineRule } from './rule.js';
import { unfilteredChanges } from './statements.js';

export const deleteWithoutWhere = defineRule({
  id: 'delete-without-where',
  severity: 'error',
  on: 'every statement',
  firesOn: 'DELETE with no WHERE, or one that is always true (`WHERE true`, `WHERE 1 = 1`), also with USING and inside a WITH',
  why: "deletes every row for good (USING joins other tables but filters nothing), and holds every row's lock until the migration commits, so writes to them wait",
  fix: 'Add the WHERE that picks the rows to delete (in batches on a large table), or allow it with the reason the data may go',
  check: (statement, context) =>
    unfilteredChanges(statement, context, 'DeleteStmt').map(({ table, change, where }) => {
      const joined = change.usingClause ? ' ... USING' : '';
      return { message: `DELETE FROM ${table}${joined} with ${where} deletes every row${joined ? ' that joins' : ''}` };
    }),
  examples: [
    { unsafe: 'delete from tasks;', safe: "delete from tasks where status = 'completed';" },
    { unsafe: 'delete from tasks where true;', safe: 'delete from tasks where priority is null;' },
    { unsafe: 'delete from tasks using users;', safe: 'delete from tasks using users where users.id = tasks.user_id and users.name is null;' },
    {
      unsafe: 'with gone as (delete from tasks returning id) select count(*) from gone;',
      safe: "with gone as (delete from tasks where title = '' returning id) select count(*) from gone;",
    },
  ],
});
