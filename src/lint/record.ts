import type { ParsedStatement } from '../sql/parser.js';
import { columnDefinition, constraintType, type Node, names, qualifiedName, relationName, unwrap } from './ast.js';
import type { LintState } from './context.js';
import { alterCommands } from './lock-plans.js';

/**
 * What a statement leaves behind for the statements after it: the walk records each statement after the rules
 * have checked it (they see what the statements before it left), and before its lock plan is read.
 */

export function record({ kind, node }: ParsedStatement, state: LintState): void {
  const table = relationName(node.relation) ?? '';
  if (kind === 'CreateStmt') {
    state.newTables.add(table);
    state.created.add(`table:${table}`);
  } else if (kind === 'IndexStmt') {
    if (node.idxname) state.indexTables.set(String(node.idxname), table);
    state.created.add(`index:${String(node.idxname)}`);
  } else if (kind === 'CreateEnumStmt' || kind === 'CreateDomainStmt') {
    state.created.add(`type:${qualifiedName(names(node.typeName ?? node.domainname))}`);
  } else if (kind === 'CompositeTypeStmt') {
    state.created.add(`type:${relationName(node.typevar)}`);
  } else if (kind === 'CreateSchemaStmt') {
    state.created.add(`schema:${String(node.schemaname)}`);
  } else if (kind === 'AlterEnumStmt' && node.oldVal === undefined) {
    state.enumLabels.add(String(node.newVal));
  } else if (kind === 'AlterTableStmt') {
    for (const command of alterCommands(node)) recordAlter(table, command, state);
  } else if (kind === 'RenameStmt') {
    recordRename(node, state);
  }
}

/** A renamed object of this run stays new under its new name; a renamed table takes its columns and indexes along. */
function recordRename(node: Node, state: LintState): void {
  const newName = String(node.newname);
  const relation = relationName(node.relation) ?? '';
  const sibling = (name: string) => (relation.includes('.') ? `${relation.split('.')[0]}.${name}` : name);
  switch (node.renameType) {
    case 'OBJECT_TABLE':
      renameTable(state, relation, sibling(newName));
      return;
    case 'OBJECT_COLUMN':
      for (const prefix of ['column', 'notnull']) renameKey(state, `${prefix}:${relation}.${String(node.subname)}`, `${prefix}:${relation}.${newName}`);
      return;
    case 'OBJECT_INDEX': {
      const table = state.indexTables.get(relation);
      renameKey(state, `index:${relation}`, `index:${sibling(newName)}`);
      if (table === undefined) return;
      state.indexTables.delete(relation);
      state.indexTables.set(sibling(newName), table);
      return;
    }
    case 'OBJECT_TYPE':
    case 'OBJECT_DOMAIN': {
      const parts = names(unwrap(node.object)?.[1].items);
      renameKey(state, `type:${qualifiedName(parts)}`, `type:${qualifiedName([...parts.slice(0, -1), newName])}`);
      return;
    }
    default:
  }
}

function renameTable(state: LintState, from: string, to: string): void {
  const held = state.heldLocks.get(from);
  if (held) state.heldLocks.set(to, held);
  if (!state.newTables.delete(from)) return;
  state.newTables.add(to);
  for (const keys of [state.created, state.inherited]) {
    for (const key of [...keys]) {
      const [kind, name] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
      if (kind === 'table' && name === from) renameKey(state, key, `table:${to}`);
      else if ((kind === 'column' || kind === 'notnull') && name.startsWith(`${from}.`)) renameKey(state, key, `${kind}:${to}${name.slice(from.length)}`);
    }
  }
  for (const [index, table] of state.indexTables) if (table === from) state.indexTables.set(index, to);
}

/** Moves a key of this run's objects (in this migration's or the earlier ones' set) to its new name. */
function renameKey(state: LintState, from: string, to: string): void {
  for (const keys of [state.created, state.inherited]) if (keys.delete(from)) keys.add(to);
}

function recordAlter(table: string, command: Node, state: LintState): void {
  const name = String(command.name ?? '');
  if (command.subtype === 'AT_AddColumn') state.created.add(`column:${table}.${columnDefinition(command.def)?.name}`);
  if (command.subtype === 'AT_SetNotNull') state.created.add(`notnull:${table}.${name}`);
  if (command.subtype === 'AT_ValidateConstraint') {
    const column = state.notNullCheckNames.get(`${table}.${name}`);
    if (column) state.notNullChecked.add(column);
  }
  if (command.subtype !== 'AT_AddConstraint') return;
  const constraint = unwrap(command.def)?.[1] ?? {};
  const conname = String(constraint.conname ?? '');
  if (constraint.skip_validation) state.notValid.add(`${table}.${conname}`);
  const column = isNotNullCheck(constraint);
  if (column) {
    state.notNullCheckNames.set(`${table}.${conname}`, `${table}.${column}`);
    if (!constraint.skip_validation) state.notNullChecked.add(`${table}.${column}`);
  }
}

/** `CHECK (c IS NOT NULL)`: the column, or undefined. */
function isNotNullCheck(constraint: Node): string | undefined {
  if (constraintType(constraint) !== 'CHECK') return undefined;
  const test = unwrap(constraint.raw_expr);
  if (test?.[0] !== 'NullTest' || test[1].nulltesttype !== 'IS_NOT_NULL') return undefined;
  const column = unwrap(test[1].arg);
  return column?.[0] === 'ColumnRef' ? names(column[1].fields).at(-1) : undefined;
}

/** Existing tables a file changes the definition of (for data-change-with-ddl). */
export function ddlTables(statements: ParsedStatement[]): Set<string> {
  const kinds = new Set(['AlterTableStmt', 'IndexStmt', 'RenameStmt', 'CreateTrigStmt']);
  return new Set(statements.filter((statement) => kinds.has(statement.kind)).flatMap((statement) => relationName(statement.node.relation) ?? []));
}
