import type { RuleText } from './rule.js';

export const rename = {
  id: 'rename',
  severity: 'error',
  firesOn: 'RENAME of a column or table',
  why: 'the deployed code still uses the old name and fails as soon as the migration commits',
  fix: 'Expand and contract: add the new column (or a view with the new table name), write both, backfill, move reads, then drop the old one in a later release',
  examples: [
    { unsafe: 'alter table tasks rename column title to name;', safe: 'alter table tasks add column name varchar(200);' },
    { unsafe: 'alter table tasks rename to todos;', safe: 'create view todos as select * from tasks;' },
  ],
} as const satisfies RuleText;
