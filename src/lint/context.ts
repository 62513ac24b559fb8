import type { LiveFacts } from './live.js';
import type { LockLevel } from './locks.js';

/**
 * What the lint knows while it walks a migration's statements in order: what this migration (or an earlier
 * pending one) created, so that work on a new, empty table is not reported as blocking anyone.
 */
export interface LintState {
  /** Tables created in this migration, or in an earlier pending migration of the same run. */
  newTables: Set<string>;
  /** Objects this migration.sql created (`table:t`, `type:x`, `schema:s`, `column:t.c`, `index:i`, `notnull:t.c`): down.sql is expected to drop them. */
  created: Set<string>;
  /** Indexes created so far, to their tables. */
  indexTables: Map<string, string>;
  /** `table.constraint` added NOT VALID in this migration. */
  notValid: Set<string>;
  /** `table.constraint` of CHECK (c IS NOT NULL), to `table.c`. */
  notNullCheckNames: Map<string, string>;
  /** `table.c` with a validated CHECK (c IS NOT NULL). */
  notNullChecked: Set<string>;
  /** Labels added with ADD VALUE in this transaction. */
  enumLabels: Set<string>;
  /** The strongest lock taken so far on each table: a transaction keeps every lock until it commits. */
  heldLocks: Map<string, LockLevel>;
}

export function emptyState(newTables: Set<string> = new Set()): LintState {
  return { newTables, created: new Set(), indexTables: new Map(), notValid: new Set(), notNullCheckNames: new Map(), notNullChecked: new Set(), enumLabels: new Set(), heldLocks: new Map() };
}

export type LintFile = 'migration.sql' | 'down.sql';

export interface StatementContext {
  file: LintFile;
  transactional: boolean;
  state: LintState;
  live?: LiveFacts;
  /** Existing tables that get DDL somewhere in this file. */
  ddlTables: Set<string>;
  /** In down.sql: what its migration.sql created. */
  undoes: Set<string>;
}

export const isNewTable = (context: StatementContext, table: string | undefined): boolean => table !== undefined && context.state.newTables.has(table);
