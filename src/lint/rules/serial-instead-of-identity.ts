import type { RuleText } from './rule.js';

export const serialInsteadOfIdentity = {
  id: 'serial-instead-of-identity',
  severity: 'warning',
  style: true,
  firesOn: 'a serial column',
  why: 'serial makes a sequence with separate ownership and grants; identity columns are the SQL standard and follow the table',
  fix: 'Use bigint GENERATED ALWAYS AS IDENTITY',
  examples: [
    { unsafe: 'create table notes (id bigserial primary key);', safe: 'create table notes (id bigint generated always as identity primary key);' },
  ],
} as const satisfies RuleText;
