import type { RuleText } from './rule.js';

export const addColumnNotNullWithoutDefault = {
  id: 'add-column-not-null-without-default',
  severity: 'error',
  firesOn: 'ADD COLUMN ... NOT NULL without a default',
  why: 'fails on a table that has rows (they would hold NULL), and the deployed code does not write the column yet',
  fix: 'Give it a constant default: ADD COLUMN c type NOT NULL DEFAULT <constant> (no rewrite since PostgreSQL 11), or add it nullable, backfill, then add NOT NULL through a validated CHECK',
  examples: [
    { unsafe: 'alter table tasks add column rank int not null;', safe: 'alter table tasks add column rank int not null default 0;' },
  ],
} as const satisfies RuleText;
