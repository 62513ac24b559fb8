import type { RuleText } from './rule.js';

export const intPrimaryKey = {
  id: 'int-primary-key',
  severity: 'warning',
  style: true,
  firesOn: 'an `integer` or `smallint` primary key',
  why: 'an integer key runs out at 2 147 483 647 rows, and widening it later rewrites the table',
  fix: 'Use bigint (GENERATED ALWAYS AS IDENTITY) or uuid',
  examples: [
    { unsafe: 'create table notes (id int primary key);', safe: 'create table notes (id bigint primary key);' },
    { unsafe: 'create table notes (id integer, primary key (id));', safe: 'create table notes (id uuid, primary key (id));' },
  ],
} as const satisfies RuleText;
