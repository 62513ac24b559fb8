import type { RuleText } from './rule.js';

export const addUniqueConstraint = {
  id: 'add-unique-constraint',
  severity: 'error',
  firesOn: 'ADD UNIQUE or PRIMARY KEY without USING INDEX (build a unique index CONCURRENTLY first)',
  why: 'ADD UNIQUE or PRIMARY KEY builds its index under ACCESS EXCLUSIVE: no reads or writes until it is built',
  fix: 'CREATE UNIQUE INDEX CONCURRENTLY t_c_key ON t (c) in a no-transaction migration, then ALTER TABLE t ADD CONSTRAINT t_c_key UNIQUE USING INDEX t_c_key',
  examples: [
    { unsafe: 'alter table users add constraint users_name_key unique (name);', safe: 'alter table users add constraint users_name_key unique using index users_name_key;' },
    { unsafe: 'alter table users add primary key (email);', safe: 'create table notes (id uuid, primary key (id));' },
  ],
} as const satisfies RuleText;
