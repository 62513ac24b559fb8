import { writeFile } from 'node:fs/promises';
import pg from 'pg';
import type { Environment } from '../config/settings.js';
import { TodoDbError } from '../core/errors.js';
import { withConnection } from '../db/connect.js';
import type { Finding } from '../lint/lint.js';
import { readCatalogAt } from '../schema/catalog-reader.js';
import { type ShadowOptions, withShadowDatabase } from '../shadow/shadow-database.js';
import { loadSqlParser } from '../sql/parser.js';
import { createMigration } from './create.js';
import { draftRoundTrip, type RestorableKind, type RoundTrip } from './draft-round-trip.js';
import {
  affectedObjects,
  composeDraftFile,
  type DestructiveStep,
  isEmptyDraft,
  keepChecksAcrossTypeChanges,
  needsNoTransaction,
  type Statement,
  withoutTransactionControl,
} from './draft-sql.js';
import { draftScripts, loadEngine, readSchema, schemaPathFor } from './schema-engine.js';

/** Lints the drafted migration (by its folder name) and returns the findings; without one the draft is unlinted. */
export type DraftLinter = (name: string) => Promise<Finding[]>;

/** `url`: the server the shadow database is built on (the usual migrations target). */
export interface DraftOptions extends ShadowOptions {
  name: string;
  /** Tables other tools own: in the shadow first, and left alone by Prisma's diff (its externalTables filter). */
  externalTables?: string[];
  lint?: DraftLinter;
}

export interface DraftedFile {
  path: string;
  destructive: DestructiveStep[];
  noTransaction: boolean;
}

/** A SET NOT NULL of the draft on a column that holds NULLs in the target database. */
export interface NullBackfill {
  table: string;
  column: string;
  /** Rows whose column is NULL there now. */
  rows: number;
  /** The UPDATE to write (in a migration before this one), with the column's new default when it has one. */
  backfill: string;
}

/** What the draft's round trip in the shadow database showed about down.sql. */
export interface DownCheck {
  /** Statements added to down.sql: what migration.sql drops with a column or table and Prisma's engine does not add back. */
  restored: string[];
  notRestored: string[];
  leftBehind: string[];
  /** Columns PostgreSQL cannot put back at their position. */
  reordered: Array<{ table: string; columns: string[] }>;
  /** migration.sql's steps whose data down.sql cannot bring back. */
  dataNotRestored: string[];
  /** The statement PostgreSQL refused in the shadow database, when one did (then nothing was checked). */
  failure: string | null;
}

export interface DraftReport {
  name: string;
  dir: string;
  migration: DraftedFile;
  down: DraftedFile;
  /** CHECKs, triggers and functions on what the change touches, which Prisma's engine does not see. */
  affected: string[];
  downCheck: DownCheck;
  /** SET NOT NULL steps that the target database's NULLs would make fail. */
  nulls: NullBackfill[];
  lintFindings: Finding[];
  schemaPath: string;
  engineVersion: string;
  durationMs: number;
  /** Loading the engine's WebAssembly, which overlaps building the shadow database. */
  engineLoadMs: number;
  /** The engine's introspection of the shadow and its two diffs, after it was loaded. */
  engineWorkMs: number;
  /** Running migration.sql, down.sql and the restore in the shadow, with the catalog reads around them. */
  roundTripMs: number;
}

/**
 * `migrate create <name> --from-schema`. The "before" side is what the migrations really build: a shadow
 * database with every migration applied by todo-db's own engine. Prisma's engine introspects it and diffs that
 * with schema.prisma both ways (up and down); the scripts are then made into todo-db migrations here.
 */
export async function draftMigrationFromSchema(options: DraftOptions): Promise<DraftReport> {
  const started = performance.now();
  const { environment } = options;
  const schemaPath = schemaPathFor(options.migrationsDir);
  const content = await readSchema(schemaPath);
  // Both loads overlap the shadow's creation; a failed one is reported where it is awaited.
  const engineLoading = loadEngine().then(() => Math.round(performance.now() - started));
  let engineWorkMs = 0;
  let roundTripMs = 0;
  engineLoading.catch(() => {});
  const parserLoading = loadSqlParser();
  parserLoading.catch(() => {});
  const drafted = await withShadowDatabase(options, async (shadowUrl) => {
    const catalog = readCatalogAt(shadowUrl, { environment });
    catalog.catch(() => {});
    await engineLoading;
    const working = performance.now();
    const scripts = await draftScripts(shadowUrl, schemaPath, content, options.externalTables);
    engineWorkMs = Math.round(performance.now() - working);
    const parser = await parserLoading;
    const up = parser.parse(scripts.up);
    if (isEmptyDraft(up)) throw nothingToDraft(schemaPath);
    const down = parser.parse(scripts.down);
    const before = await catalog;
    const prepare = (script: string, statements: typeof up) => {
      const kept = keepChecksAcrossTypeChanges(script, statements, before);
      return withoutTransactionControl(kept, parser.parse(kept));
    };
    const [upSql, downSql] = [prepare(scripts.up, up), prepare(scripts.down, down)];
    // Before anything is written: PostgreSQL runs both in the shadow, which is thrown away anyway.
    const notNull = setNotNullColumns(up);
    const checking = performance.now();
    const roundTrip = await draftRoundTrip({
      url: shadowUrl,
      environment,
      up: parser.parse(upSql).map((s) => s.sql),
      down: parser.parse(downSql).map((s) => s.sql),
      defaultsOf: notNull,
    });
    roundTripMs = Math.round(performance.now() - checking);
    return { scripts, catalog: before, up, down, upSql, downSql, roundTrip, notNull };
  });
  const { scripts, up, down, roundTrip } = drafted;
  const nulls = await nullsInTarget(options, environment, drafted.notNull, roundTrip.defaultsAfterUp);
  const created = await createMigration({ migrationsDir: options.migrationsDir, name: options.name });
  const [migrationPath, downPath] = created.files as [string, string];
  const affected = affectedObjects(drafted.catalog, [...up, ...down]);
  const upFile = composeDraftFile({
    sql: drafted.upSql,
    statements: up,
    preamble: upPreamble(created.name, scripts.engineVersion, needsNoTransaction(up)),
    affected,
    notes: nulls.flatMap(nullNote),
  });
  const downCheck: DownCheck = {
    restored: roundTrip.restore.map((item) => item.sql),
    notRestored: roundTrip.notRestored,
    leftBehind: roundTrip.leftBehind,
    reordered: roundTrip.reordered,
    dataNotRestored: upFile.destructive.map((step) => step.statement),
    failure: roundTrip.failure,
  };
  const downFile = composeDraftFile({
    sql: withRestore(drafted.downSql, roundTrip.restore),
    statements: down,
    preamble: downPreamble(created.name),
    affected,
    notes: downNotes(downCheck),
  });
  await writeFile(migrationPath, upFile.sql);
  await writeFile(downPath, downFile.sql);
  const lintFindings = options.lint ? await options.lint(created.name) : [];
  return {
    name: created.name,
    dir: created.dir,
    migration: { path: migrationPath, destructive: upFile.destructive, noTransaction: upFile.noTransaction },
    down: { path: downPath, destructive: downFile.destructive, noTransaction: downFile.noTransaction },
    affected,
    downCheck,
    nulls,
    lintFindings,
    schemaPath,
    engineVersion: scripts.engineVersion,
    durationMs: Math.round(performance.now() - started),
    engineLoadMs: await engineLoading,
    engineWorkMs,
    roundTripMs,
  };
}

const upPreamble = (folder: string, engineVersion: string, noTransaction: boolean) => [
  `Migration ${folder}: drafted from schema.prisma by Prisma's schema engine (@prisma/schema-engine-wasm ${engineVersion}),`,
  'from the schema the migrations before it build. Review it: it is yours now, and never edited once applied.',
  noTransaction
    ? 'It runs statement by statement outside a transaction: a failure half-way leaves the statements before it applied.'
    : 'It runs in one transaction with its history row; do not add BEGIN or COMMIT.',
];

const downPreamble = (folder: string) => [`Undoes ${folder}: the engine's reverse diff, back to the schema the migrations before it build.`];

/** `table.column` of every SET NOT NULL in the engine's migration.sql (Prisma's optional -> required). */
function setNotNullColumns(statements: Statement[]): Array<{ table: string; column: string }> {
  return statements.flatMap(({ kind, node }) => {
    if (kind !== 'AlterTableStmt') return [];
    const table = (node.relation as { relname?: string } | undefined)?.relname ?? '';
    const commands = ((node.cmds ?? []) as Array<{ AlterTableCmd?: { subtype?: string; name?: string } }>).flatMap((cmd) =>
      cmd.AlterTableCmd ? [cmd.AlterTableCmd] : [],
    );
    return commands.filter((cmd) => cmd.subtype === 'AT_SetNotNull').map((cmd) => ({ table, column: cmd.name ?? '' }));
  });
}

/** How many rows of the target database would make each SET NOT NULL fail (the tables it already has). */
async function nullsInTarget(
  options: DraftOptions,
  environment: Environment,
  columns: Array<{ table: string; column: string }>,
  defaults: Map<string, string | null>,
): Promise<NullBackfill[]> {
  if (columns.length === 0) return [];
  return withConnection(options.url, { environment, applicationName: 'todo-db migrate create' }, async (client) => {
    const found: NullBackfill[] = [];
    for (const { table, column } of columns) {
      const exists = await client.query('select 1 from pg_attribute where attrelid = to_regclass($1) and attname = $2 and not attisdropped', [
        pg.escapeIdentifier(table),
        column,
      ]);
      if (exists.rowCount === 0) continue;
      const [quotedTable, quotedColumn] = [pg.escapeIdentifier(table), pg.escapeIdentifier(column)];
      const { rows } = await client.query<{ nulls: string }>(`select count(*) as nulls from ${quotedTable} where ${quotedColumn} is null`);
      const rowCount = Number(rows[0]?.nulls ?? 0);
      if (rowCount === 0) continue;
      const value = defaults.get(`${table}.${column}`) ?? '<value>';
      found.push({ table, column, rows: rowCount, backfill: `UPDATE ${quotedTable} SET ${quotedColumn} = ${value} WHERE ${quotedColumn} IS NULL;` });
    }
    return found;
  });
}

const nullNote = (nulls: NullBackfill) => [
  `NULLS: ${nulls.table}.${nulls.column} is NULL in ${nulls.rows === 1 ? '1 row' : `${nulls.rows} rows`} of the target database, so its SET NOT NULL below fails there.`,
  '  Backfill them first, in a migration of its own that runs before this one (in batches on a large table):',
  `  ${nulls.backfill}`,
];

/** What the header of down.sql says about what it cannot do. */
function downNotes(check: DownCheck): string[] {
  const notes: string[] = [];
  if (check.failure)
    notes.push(`NOT CHECKED: PostgreSQL refused a statement of the draft in a shadow database (${check.failure}), so what this file restores was not checked.`);
  if (check.dataNotRestored.length > 0) {
    notes.push('DATA NOT RESTORED: this file brings back the structure only, empty (NULL or the default), for what migration.sql drops or converts:');
    notes.push(...check.dataNotRestored.map((statement) => `  ${statement}`), '  Their data comes back only from a backup taken before migrate up.');
  }
  for (const { table, columns } of check.reordered)
    notes.push(
      `COLUMN ORDER: PostgreSQL adds a column at the end of its table, so ${columns.join(', ')} of ${table} come back at another position (nothing that names its columns notices).`,
    );
  if (check.notRestored.length > 0) notes.push('NOT RESTORED (write them by hand):', ...check.notRestored.map((what) => `  ${what}`));
  if (check.leftBehind.length > 0)
    notes.push('LEFT BEHIND (not there before migration.sql; drop them by hand if unwanted):', ...check.leftBehind.map((what) => `  ${what}`));
  return notes;
}

/**
 * The lint rules a restore statement meets on a table down.sql did not re-create. They are accepted in the file
 * itself, with the reason: down.sql runs in a transaction (no CONCURRENTLY), and what it checks are values the
 * lines above it just added back.
 */
const RESTORE_ALLOWS: Partial<Record<RestorableKind, string>> = {
  notnull: 'set-not-null',
  constraint: 'constraint-without-not-valid, add-unique-constraint',
  index: 'index-without-concurrently',
};

function withRestore(sql: string, restore: RoundTrip['restore']): string {
  if (restore.length === 0) return sql;
  const heading = "-- Put back: dropped by migration.sql with its columns or tables, and not in schema.prisma, so Prisma's engine does not add it back";
  const statements = restore.map(({ kind, sql: statement }) => {
    const rules = RESTORE_ALLOWS[kind];
    return rules
      ? `-- todo-db-lint: allow ${rules} -- putting back what migration.sql dropped, on the columns re-created above, inside down.sql's transaction\n${statement}`
      : statement;
  });
  return `${sql.trimEnd()}\n\n${heading}\n${statements.join('\n')}\n`;
}

function nothingToDraft(schemaPath: string): TodoDbError {
  return new TodoDbError({
    code: 'NOTHING_TO_DRAFT',
    message: `Nothing to draft: ${schemaPath} already describes the schema the migrations build.`,
    hint: 'Change schema.prisma first, then run todo-db migrate create <name> --from-schema; for a change schema.prisma cannot express (a CHECK, a trigger), run todo-db migrate create <name> and write the SQL.',
  });
}
