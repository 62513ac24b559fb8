import type { RuleText } from './rule.js';

export const truncateTable = {
  id: 'truncate-table',
  severity: 'error',
  firesOn: 'TRUNCATE of an existing table',
  why: 'deletes every row for good, under ACCESS EXCLUSIVE',
  fix: 'Delete the rows that must go with a WHERE (in batches on a large table), or allow it with the reason the data may go',
  examples: [
    { unsafe: 'truncate tasks;', safe: 'delete from tasks where status = \'completed\';' },
    { unsafe: 'truncate table tasks, users cascade;', safe: 'create table scratch (id int);\ntruncate scratch;' },
  ],
} as const satisfies RuleText;
