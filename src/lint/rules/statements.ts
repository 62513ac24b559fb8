import type { ParsedStatement } from '../../sql/parser.js';
import { type ColumnDefinition, columnDefinition, constraintType, findAll, type Node, names, qualifiedName, relationName, unwrap } from '../ast.js';
import { isNewObject, isNewTable, type StatementContext } from '../context.js';
import { alterCommands, droppedNames, hasFilter, indexTable, isConcurrentReindex } from '../lock-plans.js';

/** Readers several rules share, over the statements they look at. */

export interface TableCommand {
  table: string;
  command: Node;
  /** The column (or constraint) the subcommand names. */
  name: string;
}

/** ALTER TABLE's subcommands of one kind, on a table that existed before this run (a new one is empty and unused). */
export function commandsOn({ node }: ParsedStatement, context: StatementContext, subtype: string): TableCommand[] {
  const table = relationName(node.relation) ?? '';
  if (isNewTable(context, table)) return [];
  return alterCommands(node).flatMap((command) => (command.subtype === subtype ? [{ table, command, name: String(command.name ?? '') }] : []));
}

/** ADD COLUMN on an existing table, with the column it defines. */
export function addedColumns(statement: ParsedStatement, context: StatementContext): Array<TableCommand & { column: ColumnDefinition }> {
  return commandsOn(statement, context, 'AT_AddColumn').flatMap((added) => {
    const column = columnDefinition(added.command.def);
    return column ? [{ ...added, column }] : [];
  });
}

export interface AddedConstraint {
  table: string;
  constraint: Node;
  /** `CHECK`, `FOREIGN`, `UNIQUE`, `PRIMARY`, ... */
  type: string;
  conname: string | undefined;
}

/** ADD CONSTRAINT of one of these types on an existing table. */
export function addedConstraints(statement: ParsedStatement, context: StatementContext, types: readonly string[]): AddedConstraint[] {
  return commandsOn(statement, context, 'AT_AddConstraint').flatMap(({ table, command }) => {
    const constraint = unwrap(command.def)?.[1] ?? {};
    const type = constraintType(constraint);
    return types.includes(type) ? [{ table, constraint, type, conname: constraint.conname ? String(constraint.conname) : undefined }] : [];
  });
}

export interface IndexWork {
  /** How a message names it: `CREATE INDEX on t`, `REINDEX of i`, `DROP INDEX i`. */
  what: string;
  concurrent: boolean;
  /** The table whose reads or writes wait, where known. */
  table: string | undefined;
  /** CREATE INDEX blocks writes; REINDEX (ACCESS EXCLUSIVE on the index) and DROP INDEX block reads too. */
  blocks: 'writes to' | 'reads and writes of';
  /** The index a DROP INDEX drops. */
  dropped?: string;
}

/** CREATE INDEX, REINDEX and DROP INDEX: one entry per index built, rebuilt or dropped. */
export function indexWork({ kind, node }: ParsedStatement, context: StatementContext): IndexWork[] {
  if (kind === 'IndexStmt') {
    const table = relationName(node.relation);
    return [{ what: `CREATE INDEX on ${table}`, concurrent: Boolean(node.concurrent), table, blocks: 'writes to' }];
  }
  if (kind === 'ReindexStmt') {
    const name = relationName(node.relation);
    const table = node.kind === 'REINDEX_OBJECT_INDEX' ? name && indexTable(context, name) : name;
    return [{ what: `REINDEX of ${name ?? 'the database'}`, concurrent: isConcurrentReindex(node), table, blocks: 'reads and writes of' }];
  }
  if (kind !== 'DropStmt' || node.removeType !== 'OBJECT_INDEX') return [];
  return droppedNames(node).map((index) => ({
    what: `DROP INDEX ${index}`,
    concurrent: Boolean(node.concurrent),
    table: indexTable(context, index),
    blocks: 'reads and writes of',
    dropped: index,
  }));
}

export interface UnfilteredChange {
  table: string;
  change: Node;
  /** How a message says its WHERE. */
  where: string;
}

/**
 * UPDATE or DELETE of an existing table with no WHERE (or one that is always true), on its own or inside a WITH.
 * USING and FROM join other tables but filter nothing without a WHERE.
 */
export function unfilteredChanges({ kind, node }: ParsedStatement, context: StatementContext, verb: 'UpdateStmt' | 'DeleteStmt'): UnfilteredChange[] {
  return [...(kind === verb ? [node] : []), ...findAll(node, verb)].flatMap((change) => {
    const table = relationName(change.relation) ?? '';
    if (hasFilter(change.whereClause) || isNewTable(context, table)) return [];
    return [{ table, change, where: change.whereClause ? 'a WHERE that is always true' : 'no WHERE' }];
  });
}

export interface DefinedColumn {
  /** `table.column`, as messages name it. */
  where: string;
  column: ColumnDefinition;
  primary: boolean;
}

/** The columns a CREATE TABLE or ALTER TABLE defines, for the style rules. */
export function definedColumns({ kind, node }: ParsedStatement): DefinedColumn[] {
  const table = relationName(node.relation) ?? '';
  const columns =
    kind === 'CreateStmt'
      ? ((node.tableElts as unknown[]) ?? []).flatMap((element) => columnDefinition(element) ?? [])
      : alterCommands(node).flatMap((command) => columnDefinition(command.def) ?? []);
  const tablePrimaryKey = findAll(node.tableElts, 'Constraint').find((constraint) => constraintType(constraint) === 'PRIMARY');
  const primaryKeyColumns = tablePrimaryKey ? names(tablePrimaryKey.keys) : [];
  return columns.map((column) => ({
    where: `${table}.${column.name}`,
    column,
    primary: primaryKeyColumns.includes(column.name) || column.constraints.some((constraint) => constraintType(constraint) === 'PRIMARY'),
  }));
}

export const TABLE_DEFINITIONS = ['CreateStmt', 'AlterTableStmt'] as const;

/** The enum an ALTER TYPE ... VALUE changes, unless this run made it: no deployed code writes its labels, and its order is still being decided. */
export function existingEnum(node: Node, context: StatementContext): string | undefined {
  const type = qualifiedName(names(node.typeName));
  return isNewObject(context, `type:${type}`) ? undefined : type;
}
