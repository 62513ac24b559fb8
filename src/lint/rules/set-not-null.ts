import type { RuleText } from './rule.js';

export const setNotNull = {
  id: 'set-not-null',
  severity: 'error',
  firesOn: 'SET NOT NULL without a validated CHECK (c IS NOT NULL) first (in this run or live)',
  why: 'SET NOT NULL scans the whole table under ACCESS EXCLUSIVE unless a validated CHECK (c IS NOT NULL) already proves it',
  fix: 'ADD CONSTRAINT t_c_not_null CHECK (c IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT t_c_not_null in a later migration; then SET NOT NULL (no scan) and DROP CONSTRAINT t_c_not_null',
  examples: [
    { unsafe: 'alter table tasks alter column description set not null;', safe: 'alter table tasks add constraint tasks_description_not_null check (description is not null);\nalter table tasks alter column description set not null;' },
  ],
} as const satisfies RuleText;
