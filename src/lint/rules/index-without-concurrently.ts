import { isNewObject, isNewTable } from '../context.js';
import { defineRule, NO_TX, ownMigration, type RawFinding } from './rule.js';
import { indexWork } from './statements.js';

export const indexWithoutConcurrently = defineRule({
  id: 'index-without-concurrently',
  severity: 'error',
  on: ['IndexStmt', 'ReindexStmt', 'DropStmt'],
  firesOn: 'CREATE INDEX, DROP INDEX or REINDEX without CONCURRENTLY on an existing table',
  why: 'builds, rebuilds or drops the index under a lock that blocks the table until it is done: CREATE INDEX takes SHARE (writes wait); REINDEX takes SHARE on the table and ACCESS EXCLUSIVE on the index, and DROP INDEX ACCESS EXCLUSIVE on both (reads wait too)',
  fix: 'Use CREATE INDEX CONCURRENTLY (or DROP INDEX / REINDEX ... CONCURRENTLY) alone in a migration whose first line is -- todo-db: no-transaction',
  check: (statement, context) =>
    indexWork(statement, context).flatMap((work): RawFinding[] => {
      if (work.concurrent) return [];
      // down.sql runs in a transaction, where CONCURRENTLY is impossible: undoing the migration's index is expected.
      if (work.dropped && context.undoes.has(`index:${work.dropped}`))
        return [{ severity: 'warning', message: `${work.what} (undoing its migration; down.sql runs in a transaction, so it cannot be CONCURRENTLY)` }];
      // An index of this run serves no deployed query, and dropping one scans nothing.
      if ((work.dropped && isNewObject(context, `index:${work.dropped}`)) || isNewTable(context, work.table)) return [];
      const sql = withConcurrently(statement.sql);
      return [{ message: `${work.what} without CONCURRENTLY blocks ${work.blocks} ${work.table ?? 'the table'} while it runs`, sql: sql && ownMigration(sql) }];
    }),
  examples: [
    { unsafe: 'create index tasks_title_idx on tasks (title);', safe: `${NO_TX}create index concurrently tasks_title_idx on tasks (title);` },
    { unsafe: 'drop index tasks_status_idx;', safe: `${NO_TX}drop index concurrently tasks_status_idx;` },
    { unsafe: 'reindex index tasks_status_idx;', safe: `${NO_TX}reindex index concurrently tasks_status_idx;` },
    { unsafe: 'create index notes_idx on notes (body);', safe: 'create table notes (body text);\ncreate index notes_idx on notes (body);' },
  ],
});

/** CREATE [UNIQUE] INDEX, DROP INDEX or REINDEX with CONCURRENTLY where PostgreSQL's grammar wants it. */
function withConcurrently(sql: string): string | undefined {
  const rewritten = sql.replace(
    /^(create\s+(?:unique\s+)?index|drop\s+index|reindex\s+(?:\([^)]*\)\s*)?(?:index|table|schema|database))\b/i,
    '$1 CONCURRENTLY',
  );
  return rewritten === sql ? undefined : rewritten;
}
