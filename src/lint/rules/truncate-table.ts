import { relationName, unwrap } from '../ast.js';
import { isNewTable } from '../context.js';
import { defineRule } from './rule.js';

export const truncateTable = defineRule({
  id: 'truncate-table',
  severity: 'error',
  on: ['TruncateStmt'],
  firesOn: 'TRUNCATE of an existing table',
  why: 'deletes every row for good, under ACCESS EXCLUSIVE',
  fix: 'Delete the rows that must go with a WHERE (in batches on a large table), or allow it with the reason the data may go',
  check: ({ node }, context) =>
    ((node.relations as unknown[]) ?? []).flatMap((relation) => {
      const table = relationName(unwrap(relation)?.[1]) ?? '';
      return isNewTable(context, table) ? [] : [{ message: `TRUNCATE ${table} deletes every row` }];
    }),
  examples: [
    { unsafe: 'truncate tasks;', safe: "delete from tasks where status = 'completed';" },
    { unsafe: 'truncate table tasks, users cascade;', safe: 'create table scratch (id int);\ntruncate scratch;' },
  ],
});
