import type { RuleText } from './rule.js';

export const foreignKeyWithoutIndex = {
  id: 'foreign-key-without-index',
  severity: 'warning',
  style: true,
  firesOn: 'a foreign key whose columns lead no index (in the linted migrations or live)',
  why: 'without an index on the referencing columns every DELETE or key UPDATE on the referenced table scans this table',
  fix: 'CREATE INDEX CONCURRENTLY t_c_idx ON t (c) (no-transaction migration; plain CREATE INDEX on a new table)',
  examples: [
    { unsafe: 'create table notes (id bigint generated always as identity primary key, task_id uuid references tasks (id));', safe: 'create table notes (id bigint generated always as identity primary key, task_id uuid references tasks (id));\ncreate index notes_task_id_idx on notes (task_id);' },
  ],
} as const satisfies RuleText;
