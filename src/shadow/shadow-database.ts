import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type DatabaseUrl, describeTarget } from '../config/database-url.js';
import type { ShadowInit } from '../config/external-tables.js';
import type { JobOptions } from '../config/job-options.js';
import { TodoDbError, usageError } from '../core/errors.js';
import { registerUndo } from '../core/interruption.js';
import { connect, withConnection } from '../db/connect.js';
import { Migrator } from '../migrations/index.js';
import { shadowMigrationFailed, shadowPreparation } from './shadow-init.js';

/** Aborting (signal) stops before the next step; the shadow database is still dropped. (The CLI drops it on a signal through registerUndo.) */
export interface ShadowOptions extends JobOptions {
  shadowDatabaseUrl?: DatabaseUrl;
  /** Tables other tools own: their definitions are copied from `url` into the shadow first, unless shadowInit. */
  externalTables?: string[];
  /** A SQL file run in the shadow first, instead of that copy. */
  shadowInit?: ShadowInit;
}

const SHADOW_DATABASE_PREFIX = 'todo_db_shadow_';

/**
 * Creates a temporary database next to `url` (or uses shadowDatabaseUrl, which must be empty, and wipes it
 * after), gives it what other tools own (prepareShadow), applies every migration in it with the engine
 * (Migrator from src/migrations), runs fn with its URL, and always drops it.
 */
export async function withShadowDatabase<T>(options: ShadowOptions, fn: (shadowUrl: DatabaseUrl) => Promise<T>): Promise<T> {
  return withScratchDatabase(options, async (shadowUrl) => {
    const started = performance.now();
    // The same engine as `migrate up`, so the shadow is exactly what the history produces here.
    const migrator = new Migrator({ url: shadowUrl, migrationsDir: options.migrationsDir, environment: options.environment, unshared: true });
    const report = await inShadow(
      options,
      () => migrator.up(),
      () => failedMigration(shadowUrl, options),
    );
    options.log?.(`Applied ${report.applied.length} migration(s) to the shadow database in ${Math.round(performance.now() - started)} ms.`);
    stopIfAborted(options.signal);
    return fn(shadowUrl);
  });
}

/**
 * The shadow database with what other tools own in it but no migration applied: for building it one migration
 * at a time (prefix-schemas), and for migrate diff --schema's second shadow.
 */
export async function withScratchDatabase<T>(options: Omit<ShadowOptions, 'migrationsDir'>, fn: (scratchUrl: DatabaseUrl) => Promise<T>): Promise<T> {
  // Read while the database is being created: the two waits overlap.
  const prepare = shadowPreparation(options);
  const prepared = async (url: DatabaseUrl) => {
    if (prepare) await onDatabase(url, options, prepare);
    stopIfAborted(options.signal);
    return fn(url);
  };
  if (options.shadowDatabaseUrl) return withGivenDatabase(options.shadowDatabaseUrl, options, prepared);
  return withTemporaryDatabase(options, prepared);
}

/**
 * Runs migrations in the shadow: a migration that fails there is reported as a shadow failure (its own code,
 * what usually causes it), never as if the live migration had failed.
 */
export async function inShadow<T>(
  options: Omit<ShadowOptions, 'migrationsDir'>,
  run: () => Promise<T>,
  migration: () => Promise<string | undefined>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof TodoDbError) || error.code !== 'MIGRATION_FAILED') throw error;
    throw shadowMigrationFailed(error, await migration().catch(() => undefined), options);
  }
}

/** The history row a failed run leaves (Prisma's format: not finished, with logs), in the shadow. */
async function failedMigration(shadowUrl: DatabaseUrl, options: Omit<ShadowOptions, 'migrationsDir'>): Promise<string | undefined> {
  return onDatabase(shadowUrl, options, async (client) => {
    const { rows } = await client.query<{ name: string }>(
      'select migration_name as name from _prisma_migrations where finished_at is null order by started_at desc limit 1',
    );
    return rows[0]?.name;
  });
}

async function withTemporaryDatabase<T>(options: Omit<ShadowOptions, 'migrationsDir'>, fn: (url: DatabaseUrl) => Promise<T>): Promise<T> {
  const name = `${SHADOW_DATABASE_PREFIX}${randomBytes(6).toString('hex')}`;
  stopIfAborted(options.signal);
  let started = performance.now();
  // One connection to the server creates the database and, held idle meanwhile, drops it: a connection less.
  const server = connect(options.url, { environment: options.environment, applicationName: 'todo-db shadow' }).then(({ client }) => client);
  server.catch(() => {});
  // FORCE ends any connection still open on it (fn's, or the one a signal cut short), so the drop cannot fail
  // on "being accessed by other users". Should the held connection have gone, a new one drops it.
  const dropSql = `drop database if exists ${pg.escapeIdentifier(name)} with (force)`;
  const drop = async () => {
    const client = await server;
    try {
      await client.query(dropSql).catch(() => onServer(options, async (fresh) => void (await fresh.query(dropSql))));
    } finally {
      await client.end().catch(() => {});
    }
  };
  const creating = server.then((client) => createDatabase(client, name, options.url));
  // Registered before CREATE DATABASE returns: a signal now waits for it to finish, then drops it.
  const withdraw = registerUndo(`the shadow database ${name}`, () => creating.then(drop, () => {}));
  try {
    await creating;
  } catch (error) {
    withdraw();
    await server
      .then(
        (client) => client.end(),
        () => {},
      )
      .catch(() => {});
    throw error;
  }
  options.log?.(`Created the shadow database ${name} in ${Math.round(performance.now() - started)} ms.`);
  const shadowUrl: DatabaseUrl = { ...options.url, database: name, variable: `the shadow database ${name}`, warnings: [] };
  return afterwards(
    () => fn(shadowUrl),
    options.log,
    async () => {
      started = performance.now();
      await drop();
      withdraw();
      options.log?.(`Dropped the shadow database ${name} in ${Math.round(performance.now() - started)} ms.`);
    },
  );
}

/** A database the user named: refused unless empty, since everything in schema public is dropped afterwards. */
async function withGivenDatabase<T>(url: DatabaseUrl, options: Omit<ShadowOptions, 'migrationsDir'>, fn: (url: DatabaseUrl) => Promise<T>): Promise<T> {
  await onDatabase(url, options, (client) => refuseNonEmpty(client, url));
  const wipe = () => onDatabase(url, options, wipePublicSchema);
  const withdraw = registerUndo(`everything in schema public of the shadow database ${describeTarget(url)}`, wipe);
  return afterwards(
    () => fn(url),
    options.log,
    async () => {
      await wipe();
      withdraw();
      options.log?.(`Wiped schema public in ${describeTarget(url)}.`);
    },
  );
}

function stopIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  throw new TodoDbError({
    code: 'INTERRUPTED',
    kind: 'interrupted',
    message: 'Interrupted; the shadow database was removed.',
    hint: 'Run the command again when you are ready.',
  });
}

/**
 * Runs cleanup whatever the work did. When both fail, the work's error is the one worth reporting; the
 * cleanup's failure is only logged then.
 */
async function afterwards<T>(work: () => Promise<T>, log: ((line: string) => void) | undefined, cleanup: () => Promise<void>): Promise<T> {
  let value: T;
  try {
    value = await work();
  } catch (error) {
    await cleanup().catch((cleanupError: unknown) => log?.(`Cleaning up the shadow database failed too: ${(cleanupError as Error).message}`));
    throw error;
  }
  await cleanup();
  return value;
}

async function createDatabase(client: pg.Client, name: string, url: DatabaseUrl): Promise<void> {
  try {
    await client.query(`create database ${pg.escapeIdentifier(name)}`);
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw error;
    throw new TodoDbError({
      code: 'SHADOW_DATABASE_UNAVAILABLE',
      message: `Could not create a temporary shadow database on ${describeTarget(url)}: role "${url.user}" has no permission to create databases (it lacks CREATEDB).`,
      hint: 'Pass --shadow-database-url <url of an empty database> to use an existing empty database instead (its schema public is wiped afterwards), or grant the role CREATEDB.',
      cause: error,
    });
  }
}

async function refuseNonEmpty(client: pg.Client, url: DatabaseUrl): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f') order by c.relname collate "C" limit 5`,
  );
  if (rows.length === 0) return;
  throw usageError(
    'SHADOW_DATABASE_NOT_EMPTY',
    `The shadow database ${describeTarget(url)} is not empty: schema public holds ${rows.map((row) => row.name).join(', ')}${rows.length === 5 ? ', …' : ''}. todo-db wipes the shadow database after use, so it refuses one that holds anything.`,
    'Point --shadow-database-url at an empty database made for this (createdb todo_shadow), never at one with data.',
  );
}

/**
 * Dropping and recreating the schema removes everything the migrations made, in any order of dependencies.
 * The schema's owner and grants are restored to what PostgreSQL gives a new database.
 */
async function wipePublicSchema(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ owner: string }>(`select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = 'public'`);
  await client.query('drop schema if exists public cascade; create schema public; grant usage on schema public to public');
  const owner = rows[0]?.owner;
  if (owner) await client.query(`alter schema public owner to ${pg.escapeIdentifier(owner)}`).catch(() => {});
}

/** A connection to the server itself, through the target database (we cannot assume "postgres" exists). */
async function onServer<T>(options: Omit<ShadowOptions, 'migrationsDir'>, work: (client: pg.Client) => Promise<T>): Promise<T> {
  return onDatabase(options.url, options, work);
}

function onDatabase<T>(url: DatabaseUrl, options: Omit<ShadowOptions, 'migrationsDir'>, work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withConnection(url, { environment: options.environment, applicationName: 'todo-db shadow' }, work);
}
