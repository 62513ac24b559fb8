import { columnDefinition, constraintType, findAll, names, qualifiedName, relationName, typeRef, unwrap, type Node, type TypeRef } from './ast.js';
import { isNewTable, type StatementContext } from './context.js';
import { isRewriteFree, parseFormatType } from './types.js';
import type { ParsedStatement } from '../sql/parser.js';

/**
 * The table lock each statement takes and whether it rewrites or scans the table, from PostgreSQL's documented
 * lock levels (Explicit Locking; ALTER TABLE takes the strongest level any of its subcommands needs).
 */
export const LOCK_LEVELS = ['ACCESS SHARE', 'ROW SHARE', 'ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE'] as const;
export type LockLevel = (typeof LOCK_LEVELS)[number];
export type Effect = 'rewrite' | 'scan' | 'none';

export interface LockStep {
  table: string;
  lock: LockLevel;
  effect: Effect;
  /** Why it rewrites or scans, when it does. */
  because?: string;
  /** Created in this migration or an earlier pending one: empty, nobody waits on it. */
  newTable: boolean;
}

/** ROW EXCLUSIVE (INSERT, UPDATE, DELETE) conflicts with SHARE and everything stronger. */
export function blocksWrites(lock: LockLevel): boolean {
  return LOCK_LEVELS.indexOf(lock) >= LOCK_LEVELS.indexOf('SHARE');
}

export function stronger(a: LockLevel, b: LockLevel): LockLevel {
  return LOCK_LEVELS.indexOf(a) >= LOCK_LEVELS.indexOf(b) ? a : b;
}

export function blocksReads(lock: LockLevel): boolean {
  return lock === 'ACCESS EXCLUSIVE';
}

type Step = Omit<LockStep, 'newTable'>;

export function lockSteps(statement: ParsedStatement, context: StatementContext): LockStep[] {
  const steps = stepsOf(statement, context).filter((step) => step.table !== '');
  return merge(steps).map((step) => ({ ...step, newTable: isNewTable(context, step.table) }));
}

function stepsOf({ kind, node }: ParsedStatement, context: StatementContext): Step[] {
  const table = relationName(node.relation) ?? '';
  switch (kind) {
    case 'IndexStmt':
      return [{ table, lock: node.concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'SHARE', effect: 'scan', because: 'builds the index from every row' }];
    case 'ReindexStmt': {
      const concurrent = isConcurrentReindex(node);
      const target = node.kind === 'REINDEX_OBJECT_INDEX' ? indexTable(context, table) : table;
      return [{ table: target ?? '', lock: concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'SHARE', effect: 'scan', because: 'rebuilds the index from every row' }];
    }
    case 'DropStmt':
      return dropSteps(node, context);
    case 'AlterTableStmt':
      return alterTableSteps(table, node, context);
    case 'RenameStmt':
      return node.renameType === 'OBJECT_TABLE' || node.renameType === 'OBJECT_COLUMN' ? [{ table, lock: 'ACCESS EXCLUSIVE', effect: 'none' }] : [];
    case 'CreateStmt':
      return [{ table, lock: 'ACCESS EXCLUSIVE', effect: 'none' }, ...referencedTables(node).map((referenced): Step => ({ table: referenced, lock: 'SHARE ROW EXCLUSIVE', effect: 'none' }))];
    case 'CreateTrigStmt':
      return [{ table, lock: 'SHARE ROW EXCLUSIVE', effect: 'none' }];
    case 'TruncateStmt':
      return ((node.relations as unknown[]) ?? []).map((relation): Step => ({ table: relationName(unwrap(relation)?.[1]) ?? '', lock: 'ACCESS EXCLUSIVE', effect: 'none' }));
    case 'UpdateStmt':
    case 'DeleteStmt':
      return [{ table, lock: 'ROW EXCLUSIVE', effect: node.whereClause ? 'none' : 'scan', because: node.whereClause ? undefined : 'changes every row' }];
    case 'InsertStmt':
      return [{ table, lock: 'ROW EXCLUSIVE', effect: 'none' }];
    default:
      return [];
  }
}

export function isConcurrentReindex(node: Node): boolean {
  return ((node.params as unknown[]) ?? []).some((param) => unwrap(param)?.[1].defname === 'concurrently');
}

/** The table of an index created earlier in this run, or of one in the live database. */
export function indexTable(context: StatementContext, index: string): string | undefined {
  return context.state.indexTables.get(index) ?? context.live?.indexTables.get(index);
}

/** DROP INDEX locks the index's table; DROP TABLE the table itself. */
function dropSteps(node: Node, context: StatementContext): Step[] {
  const objects = droppedNames(node);
  if (node.removeType === 'OBJECT_INDEX') {
    return objects.map((index): Step => ({ table: indexTable(context, index) ?? '', lock: node.concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE', effect: 'none' }));
  }
  if (node.removeType === 'OBJECT_TABLE') return objects.map((table): Step => ({ table, lock: 'ACCESS EXCLUSIVE', effect: 'none' }));
  return [];
}

/** The names a DROP statement lists: `tasks`, `audit.tasks`, a type, a schema. */
export function droppedNames(node: Node): string[] {
  return ((node.objects as unknown[]) ?? []).map((object) => {
    const [kind, body] = unwrap(object) ?? ['', {}];
    if (kind === 'List') return qualifiedName(names(body.items));
    if (kind === 'TypeName') return qualifiedName(names(body.names));
    if (kind === 'String') return String(body.sval ?? '');
    return '';
  });
}

function referencedTables(node: Node): string[] {
  return findAll(node.tableElts, 'Constraint').filter((constraint) => constraintType(constraint) === 'FOREIGN').map((constraint) => relationName(constraint.pktable) ?? '');
}

/** ALTER TABLE subcommands, each with the level PostgreSQL documents for it. */
function alterTableSteps(table: string, node: Node, context: StatementContext): Step[] {
  return alterCommands(node).flatMap((command) => commandSteps(table, command, context));
}

export function alterCommands(node: Node): Node[] {
  return ((node.cmds as unknown[]) ?? []).flatMap((cmd) => {
    const wrapped = unwrap(cmd);
    return wrapped?.[0] === 'AlterTableCmd' ? [wrapped[1]] : [];
  });
}

const SHARE_UPDATE_EXCLUSIVE_COMMANDS = new Set(['AT_SetStatistics', 'AT_SetOptions', 'AT_ResetOptions', 'AT_ClusterOn', 'AT_DropCluster', 'AT_SetRelOptions', 'AT_ResetRelOptions', 'AT_ValidateConstraint', 'AT_AttachPartition']);
const SHARE_ROW_EXCLUSIVE_COMMANDS = new Set(['AT_EnableTrig', 'AT_DisableTrig', 'AT_EnableAlwaysTrig', 'AT_EnableReplicaTrig', 'AT_EnableTrigAll', 'AT_DisableTrigAll', 'AT_EnableTrigUser', 'AT_DisableTrigUser']);

function commandSteps(table: string, command: Node, context: StatementContext): Step[] {
  const subtype = String(command.subtype);
  if (subtype === 'AT_ValidateConstraint') return [{ table, lock: 'SHARE UPDATE EXCLUSIVE', effect: 'scan', because: 'checks every row' }];
  if (SHARE_UPDATE_EXCLUSIVE_COMMANDS.has(subtype)) return [{ table, lock: 'SHARE UPDATE EXCLUSIVE', effect: 'none' }];
  if (SHARE_ROW_EXCLUSIVE_COMMANDS.has(subtype)) return [{ table, lock: 'SHARE ROW EXCLUSIVE', effect: 'none' }];
  if (subtype === 'AT_AddConstraint') return addConstraintSteps(table, unwrap(command.def)?.[1] ?? {});
  if (subtype === 'AT_AddColumn') return [{ table, lock: 'ACCESS EXCLUSIVE', ...addColumnEffect(command, context) }];
  if (subtype === 'AT_AlterColumnType') {
    const change = typeChange(table, String(command.name), typeRef((unwrap(command.def)?.[1] ?? {}).typeName), context);
    return [{ table, lock: 'ACCESS EXCLUSIVE', effect: change.effect === 'unknown' ? 'rewrite' : change.effect, because: change.because }];
  }
  if (subtype === 'AT_SetNotNull') {
    const proven = notNullProven(table, String(command.name), context);
    return [{ table, lock: 'ACCESS EXCLUSIVE', effect: proven ? 'none' : 'scan', because: proven ? undefined : 'checks every row for NULL' }];
  }
  if (subtype === 'AT_SetLogged' || subtype === 'AT_SetUnLogged' || subtype === 'AT_SetAccessMethod' || subtype === 'AT_SetTableSpace') {
    return [{ table, lock: 'ACCESS EXCLUSIVE', effect: 'rewrite', because: 'copies the table' }];
  }
  return [{ table, lock: 'ACCESS EXCLUSIVE', effect: 'none' }];
}

function addConstraintSteps(table: string, constraint: Node): Step[] {
  const type = constraintType(constraint);
  const validated = !constraint.skip_validation;
  if (type === 'FOREIGN') {
    const effect: Effect = validated ? 'scan' : 'none';
    const because = validated ? 'checks every row against the referenced table' : undefined;
    return [{ table, lock: 'SHARE ROW EXCLUSIVE', effect, because }, { table: relationName(constraint.pktable) ?? '', lock: 'SHARE ROW EXCLUSIVE', effect: 'none' }];
  }
  if (type === 'CHECK') return [{ table, lock: 'ACCESS EXCLUSIVE', effect: validated ? 'scan' : 'none', because: validated ? 'checks every row' : undefined }];
  if ((type === 'UNIQUE' || type === 'PRIMARY' || type === 'EXCLUSION') && !constraint.indexname) {
    return [{ table, lock: 'ACCESS EXCLUSIVE', effect: 'scan', because: 'builds the index from every row' }];
  }
  return [{ table, lock: 'ACCESS EXCLUSIVE', effect: 'none' }];
}

/** Functions whose value differs per row: as a default of a new column they make PostgreSQL write every row. */
const VOLATILE_FUNCTIONS = new Set(['random', 'gen_random_uuid', 'uuid_generate_v1', 'uuid_generate_v1mc', 'uuid_generate_v4', 'uuidv4', 'uuidv7', 'clock_timestamp', 'timeofday', 'nextval', 'txid_current', 'random_normal']);
export const SERIAL_TYPES: ReadonlySet<string> = new Set(['serial', 'serial4', 'bigserial', 'serial8', 'smallserial', 'serial2']);

/** Functions called in the default of the column an ADD COLUMN adds. */
export function defaultFunctions(command: Node): string[] {
  const constraints = columnDefinition(command.def)?.constraints ?? [];
  return constraints.filter((constraint) => constraintType(constraint) === 'DEFAULT').flatMap((constraint) => findAll(constraint.raw_expr, 'FuncCall').map((call) => names(call.funcname).at(-1) ?? ''));
}

/** Why adding this column rewrites the table, or undefined when it does not. Volatility from the live pg_proc too. */
export function addColumnRewrite(command: Node, context: StatementContext): string | undefined {
  const column = columnDefinition(command.def);
  if (!column) return undefined;
  if (SERIAL_TYPES.has(column.type.name)) return `${column.type.name} fills every row from a sequence`;
  for (const constraint of column.constraints) {
    const type = constraintType(constraint);
    if (type === 'IDENTITY') return 'an identity column fills every row';
    if (type === 'GENERATED' && constraint.generated_kind === 's') return 'a stored generated column is computed for every row';
  }
  const volatile = defaultFunctions(command).find((name) => VOLATILE_FUNCTIONS.has(name) || context.live?.volatileFunctions.has(name));
  return volatile ? `the default ${volatile}() is volatile, so every row gets its own value` : undefined;
}

function addColumnEffect(command: Node, context: StatementContext): { effect: Effect; because?: string } {
  const rewrite = addColumnRewrite(command, context);
  if (rewrite) return { effect: 'rewrite', because: rewrite };
  const checked = columnDefinition(command.def)?.constraints.some((constraint) => ['CHECK', 'FOREIGN'].includes(constraintType(constraint)));
  return checked ? { effect: 'scan', because: 'checks the new column of every row' } : { effect: 'none' };
}

export interface TypeChange {
  effect: Effect | 'unknown';
  because?: string;
  /** The column's current type, when the database told us. */
  from?: string;
  /** CHECK constraints re-checked because they use the column. */
  checks: string[];
}

/** What ALTER COLUMN ... TYPE does to the table: from the live column type when there is one. */
export function typeChange(table: string, column: string, next: TypeRef, context: StatementContext): TypeChange {
  const live = context.live?.tables.get(table)?.columns[column];
  if (!live) return { effect: 'unknown', because: 'rewrites the table unless the change only widens the type', checks: [] };
  if (!isRewriteFree(parseFormatType(live.type), next, context.live?.binaryCasts)) {
    return { effect: 'rewrite', because: `${live.type} to ${describeType(next)} rewrites every row`, from: live.type, checks: live.checks };
  }
  if (live.checks.length > 0) return { effect: 'scan', because: `no rewrite, but ${live.checks.join(', ')} uses the column and is checked against every row`, from: live.type, checks: live.checks };
  return { effect: 'none', from: live.type, checks: [] };
}

export function describeType(type: TypeRef): string {
  return `${type.name}${type.mods.length > 0 ? `(${type.mods.join(',')})` : ''}${type.array ? '[]' : ''}`;
}

export function notNullProven(table: string, column: string, context: StatementContext): boolean {
  const live = context.live?.tables.get(table)?.columns[column];
  return context.state.notNullChecked.has(`${table}.${column}`) || live?.notNullChecked === true || live?.notNull === true;
}

/** One step per table: the strongest lock and the heaviest effect among its subcommands. */
function merge(steps: Step[]): Step[] {
  const byTable = new Map<string, Step>();
  const weight: Record<Effect, number> = { none: 0, scan: 1, rewrite: 2 };
  for (const step of steps) {
    const seen = byTable.get(step.table);
    if (!seen) {
      byTable.set(step.table, { ...step });
      continue;
    }
    seen.lock = stronger(seen.lock, step.lock);
    if (weight[step.effect] > weight[seen.effect]) Object.assign(seen, { effect: step.effect, because: step.because });
  }
  return [...byTable.values()];
}
