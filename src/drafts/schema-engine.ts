import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import type { DatabaseUrl } from '../config/database-url.js';
import type { Environment } from '../config/settings.js';
import { TodoDbError, usageError } from '../core/errors.js';
import { compiledBaselineOnly } from '../core/wasm-tier.js';
import { withConnection } from '../db/connect.js';
import { createPool } from '../db/pool.js';
import { type Catalog, readCatalogAt } from '../schema/catalog-reader.js';
import { compareCatalogs, type Difference, type Ignorable, MIGRATIONS, SCHEMA_PRISMA } from '../schema/differences.js';
import { type ShadowOptions, withScratchDatabase, withShadowDatabase } from '../shadow/shadow-database.js';

type EngineModule = typeof import('@prisma/schema-engine-wasm/schema_engine_bg');

/** Node has WebAssembly as a global, but neither lib ES2023 nor @types/node 20 declares it: the parts used here. */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: Record<string, object>): Promise<{ exports: Record<string, unknown> }>;
  Module: { imports(module: WasmModule): Array<{ module: string; name: string }> };
}
type WasmModule = { readonly wasmModule: unique symbol };
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const ENGINE_PACKAGE = '@prisma/schema-engine-wasm';
const GLUE = `${ENGINE_PACKAGE}/schema_engine_bg`;

/**
 * What schema.prisma cannot express, so the comparison leaves it out (and the report says so): CHECK
 * constraints, triggers and the functions behind them, domains and composite types, views, extensions, row-level security and policies live
 * only in the migrations' SQL, and a Prisma list field (String[]) has no way to say NOT NULL, so Prisma always
 * creates a nullable array column.
 */
const IGNORED_KINDS: Ignorable[] = ['check', 'trigger', 'function', 'type', 'view', 'extension', 'row-level-security', 'policy'];
const NOT_COMPARED = [
  'CHECK constraints',
  'triggers',
  'functions',
  'domains and composite types',
  'views',
  'extensions',
  'row-level security and policies',
  'NOT NULL on array columns',
];

/** `url`: the server the two temporary databases are created on; `shadowDatabaseUrl`: an empty database to use instead, wiped after each use. */
export interface SchemaDiffOptions extends ShadowOptions {
  /** Default: schema.prisma next to the migrations folder (schemaPathFor). */
  schemaPath?: string;
  /** Tables other tools own: in both shadows first, left out of the comparison and of Prisma's SQL. */
  externalTables?: string[];
}

export interface SchemaDiffReport {
  differences: Difference[];
  /** What was not compared because schema.prisma cannot express it, in words. */
  ignored: string[];
  schemaPath: string;
  /** The @prisma/schema-engine-wasm version that turned schema.prisma into SQL. */
  engineVersion: string;
  durationMs: number;
}

/**
 * The one rule for finding the schema: schema.prisma sits next to the migrations folder, as in Prisma's own
 * layout (prisma/schema.prisma, prisma/migrations/). With the default folder this is
 * <package root>/prisma/schema.prisma; with --migrations-dir <copy>/prisma/migrations it is the copy's.
 */
export function schemaPathFor(migrationsDir: string): string {
  return path.join(migrationsDir, '..', 'schema.prisma');
}

/**
 * Does schema.prisma describe what the migrations build? Builds both in temporary databases on the server of
 * `url` (the migrations with todo-db's own runner, schema.prisma with the SQL Prisma generates for it) and
 * compares their catalogs, leaving out what schema.prisma cannot express (NOT_COMPARED).
 */
export async function diffSchemaWithMigrations(options: SchemaDiffOptions): Promise<SchemaDiffReport> {
  const started = performance.now();
  const schemaPath = options.schemaPath ?? schemaPathFor(options.migrationsDir);
  const schema = await readSchema(schemaPath); // before any database work: a wrong path fails at once
  const { environment } = options;
  // One after the other, not nested: a given --shadow-database-url must be empty on entry and is wiped on
  // exit, so it can serve both sides only in turn.
  const exclude = options.externalTables ?? [];
  const fromMigrations = await withShadowDatabase(options, (shadowUrl) => readCatalogAt(shadowUrl, { environment, exclude }));
  const { catalog: fromSchema, engineVersion } = await withScratchDatabase(options, async (scratchUrl) => {
    const generating = performance.now();
    const { sql, engineVersion } = await generateSchemaSql(schemaPath, schema, scratchUrl, exclude);
    options.log?.(`${ENGINE_PACKAGE} ${engineVersion} turned schema.prisma into SQL in ${Math.round(performance.now() - generating)} ms.`);
    await applySchemaSql(scratchUrl, sql, schemaPath, environment);
    return { catalog: await readCatalogAt(scratchUrl, { environment, exclude }), engineVersion };
  });
  const differences = compareCatalogs(withoutArrayNullability(fromMigrations), withoutArrayNullability(fromSchema), {
    ignore: IGNORED_KINDS,
    leftLabel: MIGRATIONS,
    rightLabel: SCHEMA_PRISMA,
  });
  return { differences, ignored: NOT_COMPARED, schemaPath, engineVersion, durationMs: Math.round(performance.now() - started) };
}

async function generateSchemaSql(
  schemaPath: string,
  content: string,
  adapterUrl: DatabaseUrl,
  externalTables: string[] = [],
): Promise<{ sql: string; engineVersion: string }> {
  return withSchemaEngine(adapterUrl, schemaPath, content, async (engine, version) => {
    const files = [{ path: schemaPath, content }];
    const result = await engine.diff({
      from: { tag: 'empty' },
      to: { tag: 'schemaDatamodel', files },
      script: true,
      exitCode: null,
      filters: engineFilters(externalTables),
    });
    return { sql: result.stdout ?? '', engineVersion: version };
  });
}

type SchemaEngine = Awaited<ReturnType<EngineModule['SchemaEngine']['new']>>;
/** Prisma's own externalTables filter (prisma.config.ts tables.external), which on PostgreSQL wants schema-qualified names. */
const engineFilters = (externalTables: string[]) => ({ externalTables: externalTables.map((name) => `public.${name}`), externalEnums: [] });

/**
 * Prisma's schema engine on a pool of one connection to `url`, for the duration of `work`; its failures become
 * PRISMA_ENGINE_FAILED with the engine's own message.
 */
export async function withSchemaEngine<T>(
  url: DatabaseUrl,
  schemaPath: string,
  content: string,
  work: (engine: SchemaEngine, version: string) => Promise<T>,
): Promise<T> {
  const { engine: glue, version } = await loadEngine();
  const pool = createPool(url, { max: 1, applicationName: 'todo-db prisma schema engine' });
  try {
    const adapter = await migrationAdapter(pool);
    // The engine's log lines (JSON, "Starting schema-engine-wasm" and the like) say nothing a user needs.
    const engine = await glue.SchemaEngine.new({ datamodels: [[schemaPath, content]] }, () => {}, adapter);
    try {
      return await work(engine, version);
    } finally {
      engine.free();
    }
  } catch (error) {
    throw engineFailed(error, schemaPath, version);
  } finally {
    // The adapter never ends a pool it was given; left open, its idle client would keep the process alive.
    await pool.end().catch(() => {});
  }
}

export interface DraftScripts {
  /** From the database's schema to schema.prisma's. */
  up: string;
  /** Back again. */
  down: string;
  engineVersion: string;
}

/**
 * The SQL from what `databaseUrl` holds to what schema.prisma says, and back, computed by Prisma's engine.
 * The engine cannot diff a live database through adapter-pg directly (its `schemaDatasource` source is the
 * one that trips on "char" columns without the adapter's fix, and `migrations` needs a script runner that does
 * not split on ';'), so it introspects the database into a datamodel, as `prisma db pull` does, and diffs the two
 * datamodels both ways, offline. The history table is not a model: introspection leaves _prisma_migrations out.
 */
export async function draftScripts(databaseUrl: DatabaseUrl, schemaPath: string, content: string, externalTables: string[] = []): Promise<DraftScripts> {
  return withSchemaEngine(databaseUrl, schemaPath, content, async (engine, version) => {
    const target = [{ path: schemaPath, content }];
    // force: names come from the database alone, so nothing of the new schema leaks into the "before" side.
    const introspected = await engine.introspect({
      schema: { files: [{ path: schemaPath, content: DATASOURCE_ONLY }] },
      baseDirectoryPath: path.dirname(schemaPath),
      force: true,
      compositeTypeDepth: -1,
      namespaces: null,
    });
    const before = introspected.schema.files;
    const diff = (from: typeof target, to: typeof target) =>
      engine.diff({
        from: { tag: 'schemaDatamodel', files: from },
        to: { tag: 'schemaDatamodel', files: to },
        script: true,
        exitCode: null,
        filters: engineFilters(externalTables),
      });
    const [up, down] = [await diff(before, target), await diff(target, before)];
    return { up: up.stdout ?? '', down: down.stdout ?? '', engineVersion: version };
  });
}

const DATASOURCE_ONLY = 'datasource db {\n  provider = "postgresql"\n}\n';

export async function readSchema(schemaPath: string): Promise<string> {
  try {
    return await readFile(schemaPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw usageError(
      'PRISMA_SCHEMA_NOT_FOUND',
      `There is no schema.prisma at ${schemaPath}: todo-db looks for it next to the migrations folder.`,
      'Point --migrations-dir at the migrations folder inside a prisma/ folder that also holds schema.prisma.',
    );
  }
}

/**
 * Imported here and only here, so no other command pays for the adapter's modules. adapter-pg has no column
 * type for `"char"` (OID 18), which the engine's catalog queries (introspection) select from pg_class.relkind,
 * pg_constraint.contype and others, and the engine reads those columns as Character. So the pool's connections
 * report such fields as text (which adapter-pg accepts) and remember where they were, and the adapter's results
 * name those columns Character again.
 */
export async function migrationAdapter(pool: pg.Pool): Promise<object> {
  const [{ PrismaPg }, { bindMigrationAwareSqlAdapterFactory, ColumnTypeEnum }] = await Promise.all([
    import('@prisma/adapter-pg'),
    import('@prisma/driver-adapter-utils'),
  ]);
  pool.on('connect', reportCharAsText);
  const factory = new PrismaPg(pool);
  const connect = factory.connect.bind(factory);
  factory.connect = async () => restoreCharColumns(await connect(), ColumnTypeEnum.Character);
  return bindMigrationAwareSqlAdapterFactory(factory);
}

const CHAR_OID = 18;
const TEXT_OID = 25;
/** The rows array of a result is handed on unchanged by adapter-pg, so it keys the columns that were "char". */
const charColumns = new WeakMap<object, number[]>();

function reportCharAsText(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const retype = (result: unknown) => {
    const { fields = [], rows } = (result ?? {}) as Partial<pg.QueryResult>;
    const indexes = fields.flatMap((field, index) => (field.dataTypeID === CHAR_OID ? [index] : []));
    for (const index of indexes) (fields[index] as pg.FieldDef).dataTypeID = TEXT_OID;
    if (indexes.length > 0 && rows) charColumns.set(rows, indexes);
    return result;
  };
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const callback = args.at(-1);
    if (typeof callback === 'function') return query(...args.slice(0, -1), (error: unknown, result: unknown) => callback(error, retype(result)));
    const pending = query(...args);
    return pending instanceof Promise ? pending.then(retype) : pending;
  };
}

interface RawQueryable {
  queryRaw(query: unknown): Promise<{ columnTypes: number[]; rows: unknown[] }>;
  startTransaction?(...args: unknown[]): Promise<RawQueryable>;
}

function restoreCharColumns<T extends object>(queryable: T, character: number): T {
  const target = queryable as unknown as RawQueryable;
  const queryRaw = target.queryRaw.bind(target);
  target.queryRaw = async (query) => {
    const result = await queryRaw(query);
    for (const index of charColumns.get(result.rows) ?? []) result.columnTypes[index] = character;
    return result;
  };
  const startTransaction = target.startTransaction?.bind(target);
  if (startTransaction) target.startTransaction = async (...args) => restoreCharColumns(await startTransaction(...args), character);
  return queryable;
}

async function applySchemaSql(url: DatabaseUrl, sql: string, schemaPath: string, environment: Environment): Promise<void> {
  await withConnection(url, { environment, applicationName: 'todo-db prisma schema' }, async (client) => {
    try {
      await client.query(sql);
    } catch (error) {
      throw new TodoDbError({
        code: 'PRISMA_SCHEMA_SQL_FAILED',
        message: `PostgreSQL refused the SQL that Prisma generates for ${schemaPath}: ${(error as Error).message}.`,
        hint: 'Check that schema.prisma uses only types and defaults this PostgreSQL supports (npx prisma migrate diff --from-empty --to-schema prisma/schema.prisma --script shows the SQL).',
        cause: error,
      });
    }
  });
}

/** Array columns compare as nullable on both sides: schema.prisma cannot say otherwise (see NOT_COMPARED). */
function withoutArrayNullability(catalog: Catalog): Catalog {
  const tables = catalog.tables.map((table) => ({
    ...table,
    columns: table.columns.map((column) => (column.type.endsWith('[]') ? { ...column, nullable: true } : column)),
  }));
  return { ...catalog, tables };
}

function engineFailed(error: unknown, schemaPath: string, version: string): unknown {
  if (error instanceof TodoDbError) return error;
  // A Rust panic reaches JavaScript as "unreachable"; its message went to the panic registry just before.
  const reason = panicked.message ?? ((error as Error).message?.trim() || String(error));
  panicked.message = undefined;
  return new TodoDbError({
    code: 'PRISMA_ENGINE_FAILED',
    message: `Prisma's schema engine (${ENGINE_PACKAGE} ${version}) could not turn ${schemaPath} into SQL: ${reason}`,
    hint: 'If the message points into schema.prisma, fix it there (npx prisma validate checks it). Otherwise the engine version may not suit this Prisma: todo-db pins it in package.json.',
    cause: error,
  });
}

let engineLoading: Promise<{ engine: EngineModule; version: string }> | undefined;

/** Once per process: the wasm-bindgen glue accepts its WebAssembly instance only once. */
export function loadEngine(): Promise<{ engine: EngineModule; version: string }> {
  engineLoading ??= instantiateEngine();
  engineLoading.catch(() => (engineLoading = undefined));
  return engineLoading;
}

/**
 * The package's entry (schema_engine.js) imports the .wasm file as an ES module, which Node 20 cannot load
 * (it needs --experimental-wasm-modules). So its steps are done by hand: import the JS glue, instantiate the
 * .wasm that sits next to it with the glue as its imports, and hand the instance back to the glue. The package
 * stays outside the esbuild bundle, so this finds both files in node_modules at run time, from src/ or dist/.
 */
async function instantiateEngine(): Promise<{ engine: EngineModule; version: string }> {
  const require = createRequire(import.meta.url);
  let gluePath: string;
  try {
    gluePath = require.resolve(GLUE);
  } catch (error) {
    throw new TodoDbError({
      code: 'PRISMA_ENGINE_MISSING',
      message: `${ENGINE_PACKAGE}, which migrate diff --schema uses to read schema.prisma, is not installed.`,
      hint: 'Run npm install in the todo-db package (it is a dependency; an install with --omit or a partial node_modules leaves it out).',
      cause: error,
    });
  }
  try {
    return await instantiateAt(gluePath);
  } catch (error) {
    throw new TodoDbError({
      code: 'PRISMA_ENGINE_FAILED',
      message: `Could not load Prisma's schema engine from ${path.dirname(gluePath)}: ${(error as Error).message}`,
      hint: `The installed ${ENGINE_PACKAGE} may not be the version todo-db pins in package.json, or its files are damaged: run npm ci.`,
      cause: error,
    });
  }
}

/** Where the glue reports a panic's message (it expects this global to exist). */
const panicked: { message?: string } = {};

async function instantiateAt(gluePath: string): Promise<{ engine: EngineModule; version: string }> {
  (globalThis as { PRISMA_WASM_PANIC_REGISTRY?: object }).PRISMA_WASM_PANIC_REGISTRY ??= { set_message: (message: string) => (panicked.message = message) };
  const directory = path.dirname(gluePath);
  // Imported by the resolved file's URL, so the glue is certainly the one next to the .wasm read below. For this
  // 10 MB module V8's background optimisation costs seconds of CPU before the process may exit.
  const [engine, wasm, manifest] = await compiledBaselineOnly(() =>
    Promise.all([
      import(pathToFileURL(gluePath).href) as Promise<EngineModule>,
      readFile(path.join(directory, 'schema_engine_bg.wasm')).then((bytes) => wasmApi.compile(bytes)),
      readFile(path.join(directory, 'package.json'), 'utf8'),
    ]),
  );
  // The glue exports every function the .wasm imports, under the module name wasm-bindgen gave it.
  const imports = Object.fromEntries(wasmApi.Module.imports(wasm).map(({ module }) => [module, engine]));
  const instance = await wasmApi.instantiate(wasm, imports);
  engine.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as (() => void) | undefined)?.();
  return { engine, version: (JSON.parse(manifest) as { version: string }).version };
}
