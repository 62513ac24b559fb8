import type { RuleText } from './rule.js';

export const alterColumnType = {
  id: 'alter-column-type',
  severity: 'error',
  firesOn: 'ALTER COLUMN TYPE that rewrites the table; a rewrite-free change that scans for a CHECK is a warning (an error on a large table); offline, a target that may be a widening is a warning',
  why: 'changing a column type rewrites the table and its indexes under ACCESS EXCLUSIVE, and breaks the deployed code that reads the old type',
  fix: 'Add a column of the new type, write both from the app, backfill in batches, move reads, then drop the old column; widening varchar(n) or numeric precision needs no rewrite',
  examples: [
    { unsafe: 'alter table tasks alter column title type int using 0;', safe: 'alter table tasks add column title_number int;' },
  ],
} as const satisfies RuleText;
