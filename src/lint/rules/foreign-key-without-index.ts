import type { ParsedStatement } from '../../sql/parser.js';
import { columnDefinition, constraintType, type Node, names, relationName, unwrap } from '../ast.js';
import type { StatementContext } from '../context.js';
import type { LiveFacts } from '../live.js';
import { alterCommands } from '../lock-plans.js';
import { defineRule, type Place, type RawFinding, type RunCheck } from './rule.js';

export const foreignKeyWithoutIndex = defineRule({
  id: 'foreign-key-without-index',
  severity: 'warning',
  on: ['CreateStmt', 'AlterTableStmt', 'IndexStmt'],
  style: true,
  firesOn: 'a foreign key whose columns lead no index (in the linted migrations or live)',
  why: 'without an index on the referencing columns every DELETE or key UPDATE on the referenced table scans this table',
  fix: 'CREATE INDEX CONCURRENTLY t_c_idx ON t (c) (no-transaction migration; plain CREATE INDEX on a new table)',
  // After every statement of the run: an index created later in the migration, or existing live, serves the key too.
  startRun: () => new UnindexedForeignKeys(),
  examples: [
    {
      unsafe: 'create table notes (id bigint generated always as identity primary key, task_id uuid references tasks (id));',
      safe: 'create table notes (id bigint generated always as identity primary key, task_id uuid references tasks (id));\ncreate index notes_task_id_idx on notes (task_id);',
    },
  ],
});

interface KeyColumns {
  table: string;
  columns: string[];
}

interface PendingKey extends KeyColumns {
  place: Place;
  /** Its migration is pending, so the live indexes count (an applied one is judged statically). */
  judgedLive: boolean;
}

/** The keys and indexes of every migration.sql of the run (down.sql's come and go with the migration). */
class UnindexedForeignKeys implements RunCheck {
  private readonly keys: PendingKey[] = [];
  private readonly indexes: KeyColumns[] = [];
  /** Tables whose every index the run knows: created in the linted files (or else read live). */
  private readonly knownTables = new Set<string>();
  private live: LiveFacts | undefined;

  see(statement: ParsedStatement, context: StatementContext, place: Place): void {
    if (context.file !== 'migration.sql') return;
    this.live ??= context.live;
    if (statement.kind === 'CreateStmt') this.knownTables.add(relationName(statement.node.relation) ?? '');
    this.indexes.push(...indexesOf(statement));
    this.keys.push(...foreignKeysOf(statement).map((key) => ({ ...key, place, judgedLive: context.live !== undefined })));
  }

  finish(): Array<{ place: Place; finding: RawFinding }> {
    const liveIndexes = [...(this.live?.tables.values() ?? [])].flatMap((table) => table.indexes.map((columns) => ({ table: table.name, columns })));
    // By table, so each key is compared with its own table's indexes only, not with every index of the run.
    const ownByTable = byTable(this.indexes);
    const liveByTable = byTable(liveIndexes);
    return this.keys.flatMap((key) => {
      // Offline, an existing table's indexes are unknown: no guess.
      const live = key.judgedLive ? this.live : undefined;
      if (!this.knownTables.has(key.table) && !live?.tables.has(key.table)) return [];
      if (servedBy(key, [...(ownByTable.get(key.table) ?? []), ...(live ? (liveByTable.get(key.table) ?? []) : [])])) return [];
      return [{ place: key.place, finding: { message: `no index has ${key.table} (${key.columns.join(', ')}) as its leading columns` } }];
    });
  }
}

function foreignKeysOf({ kind, node }: ParsedStatement): KeyColumns[] {
  const table = relationName(node.relation) ?? '';
  if (kind === 'CreateStmt') {
    return ((node.tableElts as unknown[]) ?? []).flatMap((element) => {
      const column = columnDefinition(element);
      if (column) return column.constraints.filter((constraint) => constraintType(constraint) === 'FOREIGN').map(() => ({ table, columns: [column.name] }));
      const constraint = unwrap(element);
      return constraint?.[0] === 'Constraint' && constraintType(constraint[1]) === 'FOREIGN' ? [{ table, columns: names(constraint[1].fk_attrs) }] : [];
    });
  }
  if (kind !== 'AlterTableStmt') return [];
  return alterCommands(node).flatMap((command) => {
    const constraint = unwrap(command.def);
    if (command.subtype === 'AT_AddConstraint' && constraint && constraintType(constraint[1]) === 'FOREIGN')
      return [{ table, columns: names(constraint[1].fk_attrs) }];
    const column = command.subtype === 'AT_AddColumn' ? columnDefinition(command.def) : undefined;
    return column?.constraints.some((c) => constraintType(c) === 'FOREIGN') ? [{ table, columns: [column.name] }] : [];
  });
}

function indexesOf({ kind, node }: ParsedStatement): KeyColumns[] {
  const table = relationName(node.relation) ?? '';
  if (kind === 'IndexStmt') {
    return [{ table, columns: ((node.indexParams as unknown[]) ?? []).map((param) => String(unwrap(param)?.[1].name ?? '')) }];
  }
  const keyed = (constraint: Node) => ['PRIMARY', 'UNIQUE'].includes(constraintType(constraint));
  if (kind === 'CreateStmt') {
    return ((node.tableElts as unknown[]) ?? []).flatMap((element) => {
      const column = columnDefinition(element);
      if (column) return column.constraints.some(keyed) ? [{ table, columns: [column.name] }] : [];
      const constraint = unwrap(element);
      return constraint?.[0] === 'Constraint' && keyed(constraint[1]) ? [{ table, columns: names(constraint[1].keys) }] : [];
    });
  }
  if (kind !== 'AlterTableStmt') return [];
  return alterCommands(node).flatMap((command) => {
    const constraint = unwrap(command.def);
    return command.subtype === 'AT_AddConstraint' && constraint && keyed(constraint[1]) && !constraint[1].indexname
      ? [{ table, columns: names(constraint[1].keys) }]
      : [];
  });
}

function byTable(indexes: KeyColumns[]): Map<string, KeyColumns[]> {
  const grouped = new Map<string, KeyColumns[]>();
  for (const index of indexes) {
    const known = grouped.get(index.table);
    if (known) known.push(index);
    else grouped.set(index.table, [index]);
  }
  return grouped;
}

/** An index serves a foreign key when the key's columns are its leading columns, in any order. */
function servedBy(key: KeyColumns, indexes: KeyColumns[]): boolean {
  return indexes.some((index) => index.table === key.table && key.columns.every((column) => index.columns.slice(0, key.columns.length).includes(column)));
}
