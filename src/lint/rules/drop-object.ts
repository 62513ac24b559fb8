import type { RuleText } from './rule.js';

export const dropObject = {
  id: 'drop-object',
  severity: 'error',
  firesOn: 'DROP of a column, table, type or schema (warning in down.sql for what its migration created)',
  why: 'drops data for good, and the deployed code that still uses it fails',
  fix: 'Release code that no longer uses it first, then drop it in a later migration (with an allow comment saying so)',
  examples: [
    { unsafe: 'alter table tasks drop column description;', safe: 'alter table tasks add column notes text;\nalter table tasks drop column notes;' },
    { unsafe: 'drop table tasks;', safe: 'create table scratch (id int);\ndrop table scratch;' },
    { unsafe: 'drop type task_priority;', safe: 'create type mood as enum (\'ok\');\ndrop type mood;' },
    { unsafe: 'drop schema audit cascade;', safe: 'create schema audit;\ndrop schema audit;' },
  ],
} as const satisfies RuleText;
