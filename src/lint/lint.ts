import path from 'node:path';
import type pg from 'pg';
import { displayPath } from '../migrations/errors.js';
import type { Migration } from '../migrations/folder.js';
import { prismaTransactionBlocks } from '../migrations/prisma-transaction.js';
import { loadSqlParser, type ParsedStatement, SourceLines, type SqlParser, SqlSyntaxError } from '../sql/parser.js';
import { type Allow, type AllowComments, readAllowComments } from './allow.js';
import { findAll, names, qualifiedName, relationName, typeRef, unwrap } from './ast.js';
import { emptyState, type LintFile, type LintState, newObjectsAfter, nothingNew, type StatementAt, type StatementContext } from './context.js';
import { type LiveFacts, type LiveQuestions, readLiveFacts } from './live.js';
import { blocksReads, blocksWrites, type LockLevel, stronger } from './lock-levels.js';
import { alterCommands, defaultFunctions, droppedNames, lockSteps, NEWEST_PROVEN_VERSION, type PlannedLock } from './lock-plans.js';
import { LockPlan, type StatementPlan } from './plan-steps.js';
import { ddlTables, record } from './record.js';
import { checkFile, checkLocks, checkStatement, isRuleId, RULES, type RuleFinding, type RuleId, type Severity, STYLE_RULES, startRun } from './rules/index.js';
import type { FileFinding, LockContext } from './rules/rule.js';
import { describeSize, type TableSize } from './size.js';

const DEFAULT_MAX_BLOCKING_ROWS = 10_000;

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
  /** The statements a piece at a time, for the walk: a large file's parse trees are never all held at once. */
  pieces: () => Iterable<ParsedStatement[]>;
  /** Existing tables that get DDL somewhere in this file. */
  ddlTables: Set<string>;
  /** Offsets of the BEGIN and COMMIT of Prisma's transaction blocks, in a file that runs in a transaction. */
  prismaBlocks: Set<number>;
  syntaxError?: SqlSyntaxError;
  allows: AllowComments;
  lines: SourceLines;
}

/** Lints migrations in folder order, as `migrate up` would apply them; reads live sizes once, up front. */
export async function lintMigrations(targets: LintTarget[], options: LintOptions = {}): Promise<LintReport> {
  const maxBlockingRows = options.maxBlockingRows ?? DEFAULT_MAX_BLOCKING_ROWS;
  const parser = await loadSqlParser();
  const questions = new Questions();
  const files = targets.flatMap((target) => parseFiles(parser, target, options.files ?? ['migration.sql', 'down.sql'], questions));
  const live = options.db ? await readLiveFacts(options.db, questions.asked()) : undefined;
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
    plan: walk.plan.steps,
    errors: open.filter((finding) => finding.severity === 'error').length,
    warnings: open.filter((finding) => finding.severity === 'warning').length,
    allowed: findings.length - open.length,
  };
}

/**
 * The first reading of each file, for what must be known before the walk (the catalog questions, the tables with
 * DDL, Prisma's transaction blocks). A file of one piece keeps its statements for the walk; a larger one is parsed
 * again there, a piece at a time, rather than holding every parse tree in between.
 */
function parseFiles(parser: SqlParser, { migration, pending, applied = false }: LintTarget, which: LintFile[], questions: Questions): ParsedFile[] {
  return which.flatMap((file) => {
    const script = file === 'migration.sql' ? migration.sql : migration.readDown()?.sql;
    if (script === undefined) return [];
    const base = {
      migration,
      pending,
      applied,
      file,
      path: path.join(path.dirname(migration.path), file),
      script,
      allows: readAllowComments(script, isRuleId),
      lines: new SourceLines(script),
    };
    const unparsed = { pieces: () => [], ddlTables: new Set<string>(), prismaBlocks: new Set<number>() };
    // PostgreSQL's protocol (and the parser) would read the file only up to a NUL byte: the engine refuses it too.
    const nul = script.indexOf('\0');
    if (nul !== -1)
      return [{ ...base, ...unparsed, syntaxError: new SqlSyntaxError('the file holds a NUL byte, which PostgreSQL cannot receive in a query', nul) }];
    let count = 0;
    let first: ParsedStatement[] = [];
    const tables = new Set<string>();
    // Only transaction control decides Prisma's blocks: the rare statements kept from the first reading.
    const control: ParsedStatement[] = [];
    try {
      for (const piece of parser.pieces(script)) {
        // Only what will run is judged with live sizes: today's tables say nothing about a migration already applied.
        if (pending) for (const statement of piece) questions.add(statement);
        for (const table of ddlTables(piece)) tables.add(table);
        for (const statement of piece) if (statement.kind === 'TransactionStmt') control.push(statement);
        first = count++ === 0 ? piece : [];
      }
    } catch (error) {
      if (!(error instanceof SqlSyntaxError)) throw error;
      return [{ ...base, ...unparsed, syntaxError: error }];
    }
    const transactional = file === 'down.sql' || migration.transactional;
    const prismaBlocks = new Set(transactional ? prismaTransactionBlocks(script, control).map((statement) => statement.offset) : []);
    return [{ ...base, pieces: count > 1 ? () => parser.pieces(script) : () => [first], ddlTables: tables, prismaBlocks }];
  });
}

/** Every table, index and target type the files name, for one round of catalog queries. */
class Questions {
  private readonly tables = new Set<string>();
  private readonly indexes = new Set<string>();
  private readonly types = new Set<string>();
  private readonly functions = new Set<string>();
  private readonly domains = new Set<string>();

  add({ kind, node }: ParsedStatement): void {
    for (const relation of [...findAll(node, RELATION_KEYS), ...findAll(node, 'PartitionCmd').map((command) => command.name)]) {
      const name = relationName(relation);
      if (name) this.tables.add(name);
    }
    if (kind === 'DropStmt' || kind === 'CommentStmt') for (const name of relationsNamedBy(node)) this.tables.add(name);
    if (kind === 'DropStmt' && node.removeType === 'OBJECT_INDEX') for (const name of droppedNames(node)) this.indexes.add(name);
    if (kind === 'AlterDomainStmt') this.domains.add(qualifiedName(names(node.typeName)));
    if (kind === 'AlterTableStmt') {
      for (const command of alterCommands(node)) {
        if (command.subtype === 'AT_AlterColumnType') this.types.add(typeRef(unwrap(command.def)?.[1]?.typeName).qualified);
        if (command.subtype === 'AT_AddColumn') for (const name of defaultFunctions(command)) this.functions.add(name);
      }
    }
  }

  asked(): LiveQuestions {
    // Any relation named may be an index (REINDEX INDEX, ALTER INDEX, RENAME): asked both ways, one round trip.
    return {
      tables: [...this.tables],
      indexes: [...this.indexes, ...this.tables].filter(Boolean),
      types: [...this.types],
      functions: [...this.functions],
      domains: [...this.domains],
    };
  }
}

/** Where a parse tree names a relation. */
const RELATION_KEYS = new Set(['relation', 'pktable', 'RangeVar', 'view', 'sequence', 'table']);

/** The relations a DROP or COMMENT names in lists: `drop table t`, `drop trigger x on t` (its table). */
function relationsNamedBy(node: Record<string, unknown>): string[] {
  const parts = findAll(node.objects ?? node.object, 'List').map((list) => names(list.items));
  return parts.flatMap((items) => [qualifiedName(items), qualifiedName(items.slice(0, -1))]).filter(Boolean);
}

/** The walk over every statement: it asks the rules (rules/index.ts) about each, and keeps the lock plan. */
class Walk {
  readonly findings: Finding[] = [];
  readonly plan = new LockPlan();
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
    // The walk's own statement objects (a file of many pieces is parsed again), found by offset.
    const prismaBlocks = new Set<ParsedStatement>();
    // One context for the file, its lock fields set per statement: a spread per statement costs as lockStep says (lock-plans.ts).
    const context: LockContext = {
      file: file.file,
      transactional,
      state,
      live: file.pending ? this.live : undefined,
      ddlTables: file.ddlTables,
      undoes,
      prismaBlocks,
      locks: undefined,
      blocking: undefined,
      escalated: false,
    };
    for (const piece of file.pieces()) {
      for (const statement of piece) {
        if (file.prismaBlocks.has(statement.offset)) prismaBlocks.add(statement);
        this.statement(file, shown, statement, context);
      }
    }
  }

  private statement(file: ParsedFile, shown: string, statement: ParsedStatement, context: LockContext): void {
    const { line, column } = file.lines.at(statement.offset);
    const at = {
      migration: file.migration.name,
      file: file.file,
      location: `${shown}:${line}:${column}`,
      line,
      column,
      statement: statement.sql.split('\n')[0]?.trim() ?? '',
    };
    const allow = file.allows.forStatementAt(line);
    const raw = checkStatement(statement, context);
    record(statement, context.state);
    // After record: a table the statement creates is new for its own lock too.
    const locks = this.locks(statement, context);
    if (locks && file.file === 'migration.sql' && file.pending && locks.length > 0)
      this.plan.add(file.path, { migration: at.migration, location: at.location, statement: at.statement, locks });
    const blocking = locks?.find((lock) => this.tooLargeToBlock(lock));
    context.locks = locks;
    context.blocking = blocking;
    raw.push(...checkLocks(statement, context, raw));
    // Above --max-blocking-rows, every finding but a style one is an error, with the table's size.
    const size = blocking ? { name: blocking.table, rows: blocking.rows, bytes: blocking.bytes ?? 0 } : null;
    for (const found of raw) {
      const item = file.applied && file.file === 'migration.sql' ? inAppliedFile(found, file.migration.name) : found;
      const heavy = size && !STYLE_RULES.has(item.rule) ? size : null;
      this.findings.push(
        finding(
          at,
          heavy ? { ...item, severity: 'error', message: `${item.message}; ${describeSize(heavy)}, above --max-blocking-rows ${this.maxBlockingRows}` } : item,
          allow,
          heavy,
        ),
      );
    }
    this.run.see(statement, context, { at, allows: file.allows });
  }

  /** In a transaction a statement also runs under every lock the statements before it took on the same table. */
  private locks(statement: ParsedStatement, context: StatementContext): PlannedLock[] | undefined {
    const held = context.transactional ? context.state.heldLocks : new Map<string, LockLevel>();
    // Field by field, not spread from the step: see lockStep in lock-plans.ts.
    return lockSteps(statement, context)?.map(({ table, kind, of, lock, effect, because, locksRows, newTable }) => {
      const size = context.live?.tables.get(table);
      const before = held.get(table);
      const holding = before ? stronger(before, lock) : lock;
      if (context.transactional) held.set(table, holding);
      return {
        table,
        kind,
        of: of ?? null,
        lock,
        heldFromEarlier: holding !== lock ? holding : null,
        effect,
        because: because ?? null,
        blocksWrites: blocksWrites(holding) || locksRows === true,
        blocksReads: blocksReads(holding),
        newTable,
        rows: size?.rows ?? null,
        bytes: size?.bytes ?? null,
      };
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
  const { line, column, text } = 'offset' in found ? file.lines.at(found.offset) : { line: found.line, column: 1, text: file.lines.lineText(found.line) };
  return { migration: file.migration.name, file: file.file, location: `${shown}:${line}:${column}`, line, column, statement: text.trim() };
}

/** A finding in a migration.sql the database already applied: changing that file would only make it MIGRATION_EDITED there. */
function inAppliedFile(raw: RuleFinding, migration: string): RuleFinding {
  const fix = raw.fix ?? RULES[raw.rule].fix;
  return {
    ...raw,
    fix: `${fix} (${migration} is already applied here: make the change in a new migration; if you do change this file, record it with todo-db migrate resolve --edited ${migration})`,
  };
}

function finding(at: StatementAt, raw: RuleFinding, allow: Allow | undefined, table: TableSize | null): Finding {
  const rule = RULES[raw.rule];
  const allowed = allow?.rules.includes(raw.rule) ?? false;
  return {
    rule: raw.rule,
    severity: raw.severity ?? rule.severity,
    ...at,
    message: raw.message,
    why: raw.why ?? rule.why,
    fix: raw.fix ?? rule.fix,
    sql: raw.sql ?? null,
    allowed,
    allowReason: allowed ? (allow?.reason ?? null) : null,
    table,
  };
}
