import { NO_TX, type RuleText } from './rule.js';

export const indexWithoutConcurrently = {
  id: 'index-without-concurrently',
  severity: 'error',
  firesOn: 'CREATE INDEX, DROP INDEX or REINDEX without CONCURRENTLY on an existing table',
  why: 'builds, rebuilds or drops the index under a lock that blocks the table until it is done: CREATE INDEX takes SHARE (writes wait); REINDEX takes SHARE on the table and ACCESS EXCLUSIVE on the index, and DROP INDEX ACCESS EXCLUSIVE on both (reads wait too)',
  fix: 'Use CREATE INDEX CONCURRENTLY (or DROP INDEX / REINDEX ... CONCURRENTLY) alone in a migration whose first line is -- todo-db: no-transaction',
  examples: [
    { unsafe: 'create index tasks_title_idx on tasks (title);', safe: `${NO_TX}create index concurrently tasks_title_idx on tasks (title);` },
    { unsafe: 'drop index tasks_status_idx;', safe: `${NO_TX}drop index concurrently tasks_status_idx;` },
    { unsafe: 'reindex index tasks_status_idx;', safe: `${NO_TX}reindex index concurrently tasks_status_idx;` },
    { unsafe: 'create index notes_idx on notes (body);', safe: 'create table notes (body text);\ncreate index notes_idx on notes (body);' },
  ],
} as const satisfies RuleText;
