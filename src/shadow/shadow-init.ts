import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import type { DatabaseUrl } from '../config/database-url.js';
import type { ShadowInit } from '../config/external-tables.js';
import type { JobOptions } from '../config/job-options.js';
import { TodoDbError, usageError } from '../core/errors.js';
import { withConnection } from '../db/connect.js';
import { displayPath, failureOffset } from '../migrations/errors.js';
import { type ExternalDefinitions, readExternalDefinitions } from '../schema/external-definitions.js';
import { lineColumnAt, loadSqlParser, type ParsedStatement, SqlSyntaxError } from '../sql/parser.js';

/** What other tools own, which a shadow database must hold before the migrations run. */
export interface ShadowPrerequisites extends Pick<JobOptions, 'environment' | 'log'> {
  /** The live database, where the external tables' definitions are read from. */
  url: DatabaseUrl;
  externalTables?: string[];
  shadowInit?: ShadowInit;
}

const SETTINGS_HINT = 'TODO_DB_EXTERNAL_TABLES or package.json "todo-db": { "externalTables": [...] }';
const INIT_HINT = 'TODO_DB_SHADOW_INIT or package.json "todo-db": { "shadowInit": "<file>.sql" }';

/**
 * Prisma's order: the shadow-database initialisation first, then the migrations. The project's SQL file when
 * it names one (it then says everything the shadow needs), else the external tables' definitions copied from
 * the live database. Undefined when neither is configured: no connection to the live database is opened.
 *
 * The reading starts at once (the caller creates the shadow database meanwhile); the returned function applies
 * it to the shadow, and reports a failed read there.
 */
export function shadowPreparation(options: ShadowPrerequisites): ((shadow: pg.Client) => Promise<void>) | undefined {
  const { shadowInit, externalTables = [] } = options;
  if (!shadowInit && externalTables.length === 0) return undefined;
  const ready: Promise<(shadow: pg.Client) => Promise<void>> = shadowInit
    ? readInitFile(shadowInit).then((file) => (shadow) => runInitFile(shadow, shadowInit, file, options.log))
    : readFromLive(options, externalTables).then((definitions) => (shadow) => copyExternalTables(shadow, definitions, options.log));
  ready.catch(() => {});
  return async (shadow) => (await ready)(shadow);
}

interface InitFile {
  sql: string;
  statements: ParsedStatement[];
}

/** PostgreSQL's own parser splits the file, as migrations are split, so a failure can name its line. */
async function readInitFile(init: ShadowInit): Promise<InitFile> {
  const parsing = loadSqlParser();
  parsing.catch(() => {});
  const sql = await readFile(init.path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw usageError(
      'SHADOW_INIT_NOT_FOUND',
      `The shadow-database init file ${displayPath(init.path)} (set by ${init.source}) cannot be read: ${error.code ?? error.message}.`,
      `Create it with the SQL that makes the tables other tools own, or point ${INIT_HINT} at the right file.`,
    );
  });
  try {
    return { sql, statements: (await parsing).parse(sql) };
  } catch (error) {
    if (!(error instanceof SqlSyntaxError)) throw error;
    throw initFailed(init, sql, error.offset, `${error.message} (SQLSTATE 42601)`, error);
  }
}

/** Statement by statement; the shadow is thrown away after use, so no transaction is needed around them. */
async function runInitFile(shadow: pg.Client, init: ShadowInit, { sql, statements }: InitFile, log: ShadowPrerequisites['log']): Promise<void> {
  for (const statement of statements) {
    try {
      await shadow.query(statement.sql);
    } catch (error) {
      const pgError = error as { message: string; code?: string };
      const offset = failureOffset(error, { text: statement.sql, offset: statement.offset }, statement.offset);
      throw initFailed(init, sql, offset, `${pgError.message}${pgError.code ? ` (SQLSTATE ${pgError.code})` : ''}`, error);
    }
  }
  log?.(`Ran the shadow-database init file ${displayPath(init.path)} (${statements.length} statement(s)).`);
}

function initFailed(init: ShadowInit, sql: string, offset: number | undefined, reason: string, cause: unknown): TodoDbError {
  const where = offset === undefined ? '' : `:${lineColumnAt(sql, offset).line}:${lineColumnAt(sql, offset).column}`;
  return new TodoDbError({
    code: 'SHADOW_INIT_FAILED',
    message: `The shadow-database init file ${displayPath(init.path)}${where} failed in the shadow database, before any migration: ${reason}. The live database was not changed.`,
    hint: `Fix ${displayPath(init.path)} (set by ${init.source}): it runs in an empty database, so it must create everything it uses.`,
    cause,
  });
}

function readFromLive(options: ShadowPrerequisites, names: string[]): Promise<ExternalDefinitions> {
  return withConnection(options.url, { environment: options.environment, applicationName: 'todo-db shadow' }, (live) => readExternalDefinitions(live, names));
}

async function copyExternalTables(shadow: pg.Client, definitions: ExternalDefinitions, log: ShadowPrerequisites['log']): Promise<void> {
  if (definitions.absent.length > 0) log?.(`External tables not in the live database, so not in the shadow either: ${definitions.absent.join(', ')}.`);
  if (definitions.leftOut.length > 0) log?.(`Left out of the shadow (they reference tables the migrations make): ${definitions.leftOut.join(', ')}.`);
  for (const statement of definitions.statements) {
    try {
      await shadow.query(statement);
    } catch (error) {
      throw new TodoDbError({
        code: 'SHADOW_EXTERNAL_TABLES_FAILED',
        message: `Copying the external tables (${definitions.tables.join(', ')}) from the live database into the shadow database failed, before any migration: ${(error as Error).message}, at: ${statement}. The live database was not changed.`,
        hint: `Write what the shadow database needs of them (CREATE TABLE ... and what those use) in a SQL file and name it with ${INIT_HINT}: it replaces the copy.`,
        cause: error,
      });
    }
  }
  if (definitions.tables.length > 0) log?.(`Copied the external tables into the shadow database: ${definitions.tables.join(', ')}.`);
}

/**
 * A migration that failed in the shadow database, not live: said so, with what usually causes it (an object
 * another tool owns that the shadow lacks) and what to do. The migration's own error stays the cause, and its
 * text (file:line, PostgreSQL's message) is kept.
 */
export function shadowMigrationFailed(error: TodoDbError, migration: string | undefined, options: ShadowPrerequisites): TodoDbError {
  const pgError = serverError(error);
  const which = migration ? `Migration ${migration}` : 'A migration';
  return new TodoDbError({
    code: 'SHADOW_MIGRATION_FAILED',
    message: `${which} failed in the shadow database (a temporary database todo-db builds from the migrations to compare with), not in the live database, which was not changed: ${error.message}`,
    hint: shadowHint(pgError?.code, quotedName(pgError?.message), options),
    cause: error,
  });
}

const MISSING_OBJECT = new Set(['42P01', '42704', '42883', '3F000', '42703']);

function shadowHint(code: string | undefined, name: string | undefined, options: ShadowPrerequisites): string {
  const external = options.externalTables ?? [];
  const object = name ? `"${name}"` : 'the object it names';
  if (code === '42P07' && name && external.includes(name) && !options.shadowInit) {
    return `${object} is listed as an external table, so the shadow copies it from the live database, but a migration creates it: take it off ${SETTINGS_HINT}.`;
  }
  if (!code || !MISSING_OBJECT.has(code))
    return 'The migrations do not apply cleanly to an empty database: fix the migration (todo-db migrate up on a fresh database shows the same failure).';
  if (options.shadowInit)
    return `The shadow database has only what the migrations and the init file ${displayPath(options.shadowInit.path)} (${options.shadowInit.source}) make: add ${object} to that file if another tool owns it.`;
  if (name && external.includes(name)) {
    return `${object} is listed as an external table but the live database has no such table, so there was nothing to copy: create it there (run the tool that owns it), or write its definition in a SQL file named by ${INIT_HINT}.`;
  }
  return `No migration makes ${object}. If another tool owns it, name the table in ${SETTINGS_HINT}, so the shadow gets its definition from the live database, or write the definitions in a SQL file named by ${INIT_HINT}.`;
}

/** PostgreSQL's own error, wherever it sits in the chain of causes. */
function serverError(error: unknown): { code?: string; message?: string } | undefined {
  for (let at = error as { code?: unknown; cause?: unknown } | undefined; at; at = at.cause as typeof at) {
    if (typeof at.code === 'string' && /^[0-9A-Z]{5}$/.test(at.code)) return at as { code: string; message?: string };
  }
  return undefined;
}

/** PostgreSQL names the missing object in double quotes ('relation "audit_log" does not exist'). */
function quotedName(message: string | undefined): string | undefined {
  const name = message?.match(/"([^"]+)"/)?.[1];
  return name?.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name;
}
