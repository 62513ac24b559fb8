import type { RuleText } from './rule.js';

export const updateWithoutWhere = {
  id: 'update-without-where',
  severity: 'error',
  firesOn: 'UPDATE with no WHERE, or one that is always true, also with FROM and inside a WITH',
  why: 'overwrites every row, losing what it held (FROM joins other tables but filters nothing), and holds every row\'s lock until the migration commits, so writes to them wait',
  fix: 'Add the WHERE that picks the rows to change (in batches on a large table: WHERE id BETWEEN ...), or allow it with the reason',
  examples: [
    { unsafe: 'update tasks set description = null;', safe: 'update tasks set description = null where description = \'\';' },
    { unsafe: 'update tasks set description = null where 1 = 1;', safe: 'update tasks set description = null where 1 = 2;' },
    { unsafe: 'update tasks set title = users.name from users;', safe: 'update tasks set title = users.name from users where users.id = tasks.user_id;' },
    { unsafe: 'with moved as (update tasks set status = \'pending\' returning id) insert into notes select id from moved;', safe: 'create table notes (id uuid);\nwith moved as (update notes set id = null returning id) select 1;' },
  ],
} as const satisfies RuleText;
