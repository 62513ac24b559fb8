import type { RuleText } from './rule.js';

export const dropNotNull = {
  id: 'drop-not-null',
  severity: 'error',
  firesOn: 'DROP NOT NULL',
  why: 'the deployed code may not expect NULL in this column',
  fix: 'Release code that handles NULL first; then allow it with a reason',
  examples: [
    { unsafe: 'alter table tasks alter column title drop not null;', safe: 'alter table tasks alter column title set default \'\';' },
  ],
} as const satisfies RuleText;
