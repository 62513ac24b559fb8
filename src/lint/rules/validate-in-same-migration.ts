import type { RuleText } from './rule.js';

export const validateInSameMigration = {
  id: 'validate-in-same-migration',
  severity: 'error',
  firesOn: 'VALIDATE CONSTRAINT in the migration that added it NOT VALID',
  why: 'validating in the same transaction that added the constraint NOT VALID keeps the ADD\'s blocking lock for the whole validation, so NOT VALID gains nothing',
  fix: 'Move VALIDATE CONSTRAINT to a later migration',
  examples: [
    { unsafe: 'alter table tasks add constraint c check (priority is not null) not valid;\nalter table tasks validate constraint c;', safe: 'alter table tasks validate constraint c;' },
  ],
} as const satisfies RuleText;
