import path from 'node:path';
import type pg from 'pg';
import { displayPath } from '../migrations/errors.js';
import { prismaTransactionBlocks } from '../migrations/prisma-transaction.js';
import type { Migration } from '../migrations/folder.js';
import { lineColumnAt, loadSqlParser, SqlSyntaxError, type ParsedStatement, type SqlParser } from '../sql/parser.js';
import { readAllowComments, type AllowComments } from './allow.js';
import { findAll, names, qualifiedName, relationName, typeRef, unwrap } from './ast.js';
import { checkFile, checkLocks, checkStatement, RULES, startRun, STYLE_RULES, type RuleFinding, type RuleId, type Severity } from './rules/index.js';
import type { FileFinding } from './rules/rule.js';
import { emptyState, newObjectsAfter, nothingNew, type LintFile, type LintState, type StatementAt, type StatementContext } from './context.js';
import { readLiveFacts, type LiveFacts, type LiveQuestions } from './live.js';
import { blocksReads, blocksWrites, stronger, type LockLevel } from './lock-levels.js';
import { alterCommands, NEWEST_PROVEN_VERSION, defaultFunctions, droppedNames, lockSteps, type PlannedLock } from './lock-plans.js';
import { describeSize, type TableSize } from './size.js';
import { ddlTables, record } from './record.js';

export const DEFAULT_MAX_BLOCKING_ROWS = 10_000;

export interface LintTarget {
  migration: Migration;
  /** Pending in the database linted against: tables it creates are new for the pending migrations after it. */
  pending: boolean;
  /** Applied in the database linted against: a fix goes in a new migration, never into this file. */
  applied?: boolean;
}

export interface LintOptions {
  /** A connection to the database the migrations will run on; without one only the static rules apply. */
  db?: Pick<pg.ClientBase, 'query'>;
  maxBlockingRows?: number;
  /** Which files of each migration (default both; `migrate up` lints migration.sql only). */
  files?: LintFile[];
}

export interface Finding extends StatementAt {
  rule: RuleId;
  severity: Severity;
  message: string;
  why: string;
  fix: string;
  /** The safe SQL for this statement, where one can be written from it. */
  sql: string | null;
  allowed: boolean;
  allowReason: string | null;
  /** The live size of the table that made it an error, when the database said. */
  table: TableSize | null;
}

export interface StatementPlan {
  migration: string;
  location: string;
  statement: string;
  locks: PlannedLock[];
}

export interface LintReport {
  offline: boolean;
  /** The PostgreSQL major version the lock plan is for: the live server's, or offline the newest the plans are proven on. */
  planFor: { version: number; live: boolean };
  maxBlockingRows: number;
  migrations: string[];
  findings: Finding[];
  plan: StatementPlan[];
  errors: number;
  warnings: number;
  allowed: number;
}

interface ParsedFile {
  migration: Migration;
  pending: boolean;
  applied: boolean;
  file: LintFile;
  path: string;
  script: string;
  statements: ParsedStatement[];
  syntaxError?: SqlSyntaxError;
  allows: AllowComments;
}

/** Lints migrations in folder order, as `migrate up` would apply them; reads live sizes once, up front. */
export async function lintMigrations(targets: LintTarget[], options: LintOptions = {}): Promise<LintReport> {
  const maxBlockingRows = options.maxBlockingRows ?? DEFAULT_MAX_BLOCKING_ROWS;
  const parser = await loadSqlParser();
  const files = targets.flatMap((target) => parseFiles(parser, target, options.files ?? ['migration.sql', 'down.sql']));
  // Only what will run is judged with live sizes: today's tables say nothing about a migration already applied.
  const live = options.db ? await readLiveFacts(options.db, questionsOf(files.filter((file) => file.pending))) : undefined;
  const walk = new Walk(live, maxBlockingRows);
  // What the pending migrations before this one create: they run in the same `migrate up`. An applied
  // migration is judged alone (nothing says which ran together), and leaves the pending chain as it was.
  let chain = nothingNew();
  let upState: LintState | undefined;
  for (const file of files) {
    if (file.file === 'migration.sql') {
      upState = emptyState(file.pending ? chain : nothingNew());
      walk.file(file, upState, new Set());
      if (file.pending) chain = newObjectsAfter(upState);
    } else {
      // down.sql runs after its migration.sql: what that created exists, and dropping it is the point. Copies:
      // what down.sql creates is not new for the migrations after it.
      const state = emptyState({ tables: new Set(upState?.newTables), objects: new Set(), indexTables: new Map(upState?.indexTables) });
      walk.file(file, state, upState?.created ?? new Set());
    }
  }
  walk.afterLastStatement();
  const findings = walk.findings;
  const open = findings.filter((finding) => !finding.allowed);
  return {
    offline: !live,
    planFor: live ? { version: Math.floor(live.serverVersion / 10_000), live: true } : { version: NEWEST_PROVEN_VERSION, live: false },
    maxBlockingRows,
    migrations: targets.map((target) => target.migration.name),
    findings,
    plan: walk.plan,
    errors: open.filter((finding) => finding.severity === 'error').length,
    warnings: open.filter((finding) => finding.severity === 'warning').length,
    allowed: findings.length - open.length,
  };
}

function parseFiles(parser: SqlParser, { migration, pending, applied = false }: LintTarget, which: LintFile[]): ParsedFile[] {
  return which.flatMap((file) => {
    const script = file === 'migration.sql' ? migration.sql : migration.readDown()?.sql;
    if (script === undefined) return [];
    const base = { migration, pending, applied, file, path: path.join(path.dirname(migration.path), file), script, allows: readAllowComments(script) };
    // PostgreSQL's protocol (and the parser) would read the file only up to a NUL byte: the engine refuses it too.
    const nul = script.indexOf('\0');
    if (nul !== -1) return [{ ...base, statements: [], syntaxError: new SqlSyntaxError('the file holds a NUL byte, which PostgreSQL cannot receive in a query', nul) }];
    try {
      return [{ ...base, statements: parser.parse(script) }];
    } catch (error) {
      if (!(error instanceof SqlSyntaxError)) throw error;
      return [{ ...base, statements: [], syntaxError: error }];
    }
  });
}

/** Every table, index and target type the files name, for one round of catalog queries. */
function questionsOf(files: ParsedFile[]): LiveQuestions {
  const tables = new Set<string>();
  const indexes = new Set<string>();
  const types = new Set<string>();
  const functions = new Set<string>();
  const domains = new Set<string>();
  for (const { statements } of files) {
    for (const { kind, node } of statements) {
      for (const relation of [...findAll(node, 'relation'), ...findAll(node, 'pktable'), ...findAll(node, 'RangeVar'), ...findAll(node, 'view'), ...findAll(node, 'sequence'), ...findAll(node, 'table'), ...findAll(node, 'PartitionCmd').map((command) => command.name)]) {
        const name = relationName(relation);
        if (name) tables.add(name);
      }
      if (kind === 'DropStmt' || kind === 'CommentStmt') relationsNamedBy(node).forEach((name) => tables.add(name));
      if (kind === 'DropStmt' && node.removeType === 'OBJECT_INDEX') droppedNames(node).forEach((name) => indexes.add(name));
      if (kind === 'AlterDomainStmt') domains.add(qualifiedName(names(node.typeName)));
      if (kind === 'AlterTableStmt') {
        for (const command of alterCommands(node)) {
          if (command.subtype === 'AT_AlterColumnType') types.add(typeRef((unwrap(command.def)?.[1] ?? {}).typeName).qualified);
          if (command.subtype === 'AT_AddColumn') defaultFunctions(command).forEach((name) => functions.add(name));
        }
      }
    }
  }
  // Any relation named may be an index (REINDEX INDEX, ALTER INDEX, RENAME): asked both ways, one round trip.
  return { tables: [...tables], indexes: [...indexes, ...tables].filter(Boolean), types: [...types], functions: [...functions], domains: [...domains] };
}

/** The relations a DROP or COMMENT names in lists: `drop table t`, `drop trigger x on t` (its table). */
function relationsNamedBy(node: Record<string, unknown>): string[] {
  const parts = findAll(node.objects ?? node.object, 'List').map((list) => names(list.items));
  return parts.flatMap((items) => [qualifiedName(items), qualifiedName(items.slice(0, -1))]).filter(Boolean);
}

/** The walk over every statement: it asks the rules (rules/index.ts) about each, and keeps the lock plan. */
class Walk {
  readonly findings: Finding[] = [];
  readonly plan: StatementPlan[] = [];
  /** The rules that judge after the last statement of the run. */
  private readonly run = startRun();

  constructor(
    private readonly live: LiveFacts | undefined,
    private readonly maxBlockingRows: number,
  ) {}

  file(file: ParsedFile, state: LintState, undoes: Set<string>): void {
    const shown = displayPath(file.path);
    for (const found of checkFile(file)) this.findings.push(finding(placeInFile(file, shown, found), found, undefined, null));
    // The parser refused the file: it has no statements to walk.
    if (file.syntaxError) return;
    const transactional = file.file === 'down.sql' || file.migration.transactional;
    const prismaBlocks = new Set(transactional ? prismaTransactionBlocks(file.script, file.statements) : []);
    const context: StatementContext = { file: file.file, transactional, state, live: file.pending ? this.live : undefined, ddlTables: ddlTables(file.statements), undoes, prismaBlocks };
    for (const statement of file.statements) this.statement(file, shown, statement, context);
  }

  private statement(file: ParsedFile, shown: string, statement: ParsedStatement, context: StatementContext): void {
    const { line, column } = lineColumnAt(file.script, statement.offset);
    const at = { migration: file.migration.name, file: file.file, location: `${shown}:${line}:${column}`, line, column, statement: statement.sql.split('\n')[0]?.trim() ?? '' };
    const allow = file.allows.forStatementAt(line);
    const raw = checkStatement(statement, context);
    record(statement, context.state);
    // After record: a table the statement creates is new for its own lock too.
    const locks = this.locks(statement, context);
    if (locks && file.file === 'migration.sql' && file.pending && locks.length > 0) this.plan.push({ migration: at.migration, location: at.location, statement: at.statement, locks });
    const blocking = locks?.find((lock) => this.tooLargeToBlock(lock));
    raw.push(...checkLocks(statement, { ...context, locks, blocking }, raw));
    // Above --max-blocking-rows, every finding but a style one is an error, with the table's size.
    const size = blocking ? { name: blocking.table, rows: blocking.rows, bytes: blocking.bytes ?? 0 } : null;
    for (const found of raw) {
      const item = file.applied && file.file === 'migration.sql' ? inAppliedFile(found, file.migration.name) : found;
      const heavy = size && !STYLE_RULES.has(item.rule) ? size : null;
      this.findings.push(finding(at, heavy ? { ...item, severity: 'error', message: `${item.message}; ${describeSize(heavy)}, above --max-blocking-rows ${this.maxBlockingRows}` } : item, allow, heavy));
    }
    this.run.see(statement, context, { at, allows: file.allows });
  }

  /** In a transaction a statement also runs under every lock the statements before it took on the same table. */
  private locks(statement: ParsedStatement, context: StatementContext): PlannedLock[] | undefined {
    const held = context.transactional ? context.state.heldLocks : new Map<string, LockLevel>();
    return lockSteps(statement, context)?.map(({ locksRows, ...step }) => {
      const table = context.live?.tables.get(step.table);
      const before = held.get(step.table);
      const holding = before ? stronger(before, step.lock) : step.lock;
      if (context.transactional) held.set(step.table, holding);
      const heldFromEarlier = holding !== step.lock ? holding : null;
      return { ...step, of: step.of ?? null, because: step.because ?? null, heldFromEarlier, blocksWrites: blocksWrites(holding) || locksRows === true, blocksReads: blocksReads(holding), rows: table?.rows ?? null, bytes: table?.bytes ?? null };
    });
  }

  private tooLargeToBlock(lock: PlannedLock): boolean {
    return lock.effect !== 'none' && lock.blocksWrites && !lock.newTable && lock.rows !== null && lock.rows > this.maxBlockingRows;
  }

  /** After every statement of the run: what the rules that judge across it found, each at its statement. */
  afterLastStatement(): void {
    for (const { place, finding: found } of this.run.finish()) this.findings.push(finding(place.at, found, place.allows.forStatementAt(place.at.line), null));
  }
}

/** A file's own finding where it stands: at the parser's offset, or at a line (its text as the statement). */
function placeInFile(file: ParsedFile, shown: string, found: FileFinding): StatementAt {
  const { line, column, text } = 'offset' in found ? lineColumnAt(file.script, found.offset) : { line: found.line, column: 1, text: file.script.split('\n')[found.line - 1] ?? '' };
  return { migration: file.migration.name, file: file.file, location: `${shown}:${line}:${column}`, line, column, statement: text.trim() };
}

/** A finding in a migration.sql the database already applied: changing that file would only make it MIGRATION_EDITED there. */
function inAppliedFile(raw: RuleFinding, migration: string): RuleFinding {
  const fix = raw.fix ?? RULES[raw.rule].fix;
  return { ...raw, fix: `${fix} (${migration} is already applied here: make the change in a new migration; if you do change this file, record it with todo-db migrate resolve --edited ${migration})` };
}

function finding(at: StatementAt, raw: RuleFinding, allow: { rules: RuleId[]; reason: string } | undefined, table: TableSize | null): Finding {
  const rule = RULES[raw.rule];
  const allowed = allow?.rules.includes(raw.rule) ?? false;
  return { rule: raw.rule, severity: raw.severity ?? rule.severity, ...at, message: raw.message, why: raw.why ?? rule.why, fix: raw.fix ?? rule.fix, sql: raw.sql ?? null, allowed, allowReason: allowed ? (allow?.reason ?? null) : null, table };
}
