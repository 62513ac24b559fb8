import type pg from 'pg';
import type { PasswordHashAlgorithm } from '../auth/password.js';
import { describeTarget } from '../config/database-url.js';
import { DEFAULT_EXTERNAL_TABLES } from '../config/external-tables.js';
import { usageError } from '../errors.js';
import { seedDev, type SeedReport } from '../seed/dev.js';
import { Migrator, type StepResult } from './migrator.js';
import { inTransaction } from '../db/transaction.js';
import { onLive, withLock, type HistoryJobOptions } from './resolve.js';

export interface ResetOptions extends HistoryJobOptions {
  /** Asks the user (on a terminal) or says whether --yes was given; false refuses. */
  confirm: (question: string) => Promise<boolean>;
  passwordHash?: PasswordHashAlgorithm;
  bcryptCost?: number;
}

export interface DroppedObject {
  kind: 'table' | 'view' | 'materialized view' | 'sequence' | 'type' | 'function' | 'procedure';
  name: string;
}

export interface ResetReport {
  dropped: DroppedObject[];
  /** External tables left in place, and what could not be dropped because they depend on it. */
  kept: string[];
  applied: StepResult[];
  seed: SeedReport;
}

/**
 * `migrate reset`: schema public back to what the migrations build, for development and test. Everything in it
 * but the external tables goes (in one transaction, under the migration lock), then every migration is applied
 * and seed-dev runs.
 */
export async function resetDatabase(options: ResetOptions): Promise<ResetReport> {
  const environment = options.environment ?? 'development';
  if (environment === 'production') {
    throw usageError('PRODUCTION_REFUSED', 'migrate reset drops every table in schema public and its data, so it never runs when ENVIRONMENT is production.', 'Reset a development or test database: set ENVIRONMENT=development (or test) and point DATABASE_URL at it.');
  }
  if (!(await options.confirm(`Drop every object in schema public of ${describeTarget(options.url)} but the external tables, with its data?`))) {
    throw usageError('CONFIRMATION_REQUIRED', 'migrate reset drops every table in schema public (but the external ones) and its data, and it was not confirmed.', 'Run it with --yes if you mean it (required when stdin is not a terminal).');
  }
  // Better Auth's tables (the external-tables setting) share the database and are not ours to drop.
  const external = options.externalTables ?? [...DEFAULT_EXTERNAL_TABLES];
  const { dropped, kept } = await onLive(options, (client) => withLock(options, client, () => inTransaction(client, () => dropOwnObjects(client, external))));
  const applied = (await new Migrator({ url: options.url, migrationsDir: options.migrationsDir, environment, lockTimeoutMs: options.lockTimeoutMs, log: options.log }).up()).applied;
  const seed = await seedDev({ url: options.url, environment, passwordHash: options.passwordHash, bcryptCost: options.bcryptCost });
  return { dropped, kept, applied, seed };
}

interface ObjectRow {
  kind: DroppedObject['kind'];
  name: string;
  identity: string;
}

/**
 * Tables first (CASCADE also removes the foreign keys external tables hold on them, and views on them), then
 * what is left of views, sequences, types and functions. Those drop without CASCADE, each in a savepoint: one
 * an external table still uses (a column's enum, a trigger's function) is kept, and said so. Objects that belong
 * to an extension are the extension's, and stay.
 */
async function dropOwnObjects(client: pg.Client, external: string[]): Promise<{ dropped: DroppedObject[]; kept: string[] }> {
  const dropped: DroppedObject[] = [];
  const tables = (await listObjects(client)).filter((row) => row.kind === 'table');
  const kept = tables.filter((row) => external.includes(row.name)).map((row) => `table ${row.name} (external)`);
  for (const row of tables.filter((candidate) => !external.includes(candidate.name))) {
    await client.query(`drop table if exists ${row.identity} cascade`);
    dropped.push({ kind: row.kind, name: row.name });
  }
  for (const row of (await listObjects(client)).filter((candidate) => candidate.kind !== 'table')) {
    try {
      await client.query('savepoint todo_db_reset');
      await client.query(`drop ${row.kind} ${row.identity}`);
      await client.query('release savepoint todo_db_reset');
      dropped.push({ kind: row.kind, name: row.name });
    } catch (error) {
      if ((error as { code?: string }).code !== '2BP01') throw error;
      await client.query('rollback to savepoint todo_db_reset');
      kept.push(`${row.kind} ${row.name} (an external table depends on it)`);
    }
  }
  return { dropped, kept };
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
