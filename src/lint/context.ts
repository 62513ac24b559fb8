import type { ParsedStatement } from '../sql/parser.js';
import type { LiveFacts } from './live.js';
import type { LockLevel } from './lock-levels.js';

/**
 * What the lint knows while it walks a migration's statements in order: what this migration (or an earlier
 * pending one) created, under the names renames gave it since, so that work on a new object (an empty table,
 * a column or index nothing uses yet) is not reported as blocking anyone or breaking deployed code.
 */
export interface LintState {
  /** Tables created in this migration, or in an earlier pending migration of the same run. */
  newTables: Set<string>;
  /** Objects this migration.sql created (`table:t`, `type:x`, `schema:s`, `column:t.c`, `index:i`, `notnull:t.c`): down.sql is expected to drop them. */
  created: Set<string>;
  /** The same keys for what an earlier pending migration of the same run created. */
  inherited: Set<string>;
  /** Indexes created so far (in this run), to their tables. */
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

/**
 * What a run's earlier pending migrations created, handed from one migration's state to the next. The state
 * works on these very sets (no copy per migration: a run of a thousand migrations stays linear).
 */
export interface NewObjects {
  tables: Set<string>;
  objects: Set<string>;
  indexTables: Map<string, string>;
}

export const nothingNew = (): NewObjects => ({ tables: new Set(), objects: new Set(), indexTables: new Map() });

export function emptyState(before: NewObjects = nothingNew()): LintState {
  return {
    newTables: before.tables,
    created: new Set(),
    inherited: before.objects,
    indexTables: before.indexTables,
    notValid: new Set(),
    notNullCheckNames: new Map(),
    notNullChecked: new Set(),
    enumLabels: new Set(),
    heldLocks: new Map(),
  };
}

/** After a pending migration: everything new before it and everything it created, as renamed by it. */
export function newObjectsAfter(state: LintState): NewObjects {
  for (const key of state.created) state.inherited.add(key);
  return { tables: state.newTables, objects: state.inherited, indexTables: state.indexTables };
}

export type LintFile = 'migration.sql' | 'down.sql';

/** Where a finding stands. */
export interface StatementAt {
  migration: string;
  file: LintFile;
  /** file:line:column, relative to the working directory when inside it. */
  location: string;
  line: number;
  column: number;
  /** The statement's first line. */
  statement: string;
}

export interface StatementContext {
  file: LintFile;
  transactional: boolean;
  state: LintState;
  live?: LiveFacts;
  /** Existing tables that get DDL somewhere in this file. */
  ddlTables: Set<string>;
  /** In down.sql: what its migration.sql created. */
  undoes: Set<string>;
  /** The BEGIN and COMMIT lines of Prisma's blocks, which the engine folds into the file's transaction. */
  prismaBlocks: ReadonlySet<ParsedStatement>;
}

export const isNewTable = (context: StatementContext, table: string | undefined): boolean => table !== undefined && context.state.newTables.has(table);

/** Created in this run (this migration or an earlier pending one): a `created` key, e.g. `index:i`, `column:t.c`. */
export const isNewObject = (context: StatementContext, key: string): boolean => context.state.created.has(key) || context.state.inherited.has(key);

/** A column of a new table, or one a migration of this run added to an existing table. */
export const isNewColumn = (context: StatementContext, table: string, column: string): boolean =>
  isNewTable(context, table) || isNewObject(context, `column:${table}.${column}`);
