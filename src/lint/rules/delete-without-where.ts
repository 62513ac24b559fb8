import type { RuleText } from './rule.js';

export const deleteWithoutWhere = {
  id: 'delete-without-where',
  severity: 'error',
  firesOn: 'DELETE with no WHERE, or one that is always true (`WHERE true`, `WHERE 1 = 1`), also with USING and inside a WITH',
  why: 'deletes every row for good (USING joins other tables but filters nothing), and holds every row\'s lock until the migration commits, so writes to them wait',
  fix: 'Add the WHERE that picks the rows to delete (in batches on a large table), or allow it with the reason the data may go',
  examples: [
    { unsafe: 'delete from tasks;', safe: 'delete from tasks where status = \'completed\';' },
    { unsafe: 'delete from tasks where true;', safe: 'delete from tasks where priority is null;' },
    { unsafe: 'delete from tasks using users;', safe: 'delete from tasks using users where users.id = tasks.user_id and users.name is null;' },
    { unsafe: 'with gone as (delete from tasks returning id) select count(*) from gone;', safe: 'with gone as (delete from tasks where title = \'\' returning id) select count(*) from gone;' },
  ],
} as const satisfies RuleText;
