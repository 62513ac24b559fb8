import { NO_TRANSACTION_HEADER } from '../migrations/folder.js';
import type { Catalog } from '../schema/catalog-reader.js';
import type { ParsedStatement } from '../sql/parser.js';

/**
 * The pure half of `migrate create --from-schema`: the SQL Prisma's engine drafted, parsed by PostgreSQL's own
 * parser, turned into a migration file a person can review. No database, no engine: plain data in, text out.
 */

export type DestructiveKind = 'drop-column' | 'drop-table' | 'type-change' | 'rename';

export interface DestructiveStep {
  kind: DestructiveKind;
  /** The statement's first line, as it stands in the file. */
  statement: string;
  /** What is lost, in words. */
  risk: string;
  /** How to get the same result without losing data. */
  saferAlternative: string;
}

export interface DraftFile {
  sql: string;
  destructive: DestructiveStep[];
  /** True when a statement cannot run inside the migration's transaction (the file starts with the header). */
  noTransaction: boolean;
}

/** A statement of the engine's script, the part of it this module reads. */
export type Statement = Pick<ParsedStatement, 'sql' | 'offset' | 'end' | 'kind' | 'node'>;

/** The engine writes "-- This is an empty migration." when there is nothing to do: only statements count. */
export function isEmptyDraft(statements: Statement[]): boolean {
  return statements.every((statement) => statement.kind === 'TransactionStmt');
}

/**
 * Each migration already runs in one transaction with its history row, so the BEGIN and COMMIT the engine puts
 * around some steps (an enum rebuilt without a value) would end it early: they are cut out, with their line.
 */
export function withoutTransactionControl(script: string, statements: Statement[]): string {
  let result = script;
  for (const statement of [...statements].reverse()) {
    if (statement.kind !== 'TransactionStmt') continue;
    const after = result.slice(statement.end).match(/^\s*;[ \t]*\r?\n?/)?.[0] ?? '';
    result = result.slice(0, statement.offset) + result.slice(statement.end + after.length);
  }
  return result;
}

/**
 * A value added to an enum cannot be used in the transaction that adds it (PostgreSQL: "unsafe use of new
 * value"), and some statements cannot run in a transaction at all: either makes the draft a no-transaction one.
 */
export function needsNoTransaction(statements: Statement[]): boolean {
  return statements.some((statement, index) => {
    if (refusedInTransaction(statement)) return true;
    const added = addedEnumValue(statement);
    return added !== undefined && statements.slice(index + 1).some((later) => later.sql.includes(`'${added.replace(/'/g, "''")}'`));
  });
}

function refusedInTransaction({ kind, node }: Statement): boolean {
  if (kind === 'IndexStmt' || kind === 'DropStmt') return node.concurrent === true;
  if (kind === 'ReindexStmt')
    return ((node.params ?? []) as Array<{ DefElem?: { defname?: string } }>).some((param) => param.DefElem?.defname === 'concurrently');
  return ['VacuumStmt', 'CreatedbStmt', 'DropdbStmt', 'AlterSystemStmt', 'CreateTableSpaceStmt', 'DropTableSpaceStmt'].includes(kind);
}

function addedEnumValue({ kind, node }: Statement): string | undefined {
  if (kind !== 'AlterEnumStmt' || node.oldVal !== undefined) return undefined;
  return node.newVal as string | undefined;
}

/**
 * PostgreSQL re-checks a CHECK constraint's expression against a column's new type, and one that compares an
 * enum column with a literal of the old type fails ("operator does not exist: x_new = x") when Prisma rebuilds
 * the enum. Such constraints are dropped just before the type change and added back, unchanged, at the end.
 */
export function keepChecksAcrossTypeChanges(script: string, statements: Statement[], catalog: Catalog): string {
  const checks = new Map<string, { table: string; name: string; definition: string }>();
  let result = script;
  for (const statement of [...statements].reverse()) {
    if (statement.kind !== 'AlterTableStmt') continue;
    const table = ((statement.node.relation ?? {}) as { relname?: string }).relname;
    const retyped = alterCommands(statement)
      .filter((cmd) => cmd.subtype === 'AT_AlterColumnType')
      .map((cmd) => cmd.name);
    const onColumns =
      catalog.tables.find((t) => t.name === table)?.constraints.filter((c) => c.type === 'check' && c.columns.some((column) => retyped.includes(column))) ?? [];
    if (onColumns.length === 0) continue;
    for (const check of onColumns) checks.set(check.name, check);
    const drops = onColumns.map((check) => `ALTER TABLE "${check.table}" DROP CONSTRAINT "${check.name}";\n`).join('');
    result = result.slice(0, statement.offset) + drops + result.slice(statement.offset);
  }
  if (checks.size === 0) return result;
  const adds = [...checks.values()].reverse().map((check) => `ALTER TABLE "${check.table}" ADD CONSTRAINT "${check.name}" ${check.definition};`);
  return `${result.trimEnd()}\n\n-- Added back: dropped above for the type change (todo-db keeps CHECK constraints Prisma does not know)\n${adds.join('\n')}\n`;
}

function alterCommands(statement: Statement): AlterTableCmd[] {
  return ((statement.node.cmds ?? []) as Array<{ AlterTableCmd?: AlterTableCmd }>).flatMap((cmd) => (cmd.AlterTableCmd ? [cmd.AlterTableCmd] : []));
}

/** Every step that can lose data, with what it loses and the safe way to do it. */
export function destructiveSteps(statements: Statement[]): DestructiveStep[] {
  return statements.flatMap((statement) => {
    const line = firstLine(statement.sql);
    if (statement.kind === 'DropStmt' && statement.node.removeType === 'OBJECT_TABLE') {
      const tables = dropTargets(statement.node).join(', ');
      return [
        {
          kind: 'drop-table' as const,
          statement: line,
          risk: `drops table ${tables} and every row in it.`,
          saferAlternative: `If it was renamed in schema.prisma, replace the DROP TABLE and the CREATE TABLE with ALTER TABLE "${tables}" RENAME TO "<new name>". Otherwise keep a copy first (CREATE TABLE "${tables}_backup" AS TABLE "${tables}") or drop it in a later migration, once no deployed code reads it.`,
        },
      ];
    }
    if (statement.kind !== 'AlterTableStmt') return [];
    const table = ((statement.node.relation ?? {}) as { relname?: string }).relname ?? '?';
    const commands = alterCommands(statement);
    const added = commands.filter((cmd) => cmd.subtype === 'AT_AddColumn').map((cmd) => cmd.def?.ColumnDef?.colname ?? '?');
    return commands.flatMap((cmd): DestructiveStep[] => {
      if (cmd.subtype === 'AT_DropColumn') return [dropColumnStep(line, table, cmd.name ?? '?', added)];
      if (cmd.subtype === 'AT_AlterColumnType') {
        return [
          {
            kind: 'type-change',
            statement: line,
            risk: `changes the type of ${table}.${cmd.name}: PostgreSQL rewrites the table under an ACCESS EXCLUSIVE lock, and values that do not convert make it fail (an enum rebuilt without a value fails on rows that hold it).`,
            saferAlternative: `Add a new column of the new type, backfill it in batches, switch the code to it, then drop ${cmd.name} in a later migration.`,
          },
        ];
      }
      return [];
    });
  });
}

interface AlterTableCmd {
  subtype?: string;
  name?: string;
  def?: { ColumnDef?: { colname?: string } };
}

/** Prisma renders a rename as DROP and ADD in one ALTER TABLE: the old column's data is lost. */
function dropColumnStep(line: string, table: string, column: string, added: string[]): DestructiveStep {
  if (added.length > 0) {
    const renamed = added[0] as string;
    return {
      kind: 'rename',
      statement: line,
      risk: `drops ${table}.${column} and adds ${added.join(', ')}: if this is a rename in schema.prisma, Prisma renders it as drop and add, and the column's data is lost.`,
      saferAlternative: `If ${column} became ${renamed}, replace the DROP and the ADD with ALTER TABLE "${table}" RENAME COLUMN "${column}" TO "${renamed}"; for code already deployed, add ${renamed}, backfill it, switch the code, and drop ${column} later.`,
    };
  }
  return {
    kind: 'drop-column',
    statement: line,
    risk: `drops column ${table}.${column} and its data; deployed code that still reads it breaks.`,
    saferAlternative: `Deploy code that no longer uses ${column} first, keep a copy if the data may be needed (CREATE TABLE "${table}_${column}_backup" AS SELECT id, "${column}" FROM "${table}"), then drop it.`,
  };
}

function dropTargets(node: Record<string, unknown>): string[] {
  const objects = (node.objects ?? []) as Array<{ List?: { items?: Array<{ String?: { sval?: string } }> } }>;
  return objects.map((object) => (object.List?.items ?? []).map((item) => item.String?.sval ?? '').at(-1) ?? '?');
}

/** The tables and enum types a draft touches, by name. */
function touchedObjects(statements: Statement[]): { tables: Set<string>; types: Set<string> } {
  const tables = new Set<string>();
  const types = new Set<string>();
  for (const { kind, node } of statements) {
    const relation = (node.relation as { relname?: string } | undefined)?.relname;
    if (relation) tables.add(relation);
    if (kind === 'DropStmt' && node.removeType === 'OBJECT_TABLE') for (const table of dropTargets(node)) tables.add(table);
    if (kind === 'AlterEnumStmt') types.add(lastName(node.typeName));
    if (kind === 'DropStmt' && node.removeType === 'OBJECT_TYPE') {
      for (const object of (node.objects ?? []) as Array<{ TypeName?: { names?: unknown } }>) types.add(lastName(object.TypeName?.names));
    }
    if (kind === 'RenameStmt' && node.renameType === 'OBJECT_TYPE')
      types.add(lastName((node.object as { List?: { items?: unknown } } | undefined)?.List?.items));
  }
  return { tables, types };
}

function lastName(names: unknown): string {
  return ((names ?? []) as Array<{ String?: { sval?: string } }>).map((name) => name.String?.sval ?? '').at(-1) ?? '';
}

/**
 * What schema.prisma cannot express and the draft therefore never changes, on the tables the draft touches (and
 * the tables whose columns use an enum it touches): CHECK constraints, triggers, and the functions they call.
 */
export function affectedObjects(catalog: Catalog, statements: Statement[]): string[] {
  const touched = touchedObjects(statements);
  const tables = catalog.tables.filter(
    (table) => touched.tables.has(table.name) || table.columns.some((column) => touched.types.has(column.type.replace(/\[\]$/, ''))),
  );
  const checks = tables.flatMap((table) => table.constraints.filter((constraint) => constraint.type === 'check'));
  const triggers = tables.flatMap((table) => table.triggers);
  const functionNames = (text: string) => catalog.functions.filter((fn) => text.includes(fn.signature.split('(')[0] as string)).map((fn) => fn.signature);
  const functions = new Set([...checks.flatMap((check) => functionNames(check.definition)), ...triggers.flatMap((trigger) => functionNames(trigger.function))]);
  return [
    ...checks.map((check) => `CHECK ${check.name} on ${check.table}: ${check.definition}`),
    ...triggers.map((trigger) => `trigger ${trigger.name} on ${trigger.table}: ${trigger.timing} ${trigger.events.join(' OR ')} runs ${trigger.function}`),
    ...[...functions].map((signature) => `function ${signature}`),
  ];
}

export interface ComposeInput {
  /** The engine's script with its BEGIN/COMMIT removed. */
  sql: string;
  statements: Statement[];
  /** Comment lines that say what this file is (without the leading "-- "). */
  preamble: string[];
  affected: string[];
  /** What the file cannot do, or what to do before it runs: right after the destructive steps (without "-- "). */
  notes?: string[];
}

/**
 * The file as written: the no-transaction header if needed (it must be the first line to count), then the
 * destructive steps before any other comment, then what the change may affect, then the engine's SQL.
 */
export function composeDraftFile({ sql, statements, preamble, affected, notes = [] }: ComposeInput): DraftFile {
  const destructive = destructiveSteps(statements);
  const noTransaction = needsNoTransaction(statements);
  const lines: string[] = [];
  if (noTransaction)
    lines.push(NO_TRANSACTION_HEADER, '-- (a value added to an enum is used later in this file, which PostgreSQL refuses in the transaction that adds it)');
  if (destructive.length > 0) {
    lines.push(`-- DESTRUCTIVE: ${destructive.length === 1 ? '1 step' : `${destructive.length} steps`} below can lose data. Review each before applying:`);
    for (const step of destructive) lines.push(`--   ${step.statement}`, `--     ${step.risk}`, `--     Safer: ${step.saferAlternative}`);
    lines.push('--');
  }
  if (notes.length > 0) lines.push(...notes.map((line) => `-- ${line}`), '--');
  lines.push(...preamble.map((line) => `-- ${line}`));
  if (affected.length > 0) {
    lines.push('--', "-- Not in schema.prisma, so Prisma's engine left them out: check whether this change needs them changed too.");
    lines.push(...affected.map((line) => `--   ${line}`));
  }
  return { sql: `${lines.join('\n')}\n\n${sql.trim()}\n`, destructive, noTransaction };
}

function firstLine(sql: string): string {
  return (sql.split('\n')[0] ?? '').trim();
}
