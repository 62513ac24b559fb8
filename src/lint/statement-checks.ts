import { NO_TRANSACTION_HEADER } from '../migrations/folder.js';
import type { ParsedStatement } from '../sql/parser.js';
import { columnDefinition, constraintType, findAll, names, qualifiedName, relationName, typeRef, unwrap, type ColumnDefinition, type Node } from './ast.js';
import type { RuleId, Severity } from './rules/index.js';
import { isNewColumn, isNewObject, isNewTable, type LintState, type StatementContext } from './context.js';
import { addColumnRewrite, alterCommands, describeType, droppedNames, hasFilter, indexTable, isConcurrentReindex, notNullProven, SERIAL_TYPES, typeChange } from './lock-plans.js';
import { mayBeWidening } from './types.js';

/**
 * The static rules: pure functions from one parsed statement (and what the walk knows so far) to findings.
 * `record` then adds what the statement created to the walk's state.
 */
export interface RawFinding {
  rule: RuleId;
  message: string;
  /** Only where it differs from the rule's own (a drop that down.sql is expected to make). */
  severity?: Severity;
  /** Only where this case differs from the rule's usual one. */
  why?: string;
  fix?: string;
  /** The safe SQL for this very statement, where one can be written. */
  sql?: string;
}

type Check = (node: Node, context: StatementContext, statement: ParsedStatement) => RawFinding[];

const CHECKS: Record<string, Check> = {
  IndexStmt: (node, context, statement) => {
    const table = relationName(node.relation);
    return concurrency(Boolean(node.concurrent), table, `CREATE INDEX on ${table}`, context, statement);
  },
  ReindexStmt: (node, context, statement) => {
    const name = relationName(node.relation);
    const table = node.kind === 'REINDEX_OBJECT_INDEX' ? name && indexTable(context, name) : name;
    return concurrency(isConcurrentReindex(node), table, `REINDEX of ${name ?? 'the database'}`, context, statement, 'reads and writes of');
  },
  DropStmt: (node, context, statement) => dropChecks(node, context, statement),
  AlterTableStmt: (node, context, statement) => {
    const table = relationName(node.relation) ?? '';
    if (isNewTable(context, table)) return [];
    const commands = alterCommands(node);
    return commands.flatMap((command) => alterCommandChecks(table, command, context, statement, commands.length === 1));
  },
  RenameStmt: (node, context) => {
    const table = relationName(node.relation);
    if (isNewTable(context, table)) return [];
    if (node.renameType === 'OBJECT_COLUMN' && isNewColumn(context, table ?? '', String(node.subname))) return [];
    if (node.renameType === 'OBJECT_COLUMN') return [{ rule: 'rename', message: `renames column ${table}.${node.subname} to ${node.newname}` }];
    if (node.renameType === 'OBJECT_TABLE') return [{ rule: 'rename', message: `renames table ${table} to ${node.newname}` }];
    return [];
  },
  AlterEnumStmt: (node, context) => {
    const type = qualifiedName(names(node.typeName));
    // A type of this run: no deployed code writes its labels, and its order is still being decided.
    if (isNewObject(context, `type:${type}`)) return [];
    if (node.oldVal !== undefined) return [{ rule: 'enum-rename-value', message: `renames label '${node.oldVal}' of ${type} to '${node.newVal}'` }];
    return node.newValNeighbor === undefined ? [{ rule: 'enum-add-value-unordered', message: `adds label '${node.newVal}' to ${type} at the end` }] : [];
  },
  TransactionStmt: (node, context, statement) => {
    const kind = String(node.kind).replace(/^TRANS_STMT_/, '');
    // Prisma's block: told once, at its BEGIN.
    if (context.prismaBlocks.has(statement)) return kind === 'COMMIT' ? [] : [{ rule: 'prisma-transaction-block', message: "BEGIN; ... COMMIT;, as Prisma generates it, is folded into the migration's own transaction" }];
    // Savepoints nest inside the migration's transaction; they only fail where there is none.
    if (context.transactional && ['SAVEPOINT', 'RELEASE', 'ROLLBACK_TO'].includes(kind)) return [];
    return [{ rule: 'transaction-control', message: `${kind.replace(/_/g, ' ')}${node.chain ? ' AND CHAIN' : ''} is transaction control` }];
  },
  UpdateStmt: (node, context) => dataChange('UPDATE', node, context),
  DeleteStmt: (node, context) => dataChange('DELETE', node, context),
  InsertStmt: (node, context) => {
    const select = unwrap(node.selectStmt)?.[1];
    return select && !select.valuesLists ? dataChange('INSERT ... SELECT', node, context) : [];
  },
};

export function staticFindings(statement: ParsedStatement, context: StatementContext): RawFinding[] {
  return [...(CHECKS[statement.kind]?.(statement.node, context, statement) ?? []), ...dataLoss(statement, context), ...enumLabelUse(statement, context), ...styleFindings(statement)];
}

/**
 * TRUNCATE, and UPDATE or DELETE with no WHERE (or one that is always true), wherever they are: on their own or
 * inside a WITH. USING and FROM join other tables but filter nothing without a WHERE.
 */
function dataLoss({ kind, node }: ParsedStatement, context: StatementContext): RawFinding[] {
  if (kind === 'TruncateStmt') {
    return ((node.relations as unknown[]) ?? []).flatMap((relation) => {
      const table = relationName(unwrap(relation)?.[1]) ?? '';
      return isNewTable(context, table) ? [] : [{ rule: 'truncate-table' as const, message: `TRUNCATE ${table} deletes every row` }];
    });
  }
  const top = kind === 'UpdateStmt' || kind === 'DeleteStmt' ? [{ verb: kind, change: node }] : [];
  const nested = ['UpdateStmt', 'DeleteStmt'].flatMap((verb) => findAll(node, verb).map((change) => ({ verb, change })));
  return [...top, ...nested].flatMap(({ verb, change }): RawFinding[] => {
    const table = relationName(change.relation) ?? '';
    if (hasFilter(change.whereClause) || isNewTable(context, table)) return [];
    const joined = verb === 'DeleteStmt' ? (change.usingClause ? ' ... USING' : '') : change.fromClause ? ' ... FROM' : '';
    const what = change.whereClause ? 'a WHERE that is always true' : 'no WHERE';
    return verb === 'DeleteStmt'
      ? [{ rule: 'delete-without-where' as const, message: `DELETE FROM ${table}${joined} with ${what} deletes every row${joined ? ' that joins' : ''}` }]
      : [{ rule: 'update-without-where' as const, message: `UPDATE ${table}${joined} with ${what} overwrites every row${joined ? ' that joins' : ''}` }];
  });
}

/** `blocked`: CREATE INDEX blocks writes; REINDEX (ACCESS EXCLUSIVE on the index) and DROP INDEX block reads too. */
function concurrency(concurrent: boolean, table: string | undefined, what: string, context: StatementContext, statement: ParsedStatement, blocked = 'writes to'): RawFinding[] {
  if (concurrent) {
    if (!context.transactional) return [];
    return [{ rule: 'concurrently-in-transaction', message: `${what} uses CONCURRENTLY in a migration that runs in a transaction`, sql: ownMigration(statement.sql) }];
  }
  if (isNewTable(context, table)) return [];
  const sql = withConcurrently(statement.sql);
  return [{ rule: 'index-without-concurrently', message: `${what} without CONCURRENTLY blocks ${blocked} ${table ?? 'the table'} while it runs`, sql: sql && ownMigration(sql) }];
}

/** The statement as the first statement of a no-transaction migration of its own. */
const ownMigration = (sql: string) => `${NO_TRANSACTION_HEADER}\n${sql};`;

/** CREATE [UNIQUE] INDEX, DROP INDEX or REINDEX with CONCURRENTLY where PostgreSQL's grammar wants it. */
function withConcurrently(sql: string): string | undefined {
  const rewritten = sql.replace(/^(create\s+(?:unique\s+)?index|drop\s+index|reindex\s+(?:\([^)]*\)\s*)?(?:index|table|schema|database))\b/i, '$1 CONCURRENTLY');
  return rewritten === sql ? undefined : rewritten;
}

const DROPPED_KINDS: Record<string, string> = { OBJECT_TABLE: 'table', OBJECT_TYPE: 'type', OBJECT_SCHEMA: 'schema', OBJECT_DOMAIN: 'type', OBJECT_VIEW: 'view', OBJECT_MATVIEW: 'view' };

function dropChecks(node: Node, context: StatementContext, statement: ParsedStatement): RawFinding[] {
  const objects = droppedNames(node);
  if (node.removeType === 'OBJECT_INDEX') {
    return objects.flatMap((index) => {
      // down.sql runs in a transaction, where CONCURRENTLY is impossible: undoing the migration's index is expected.
      if (context.undoes.has(`index:${index}`)) return node.concurrent ? concurrency(true, undefined, `DROP INDEX ${index}`, context, statement) : [{ rule: 'index-without-concurrently' as const, severity: 'warning' as const, message: `DROP INDEX ${index} (undoing its migration; down.sql runs in a transaction, so it cannot be CONCURRENTLY)` }];
      // An index of this run serves no deployed query, and dropping one scans nothing.
      if (isNewObject(context, `index:${index}`)) return node.concurrent ? concurrency(true, undefined, `DROP INDEX ${index}`, context, statement) : [];
      return concurrency(Boolean(node.concurrent), indexTable(context, index), `DROP INDEX ${index}`, context, statement, 'reads and writes of');
    });
  }
  const kind = DROPPED_KINDS[String(node.removeType)];
  if (!kind || kind === 'view') return [];
  return objects.flatMap((name) => dropped(`${kind}:${name}`, `drops ${kind} ${name}${node.behavior === 'DROP_CASCADE' ? ' with CASCADE' : ''}`, context));
}

/** A drop of what this migration created is no finding; in down.sql, of what its migration.sql created, a warning. */
function dropped(key: string, message: string, context: StatementContext): RawFinding[] {
  if (isNewObject(context, key)) return [];
  if (context.undoes.has(key)) return [{ rule: 'drop-object', message: `${message} (undoing its migration)`, severity: 'warning' }];
  return [{ rule: 'drop-object', message }];
}

function alterCommandChecks(table: string, command: Node, context: StatementContext, statement: ParsedStatement, single: boolean): RawFinding[] {
  const column = String(command.name ?? '');
  switch (command.subtype) {
    case 'AT_AddColumn':
      return addColumnChecks(table, command, context);
    case 'AT_DropColumn':
      return dropped(`column:${table}.${column}`, `drops column ${table}.${column}`, context);
    case 'AT_AlterColumnType':
      return columnTypeChecks(table, column, command, context);
    case 'AT_SetNotNull': {
      if (notNullProven(table, column, context)) return [];
      const check = `${table}_${column}_not_null`.slice(0, 63);
      const sql = [`ALTER TABLE ${table} ADD CONSTRAINT ${check} CHECK (${column} IS NOT NULL) NOT VALID;`, `-- in a later migration:\nALTER TABLE ${table} VALIDATE CONSTRAINT ${check};`, `-- then:\nALTER TABLE ${table} ALTER COLUMN ${column} SET NOT NULL;\nALTER TABLE ${table} DROP CONSTRAINT ${check};`].join('\n');
      return [{ rule: 'set-not-null', message: `SET NOT NULL on ${table}.${column} scans the table under ACCESS EXCLUSIVE: no validated CHECK (${column} IS NOT NULL) proves it first`, sql }];
    }
    case 'AT_DropNotNull':
      if (isNewColumn(context, table, column)) return [];
      if (context.undoes.has(`notnull:${table}.${column}`)) return [{ rule: 'drop-not-null', message: `DROP NOT NULL on ${table}.${column} (undoing its migration)`, severity: 'warning' }];
      return [{ rule: 'drop-not-null', message: `DROP NOT NULL on ${table}.${column}: clients may not expect NULL` }];
    case 'AT_AddConstraint':
      return addConstraintChecks(table, unwrap(command.def)?.[1] ?? {}, statement, single);
    case 'AT_ValidateConstraint':
      return context.state.notValid.has(`${table}.${column}`) ? [{ rule: 'validate-in-same-migration', message: `validates ${column} on ${table} in the migration that added it NOT VALID` }] : [];
    default:
      return [];
  }
}

function addColumnChecks(table: string, command: Node, context: StatementContext): RawFinding[] {
  const column = columnDefinition(command.def);
  if (!column) return [];
  const rewrite = addColumnRewrite(command, context);
  if (rewrite) return [{ rule: 'add-column-rewrite', message: `adding ${table}.${column.name} rewrites the table: ${rewrite}` }];
  const types = column.constraints.map(constraintType);
  if (types.includes('NOTNULL') && !types.includes('DEFAULT') && !types.includes('GENERATED')) {
    return [{ rule: 'add-column-not-null-without-default', message: `adds ${table}.${column.name} NOT NULL without a default` }];
  }
  return [];
}

function columnTypeChecks(table: string, column: string, command: Node, context: StatementContext): RawFinding[] {
  const next = typeRef((unwrap(command.def)?.[1] ?? {}).typeName);
  const change = typeChange(table, column, next, context);
  const target = `${table}.${column} to ${describeType(next)}`;
  if (change.effect === 'none') return [];
  if (change.effect === 'scan') {
    const checks = change.checks.join(', ');
    return [{
      rule: 'alter-column-type',
      severity: 'warning',
      message: `changes ${target} without a rewrite, but ${checks} uses the column`,
      why: 'PostgreSQL re-checks every CHECK constraint that uses the column against every row, under ACCESS EXCLUSIVE',
      fix: `Drop ${checks} in the same migration, change the type, add it back NOT VALID, and VALIDATE CONSTRAINT in a later migration`,
    }];
  }
  if (change.effect === 'rewrite') return [{ rule: 'alter-column-type', message: `changes ${target}: ${change.because}` }];
  if (mayBeWidening(next)) return [{ rule: 'alter-column-type', severity: 'warning', message: `changes ${target}: no rewrite only if it widens the current type (lint with a database to know)` }];
  return [{ rule: 'alter-column-type', message: `changes ${target}: rewrites the table and its indexes` }];
}

function addConstraintChecks(table: string, constraint: Node, statement: ParsedStatement, single: boolean): RawFinding[] {
  const type = constraintType(constraint);
  const conname = constraint.conname ? String(constraint.conname) : undefined;
  const name = conname ? `${conname} ` : '';
  if ((type === 'CHECK' || type === 'FOREIGN') && !constraint.skip_validation) {
    // The statement itself with NOT VALID, when it is this one subcommand and the constraint has a name to validate.
    const sql = single && conname ? `${statement.sql} NOT VALID;\n-- in a later migration:\nALTER TABLE ${table} VALIDATE CONSTRAINT ${conname};` : undefined;
    return [{ rule: 'constraint-without-not-valid', message: `adds ${type === 'CHECK' ? 'CHECK' : 'FOREIGN KEY'} ${name}on ${table} without NOT VALID, so every row is checked under a lock that blocks writes`, sql }];
  }
  if ((type === 'UNIQUE' || type === 'PRIMARY') && !constraint.indexname) {
    const keyword = type === 'PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE';
    const index = conname ?? `${table}_${names(constraint.keys).join('_')}_${type === 'PRIMARY' ? 'pkey' : 'key'}`.slice(0, 63);
    const sql = `${NO_TRANSACTION_HEADER}\nCREATE UNIQUE INDEX CONCURRENTLY ${index} ON ${table} (${names(constraint.keys).join(', ')});\n-- in the next migration:\nALTER TABLE ${table} ADD CONSTRAINT ${index} ${keyword} USING INDEX ${index};`;
    return [{ rule: 'add-unique-constraint', message: `adds ${keyword} ${name}on ${table} directly, building its index under ACCESS EXCLUSIVE`, sql }];
  }
  return [];
}

function dataChange(verb: string, node: Node, context: StatementContext): RawFinding[] {
  const table = relationName(node.relation);
  if (!table || isNewTable(context, table) || !context.ddlTables.has(table)) return [];
  return [{ rule: 'data-change-with-ddl', message: `${verb} on ${table} in the same migration as DDL on ${table}` }];
}

function enumLabelUse(statement: ParsedStatement, context: StatementContext): RawFinding[] {
  if (!context.transactional || context.state.enumLabels.size === 0 || statement.kind === 'AlterEnumStmt') return [];
  const used = stringLiterals(statement.node).filter((text) => context.state.enumLabels.has(text));
  return [...new Set(used)].map((label) => ({ rule: 'enum-value-used-in-transaction' as const, message: `uses label '${label}', added by ADD VALUE earlier in this transaction` }));
}

function stringLiterals(node: Node): string[] {
  return findAll(node, 'A_Const').flatMap((constant) => {
    const value = (constant.sval as { sval?: string } | undefined)?.sval;
    return value === undefined ? [] : [value];
  });
}

// ---- style: warnings on the definitions a statement writes ----

const SMALL_INTEGERS = new Set(['int4', 'int2', 'serial', 'serial4', 'smallserial', 'serial2']);

function styleFindings({ kind, node, sql }: ParsedStatement): RawFinding[] {
  const findings = longIdentifiers(sql);
  if (kind !== 'CreateStmt' && kind !== 'AlterTableStmt') return findings;
  const table = relationName(node.relation) ?? '';
  const columns = kind === 'CreateStmt' ? ((node.tableElts as unknown[]) ?? []).flatMap((element) => columnDefinition(element) ?? []) : alterCommands(node).flatMap((command) => columnDefinition(command.def) ?? []);
  const tablePrimaryKey = findAll(node.tableElts, 'Constraint').find((constraint) => constraintType(constraint) === 'PRIMARY');
  const primaryKeyColumns = tablePrimaryKey ? names(tablePrimaryKey.keys) : [];
  return [...findings, ...columns.flatMap((column) => columnStyle(table, column, primaryKeyColumns))];
}

/**
 * From the text, not the tree: the parser truncates long identifiers as the server does, which is the problem.
 * String literals, dollar-quoted bodies and comments are removed first.
 */
function longIdentifiers(sql: string): RawFinding[] {
  const code = sql.replace(/\$([A-Za-z_]*)\$[\s\S]*?\$\1\$|'(?:[^']|'')*'|--[^\n]*|\/\*[\s\S]*?\*\//g, ' ');
  const identifiers = [...code.matchAll(/"((?:[^"]|"")+)"|[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*/g)].map((match) => match[1]?.replace(/""/g, '"') ?? match[0]);
  return [...new Set(identifiers)].filter((name) => Buffer.byteLength(name) > 63).map((name) => ({ rule: 'identifier-too-long' as const, message: `"${name}" is ${Buffer.byteLength(name)} bytes; PostgreSQL keeps the first 63` }));
}

function columnStyle(table: string, column: ColumnDefinition, primaryKeyColumns: string[]): RawFinding[] {
  const findings: RawFinding[] = [];
  const where = `${table}.${column.name}`;
  if (column.type.name === 'timestamp') findings.push({ rule: 'timestamp-without-time-zone', message: `${where} is timestamp without time zone` });
  if (column.type.name === 'json') findings.push({ rule: 'json-instead-of-jsonb', message: `${where} is json` });
  if (SERIAL_TYPES.has(column.type.name)) findings.push({ rule: 'serial-instead-of-identity', message: `${where} is ${column.type.name}` });
  const primary = primaryKeyColumns.includes(column.name) || column.constraints.some((constraint) => constraintType(constraint) === 'PRIMARY');
  if (primary && SMALL_INTEGERS.has(column.type.name) && !column.type.array) findings.push({ rule: 'int-primary-key', message: `primary key ${where} is ${column.type.name === 'int4' ? 'integer' : column.type.name}` });
  return findings;
}

// ---- what a statement leaves behind for the statements after it ----

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
      return renameTable(state, relation, sibling(newName));
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

// ---- foreign keys and the indexes that serve them, across every file linted ----

export interface KeyColumns {
  table: string;
  columns: string[];
}

export function foreignKeysOf({ kind, node }: ParsedStatement): KeyColumns[] {
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
    if (command.subtype === 'AT_AddConstraint' && constraint && constraintType(constraint[1]) === 'FOREIGN') return [{ table, columns: names(constraint[1].fk_attrs) }];
    const column = command.subtype === 'AT_AddColumn' ? columnDefinition(command.def) : undefined;
    return column?.constraints.some((c) => constraintType(c) === 'FOREIGN') ? [{ table, columns: [column.name] }] : [];
  });
}

export function indexesOf({ kind, node }: ParsedStatement): KeyColumns[] {
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
    return command.subtype === 'AT_AddConstraint' && constraint && keyed(constraint[1]) && !constraint[1].indexname ? [{ table, columns: names(constraint[1].keys) }] : [];
  });
}

/** An index serves a foreign key when the key's columns are its leading columns, in any order. */
export function servedBy(key: KeyColumns, indexes: KeyColumns[]): boolean {
  return indexes.some((index) => index.table === key.table && key.columns.every((column) => index.columns.slice(0, key.columns.length).includes(column)));
}
