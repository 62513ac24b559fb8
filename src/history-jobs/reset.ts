import type pg from 'pg';
import type { PasswordHashAlgorithm } from '../auth/password.js';
import { describeTarget } from '../config/database-url.js';
import { usageError } from '../core/errors.js';
import { inTransaction } from '../db/transaction.js';
import { readMigrations } from '../migrations/folder.js';
import { Migrator, type StepResult } from '../migrations/migrator.js';
import { withLockedSession } from '../migrations/session.js';
import { type SeedReport, seedDev } from '../seed/dev.js';
import { afterEachMigration } from '../shadow/prefix-schemas.js';
import type { HistoryJobOptions } from './resolve.js';

export interface ResetOptions extends HistoryJobOptions {
  /** Asks the user (on a terminal) or says whether --yes was given; false refuses. */
  confirm: (question: string) => Promise<boolean>;
  passwordHash?: PasswordHashAlgorithm;
  bcryptCost?: number;
  /** Names of objects in schema public that no migration creates, to drop all the same (--drop). */
  drop?: string[];
}

export interface DroppedObject {
  kind: 'table' | 'view' | 'materialized view' | 'sequence' | 'type' | 'function' | 'procedure';
  name: string;
  /** Not dropped by name: it went with a dropped table it depended on (a view on it, a table inheriting from it). */
  cascaded?: true;
}

export interface ResetReport {
  dropped: DroppedObject[];
  /** What stayed, each with why: no migration creates it (an external table, one made by hand), or a kept table uses it. */
  kept: string[];
  applied: StepResult[];
  seed: SeedReport;
}

/**
 * `migrate reset`: schema public back to what the migrations build, for development and test. What the
 * migrations create goes, and only that (with what --drop names): a table another tool made (an audit log
 * whose setting lives in another workspace package) stays whatever the settings say. Then every migration is applied
 * and seed-dev runs.
 *
 * "What the migrations create" is what a shadow database holds after each migration, applied one at a time
 * by migrate up's engine: every table, view, sequence, type and function some migration made (including those a
 * later one drops or renames, which the live database may still hold), less what the shadow held before the
 * first (the external tables copied into it). Exact where reading the SQL would not be: DO blocks, functions
 * that create tables, CREATE TABLE AS.
 */
export async function resetDatabase(options: ResetOptions): Promise<ResetReport> {
  const { environment } = options;
  if (environment === 'production') {
    throw usageError(
      'PRODUCTION_REFUSED',
      'migrate reset drops every table the migrations create, with its data, so it never runs when ENVIRONMENT is production.',
      'Reset a development or test database: set ENVIRONMENT=development (or test) and point DATABASE_URL at it.',
    );
  }
  const named = [...new Set(options.drop ?? [])];
  const also = named.length > 0 ? ` and ${named.join(', ')}` : '';
  if (!(await options.confirm(`Drop every object the migrations create in schema public of ${describeTarget(options.url)}${also}, with its data?`))) {
    throw usageError(
      'CONFIRMATION_REQUIRED',
      `migrate reset drops every table the migrations create${also}, with its data, and it was not confirmed.`,
      'Run it with --yes if you mean it (required when stdin is not a terminal).',
    );
  }
  const external = options.externalTables ?? [];
  const { dropped, kept } = await withLockedSession(options, async (session) => {
    // After the session's pooler refusal: nothing, not even the shadow, is built through a transaction-mode pooler.
    const created = await objectsTheMigrationsCreate(options);
    return session.locked({ create: false }, () => inTransaction(session.client, () => dropCreatedObjects(session.client, { created, named, external })));
  });
  const applied = (
    await new Migrator({ url: options.url, migrationsDir: options.migrationsDir, environment, lockTimeoutMs: options.lockTimeoutMs, log: options.log }).up()
  ).applied;
  const seed = await seedDev({ url: options.url, environment, passwordHash: options.passwordHash, bcryptCost: options.bcryptCost });
  return { dropped, kept, applied, seed };
}

interface ObjectRow {
  kind: DroppedObject['kind'];
  name: string;
  identity: string;
}

const keyOf = (row: ObjectRow) => `${row.kind} ${row.identity}`;

/** Keys (kind and identity) of what some migration creates; the history table is the migrator's, so it counts. */
async function objectsTheMigrationsCreate(options: ResetOptions): Promise<Set<string>> {
  const { before, after } = await afterEachMigration(options, readMigrations(options.migrationsDir), listObjects);
  const there = new Set(before.map(keyOf));
  return new Set(
    after
      .flat()
      .map(keyOf)
      .filter((key) => !there.has(key)),
  );
}

interface DropPlan {
  created: Set<string>;
  /** --drop: names, whatever their kind. */
  named: string[];
  external: string[];
}

/**
 * Tables first (CASCADE also removes the foreign keys kept tables hold on them, and views on them), then what
 * is left of views, sequences, types and functions. Those drop without CASCADE, each in a savepoint: one a kept
 * table still uses (a column's enum, a trigger's function) is kept, and said so. Objects that belong to an
 * extension are the extension's, and stay.
 */
async function dropCreatedObjects(client: pg.Client, plan: DropPlan): Promise<{ dropped: DroppedObject[]; kept: string[] }> {
  const listed = await listObjects(client);
  const unknown = plan.named.filter((name) => !listed.some((row) => row.name === name));
  if (unknown.length > 0) {
    throw usageError(
      'DROP_NOT_FOUND',
      `--drop names ${unknown.map((name) => `"${name}"`).join(', ')}, which schema public does not hold; nothing was dropped.`,
      `Name tables, views, sequences, types or functions as they are in schema public (exact case)${listed.length > 0 ? `: ${listed.map((row) => row.name).join(', ')}` : ''}.`,
    );
  }
  const goes = (row: ObjectRow) => plan.created.has(keyOf(row)) || plan.named.includes(row.name);
  const why = (row: ObjectRow) =>
    `${row.kind} ${row.name} (${row.kind === 'table' && plan.external.includes(row.name) ? 'external' : 'no migration creates it'})`;
  const dropped: DroppedObject[] = [];
  const kept = listed.filter((row) => !goes(row)).map(why);
  const tables = listed.filter((row) => row.kind === 'table' && goes(row));
  for (const row of tables) {
    await client.query(`drop table if exists ${row.identity} cascade`);
    dropped.push({ kind: row.kind, name: row.name });
  }
  const remaining = await listObjects(client);
  const present = new Set(remaining.map(keyOf));
  for (const row of listed.filter((candidate) => candidate.kind !== 'table' || !goes(candidate))) {
    if (!present.has(keyOf(row))) dropped.push({ kind: row.kind, name: row.name, cascaded: true });
  }
  for (const row of remaining.filter((candidate) => candidate.kind !== 'table' && goes(candidate))) {
    try {
      await client.query('savepoint todo_db_reset');
      await client.query(`drop ${row.kind} ${row.identity}`);
      await client.query('release savepoint todo_db_reset');
      dropped.push({ kind: row.kind, name: row.name });
    } catch (error) {
      if ((error as { code?: string }).code !== '2BP01') throw error;
      await client.query('rollback to savepoint todo_db_reset');
      kept.push(`${row.kind} ${row.name} (a kept table depends on it)`);
    }
  }
  return { dropped, kept: kept.filter((line) => !dropped.some((object) => line.startsWith(`${object.kind} ${object.name} (`))) };
}

/** Everything in schema public that is ours: no extension members, no sequences a table owns, no row types. */
async function listObjects(client: pg.Client): Promise<ObjectRow[]> {
  const { rows } = await client.query<ObjectRow>(`
    with own as (
      select c.oid, c.relname as name, case c.relkind when 'r' then 'table' when 'p' then 'table' when 'f' then 'table' when 'v' then 'view' when 'm' then 'materialized view' when 'S' then 'sequence' end as kind,
             format('%I.%I', n.nspname, c.relname) as identity, c.relispartition as partition
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p', 'f', 'v', 'm', 'S')
        and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('e', 'a', 'i'))
      union all
      select t.oid, t.typname, 'type', format('%I.%I', n.nspname, t.typname), false
      from pg_type t join pg_namespace n on n.oid = t.typnamespace
      where n.nspname = 'public' and t.typtype in ('e', 'd', 'c', 'r', 'm') and (t.typtype <> 'c' or exists (select 1 from pg_class c where c.oid = t.typrelid and c.relkind = 'c'))
        and not exists (select 1 from pg_depend d where d.classid = 'pg_type'::regclass and d.objid = t.oid and d.deptype in ('e', 'i'))
      union all
      select p.oid, p.proname, case p.prokind when 'p' then 'procedure' else 'function' end, p.oid::regprocedure::text, false
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public' and p.prokind in ('f', 'p')
        and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
    )
    select kind, name, identity from own where not partition order by kind, name collate "C"`);
  return rows;
}
