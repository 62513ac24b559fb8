import { writeFile } from 'node:fs/promises';
import type { DatabaseUrl } from '../config/database-url.js';
import type { ShadowInit } from '../config/external-tables.js';
import type { Environment } from '../config/settings.js';
import { TodoDbError } from '../errors.js';
import { readCatalogAt } from '../inspect/catalog.js';
import { draftScripts, loadEngine, readSchema, schemaPathFor } from '../inspect/prisma-schema.js';
import { withShadowDatabase } from '../inspect/shadow.js';
import { loadSqlParser } from '../sql/parser.js';
import { createMigration } from './create.js';
import { affectedObjects, composeDraftFile, isEmptyDraft, keepChecksAcrossTypeChanges, needsNoTransaction, withoutTransactionControl, type DestructiveStep } from './draft-sql.js';
import type { Finding } from '../lint/lint.js';

/** Lints the drafted migration (by its folder name) and returns the findings; without one the draft is unlinted. */
export type DraftLinter = (name: string) => Promise<Finding[]>;

export interface DraftOptions {
  /** The server the shadow database is built on (the usual migrations target). */
  url: DatabaseUrl;
  migrationsDir: string;
  name: string;
  environment?: Environment;
  shadowDatabaseUrl?: DatabaseUrl;
  /** Tables other tools own: in the shadow first, and left alone by Prisma's diff (its externalTables filter). */
  externalTables?: string[];
  shadowInit?: ShadowInit;
  lint?: DraftLinter;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface DraftedFile {
  path: string;
  destructive: DestructiveStep[];
  noTransaction: boolean;
}

export interface DraftReport {
  name: string;
  dir: string;
  migration: DraftedFile;
  down: DraftedFile;
  /** CHECKs, triggers and functions on what the change touches, which Prisma's engine does not see. */
  affected: string[];
  lintFindings: Finding[];
  schemaPath: string;
  engineVersion: string;
  durationMs: number;
  /** Loading the engine's WebAssembly, which overlaps building the shadow database. */
  engineLoadMs: number;
  /** The engine's introspection of the shadow and its two diffs, after it was loaded. */
  engineWorkMs: number;
}

/**
 * `migrate create <name> --from-schema`. The "before" side is what the migrations really build: a shadow
 * database with every migration applied by todo-db's own engine. Prisma's engine introspects it and diffs that
 * with schema.prisma both ways (up and down); the scripts are then made into todo-db migrations here.
 */
export async function draftMigrationFromSchema(options: DraftOptions): Promise<DraftReport> {
  const started = performance.now();
  const environment = options.environment ?? 'development';
  const schemaPath = schemaPathFor(options.migrationsDir);
  const content = await readSchema(schemaPath);
  // Both loads overlap the shadow's creation; a failed one is reported where it is awaited.
  const engineLoading = loadEngine().then(() => Math.round(performance.now() - started));
  let engineWorkMs = 0;
  engineLoading.catch(() => {});
  const parserLoading = loadSqlParser();
  parserLoading.catch(() => {});
  const { scripts, catalog } = await withShadowDatabase({ ...options, environment }, async (shadowUrl) => {
    const catalog = readCatalogAt(shadowUrl, { environment });
    catalog.catch(() => {});
    await engineLoading;
    const working = performance.now();
    const scripts = await draftScripts(shadowUrl, schemaPath, content, options.externalTables);
    engineWorkMs = Math.round(performance.now() - working);
    return { scripts, catalog: await catalog };
  });
  const parser = await parserLoading;
  const up = parser.parse(scripts.up);
  if (isEmptyDraft(up)) throw nothingToDraft(schemaPath);
  const down = parser.parse(scripts.down);
  const created = await createMigration({ migrationsDir: options.migrationsDir, name: options.name });
  const [migrationPath, downPath] = created.files as [string, string];
  const affected = affectedObjects(catalog, [...up, ...down]);
  const prepare = (script: string, statements: typeof up) => {
    const kept = keepChecksAcrossTypeChanges(script, statements, catalog);
    return withoutTransactionControl(kept, parser.parse(kept));
  };
  const upFile = composeDraftFile({ sql: prepare(scripts.up, up), statements: up, preamble: upPreamble(created.name, scripts.engineVersion, needsNoTransaction(up)), affected });
  const downFile = composeDraftFile({ sql: prepare(scripts.down, down), statements: down, preamble: downPreamble(created.name), affected });
  await writeFile(migrationPath, upFile.sql);
  await writeFile(downPath, downFile.sql);
  const lintFindings = options.lint ? await options.lint(created.name) : [];
  return {
    name: created.name,
    dir: created.dir,
    migration: { path: migrationPath, destructive: upFile.destructive, noTransaction: upFile.noTransaction },
    down: { path: downPath, destructive: downFile.destructive, noTransaction: downFile.noTransaction },
    affected,
    lintFindings,
    schemaPath,
    engineVersion: scripts.engineVersion,
    durationMs: Math.round(performance.now() - started),
    engineLoadMs: await engineLoading,
    engineWorkMs,
  };
}

const upPreamble = (folder: string, engineVersion: string, noTransaction: boolean) => [
  `Migration ${folder}: drafted from schema.prisma by Prisma's schema engine (@prisma/schema-engine-wasm ${engineVersion}),`,
  'from the schema the migrations before it build. Review it: it is yours now, and never edited once applied.',
  noTransaction ? 'It runs statement by statement outside a transaction: a failure half-way leaves the statements before it applied.' : 'It runs in one transaction with its history row; do not add BEGIN or COMMIT.',
];

const downPreamble = (folder: string) => [`Undoes ${folder}: the engine's reverse diff, back to the schema the migrations before it build.`];

function nothingToDraft(schemaPath: string): TodoDbError {
  return new TodoDbError({
    code: 'NOTHING_TO_DRAFT',
    message: `Nothing to draft: ${schemaPath} already describes the schema the migrations build.`,
    hint: 'Change schema.prisma first, then run todo-db migrate create <name> --from-schema; for a change schema.prisma cannot express (a CHECK, a trigger), run todo-db migrate create <name> and write the SQL.',
  });
}
