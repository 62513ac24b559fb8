/**
 * Every rule `migrate lint` knows, with its id (used in allow comments and --json), default severity, why it is
 * dangerous and the safe way to write it. The README's rule table is this list.
 */
export type Severity = 'error' | 'warning';

export interface RuleInfo {
  severity: Severity;
  why: string;
  fix: string;
}

export const RULES = {
  'index-without-concurrently': {
    severity: 'error',
    why: 'builds, rebuilds or drops the index under a lock that blocks the table until it is done: CREATE INDEX takes SHARE (writes wait); REINDEX takes SHARE on the table and ACCESS EXCLUSIVE on the index, and DROP INDEX ACCESS EXCLUSIVE on both (reads wait too)',
    fix: 'Use CREATE INDEX CONCURRENTLY (or DROP INDEX / REINDEX ... CONCURRENTLY) alone in a migration whose first line is -- todo-db: no-transaction',
  },
  'concurrently-in-transaction': {
    severity: 'error',
    why: 'PostgreSQL refuses CONCURRENTLY inside a transaction block, and todo-db runs this migration in one',
    fix: 'Move the statement to its own migration whose first line is -- todo-db: no-transaction',
  },
  'add-column-not-null-without-default': {
    severity: 'error',
    why: 'fails on a table that has rows (they would hold NULL), and the deployed code does not write the column yet',
    fix: 'Give it a constant default: ADD COLUMN c type NOT NULL DEFAULT <constant> (no rewrite since PostgreSQL 11), or add it nullable, backfill, then add NOT NULL through a validated CHECK',
  },
  'add-column-rewrite': {
    severity: 'error',
    why: 'a volatile default, serial, identity or stored generated column makes PostgreSQL rewrite the whole table under ACCESS EXCLUSIVE',
    fix: 'Add the column without it, backfill in batches in later migrations, then set the default (ALTER COLUMN c SET DEFAULT ... affects new rows only)',
  },
  'set-not-null': {
    severity: 'error',
    why: 'SET NOT NULL scans the whole table under ACCESS EXCLUSIVE unless a validated CHECK (c IS NOT NULL) already proves it',
    fix: 'ADD CONSTRAINT t_c_not_null CHECK (c IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT t_c_not_null in a later migration; then SET NOT NULL (no scan) and DROP CONSTRAINT t_c_not_null',
  },
  'constraint-without-not-valid': {
    severity: 'error',
    why: 'adding a CHECK or FOREIGN KEY checks every existing row while holding a lock that blocks writes (ACCESS EXCLUSIVE for CHECK, SHARE ROW EXCLUSIVE on both tables for a foreign key)',
    fix: 'ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT ... in a later migration (SHARE UPDATE EXCLUSIVE: writes go on)',
  },
  'validate-in-same-migration': {
    severity: 'error',
    why: 'validating in the same transaction that added the constraint NOT VALID keeps the ADD\'s blocking lock for the whole validation, so NOT VALID gains nothing',
    fix: 'Move VALIDATE CONSTRAINT to a later migration',
  },
  'add-unique-constraint': {
    severity: 'error',
    why: 'ADD UNIQUE or PRIMARY KEY builds its index under ACCESS EXCLUSIVE: no reads or writes until it is built',
    fix: 'CREATE UNIQUE INDEX CONCURRENTLY t_c_key ON t (c) in a no-transaction migration, then ALTER TABLE t ADD CONSTRAINT t_c_key UNIQUE USING INDEX t_c_key',
  },
  'alter-column-type': {
    severity: 'error',
    why: 'changing a column type rewrites the table and its indexes under ACCESS EXCLUSIVE, and breaks the deployed code that reads the old type',
    fix: 'Add a column of the new type, write both from the app, backfill in batches, move reads, then drop the old column; widening varchar(n) or numeric precision needs no rewrite',
  },
  rename: {
    severity: 'error',
    why: 'the deployed code still uses the old name and fails as soon as the migration commits',
    fix: 'Expand and contract: add the new column (or a view with the new table name), write both, backfill, move reads, then drop the old one in a later release',
  },
  'drop-object': {
    severity: 'error',
    why: 'drops data for good, and the deployed code that still uses it fails',
    fix: 'Release code that no longer uses it first, then drop it in a later migration (with an allow comment saying so)',
  },
  'truncate-table': {
    severity: 'error',
    why: 'deletes every row for good, under ACCESS EXCLUSIVE',
    fix: 'Delete the rows that must go with a WHERE (in batches on a large table), or allow it with the reason the data may go',
  },
  'delete-without-where': {
    severity: 'error',
    why: 'deletes every row for good (USING joins other tables but filters nothing), and holds every row\'s lock until the migration commits, so writes to them wait',
    fix: 'Add the WHERE that picks the rows to delete (in batches on a large table), or allow it with the reason the data may go',
  },
  'update-without-where': {
    severity: 'error',
    why: 'overwrites every row, losing what it held (FROM joins other tables but filters nothing), and holds every row\'s lock until the migration commits, so writes to them wait',
    fix: 'Add the WHERE that picks the rows to change (in batches on a large table: WHERE id BETWEEN ...), or allow it with the reason',
  },
  'drop-not-null': {
    severity: 'error',
    why: 'the deployed code may not expect NULL in this column',
    fix: 'Release code that handles NULL first; then allow it with a reason',
  },
  'enum-rename-value': {
    severity: 'error',
    why: 'the deployed code still writes and compares the old label',
    fix: 'ADD VALUE the new label, move the rows to it, release code that uses it, and stop using the old one',
  },
  'enum-add-value-unordered': {
    severity: 'warning',
    why: 'without BEFORE or AFTER the label goes last, which decides how the enum sorts and compares',
    fix: "ALTER TYPE t ADD VALUE 'x' BEFORE 'y' (or AFTER 'y')",
  },
  'enum-value-used-in-transaction': {
    severity: 'error',
    why: 'PostgreSQL refuses a label added with ADD VALUE until that transaction commits, and this migration is one transaction',
    fix: 'Use the new label in a later migration',
  },
  'transaction-control': {
    severity: 'error',
    why: 'todo-db runs each migration in its own transaction together with its history row; this would end it or run outside it',
    fix: 'Remove it; for statements that cannot run in a transaction, start the file with -- todo-db: no-transaction',
  },
  'data-change-with-ddl': {
    severity: 'error',
    why: 'an UPDATE, DELETE or INSERT ... SELECT in the same transaction as DDL on the table holds the DDL\'s lock while every row is changed',
    fix: 'Move the data change to a migration of its own (and batch it on a large table)',
  },
  'foreign-key-without-index': {
    severity: 'warning',
    why: 'without an index on the referencing columns every DELETE or key UPDATE on the referenced table scans this table',
    fix: 'CREATE INDEX CONCURRENTLY t_c_idx ON t (c) (no-transaction migration; plain CREATE INDEX on a new table)',
  },
  'identifier-too-long': {
    severity: 'warning',
    why: 'PostgreSQL silently truncates identifiers to 63 bytes, so the object gets another name than the one written',
    fix: 'Use a name of at most 63 bytes',
  },
  'timestamp-without-time-zone': {
    severity: 'warning',
    why: 'timestamp without time zone stores wall-clock time with no zone, so the same instant reads differently per client',
    fix: 'Use timestamptz',
  },
  'json-instead-of-jsonb': {
    severity: 'warning',
    why: 'json stores text, re-parses on every access and cannot be indexed or compared',
    fix: 'Use jsonb',
  },
  'serial-instead-of-identity': {
    severity: 'warning',
    why: 'serial makes a sequence with separate ownership and grants; identity columns are the SQL standard and follow the table',
    fix: 'Use bigint GENERATED ALWAYS AS IDENTITY',
  },
  'int-primary-key': {
    severity: 'warning',
    why: 'an integer key runs out at 2 147 483 647 rows, and widening it later rewrites the table',
    fix: 'Use bigint (GENERATED ALWAYS AS IDENTITY) or uuid',
  },
  'large-table-lock': {
    severity: 'error',
    why: 'rewrites or scans a large table while holding a lock that blocks writes',
    fix: 'Split the change so that the long part runs under a weaker lock (NOT VALID then VALIDATE, CONCURRENTLY, a new column and a backfill)',
  },
  'unknown-lock-plan': {
    severity: 'warning',
    why: 'the lint knows no lock plan for this statement, so nobody has checked which tables it locks, rewrites or scans',
    fix: 'Check its locks by hand (run it in a transaction on a copy and read pg_locks), then allow it with what you found as the reason',
  },
  'syntax-error': {
    severity: 'error',
    why: 'PostgreSQL refuses the file',
    fix: 'Fix the SQL at the position shown',
  },
  'allow-comment-invalid': {
    severity: 'error',
    why: 'an allow comment needs a known rule id and a reason: -- todo-db-lint: allow <rule> -- <reason>',
    fix: 'Write -- todo-db-lint: allow <rule> -- <why it is safe here>, with a rule id from todo-db migrate lint\'s list',
  },
} as const satisfies Record<string, RuleInfo>;

export type RuleId = keyof typeof RULES;

export function isRuleId(id: string): id is RuleId {
  return Object.hasOwn(RULES, id);
}

/** Warnings about style only: never escalated by the lock analysis. */
export const STYLE_RULES: ReadonlySet<RuleId> = new Set(['identifier-too-long', 'timestamp-without-time-zone', 'json-instead-of-jsonb', 'serial-instead-of-identity', 'int-primary-key', 'foreign-key-without-index', 'enum-add-value-unordered']);
