import type pg from 'pg';
import type { DatabaseUrl } from '../config/database-url.js';
import type { Environment } from '../config/settings.js';
import { withConnection } from '../db/connect.js';

/**
 * A draft's round trip, run by PostgreSQL itself in the shadow database (which is thrown away afterwards): the
 * draft's migration.sql, then its down.sql. Dropping a column or a table drops with it what schema.prisma cannot
 * express and Prisma's engine therefore never adds back (a CHECK, a trigger, a comment, a default, NOT NULL on an
 * array, a grant, a policy). Whatever the shadow held before and lacks after the round trip is read from the
 * catalog as the SQL that restores it; that SQL is run too, and what still differs is said in words.
 */
export interface RoundTrip {
  /** Statements that put back what down.sql alone loses, in an order that works (constraints before comments). */
  restore: Array<{ kind: RestorableKind; sql: string }>;
  /** What even the restore could not bring back, in words. */
  notRestored: string[];
  /** What the round trip leaves that was not there before, in words. */
  leftBehind: string[];
  /** Tables whose columns come back in another order: PostgreSQL adds a column at the end. */
  reordered: Array<{ table: string; columns: string[] }>;
  /** Each asked column's default after migration.sql, as SQL (null: none). */
  defaultsAfterUp: Map<string, string | null>;
  /** The statement of the draft that PostgreSQL refused in the shadow, if one did: nothing else was checked. */
  failure: string | null;
}

export interface RoundTripInput {
  url: DatabaseUrl;
  environment: Environment;
  up: string[];
  down: string[];
  /** `table.column` whose default after migration.sql is wanted (the SET NOT NULL backfills). */
  defaultsOf: Array<{ table: string; column: string }>;
}

export async function draftRoundTrip({ url, environment, up, down, defaultsOf }: RoundTripInput): Promise<RoundTrip> {
  return withConnection(url, { environment, applicationName: 'todo-db draft round trip' }, async (client) => {
    const before = await readRestorable(client);
    const unchecked = (failure: string, defaultsAfterUp = new Map<string, string | null>()): RoundTrip => ({
      restore: [],
      notRestored: [],
      leftBehind: [],
      reordered: [],
      defaultsAfterUp,
      failure,
    });
    const upFailure = await runEach(client, up);
    if (upFailure) return unchecked(`migration.sql: ${upFailure}`);
    const defaultsAfterUp = await columnDefaults(client, defaultsOf);
    const downFailure = await runEach(client, down);
    if (downFailure) return unchecked(`down.sql: ${downFailure}`, defaultsAfterUp);
    const afterDown = await readRestorable(client);
    const lost = [...before.objects.values()]
      .filter((object) => afterDown.objects.get(object.key)?.sql !== object.sql)
      .sort((a, b) => a.rank - b.rank || a.key.localeCompare(b.key));
    const restore: RoundTrip['restore'] = [];
    const notRestored: string[] = [];
    for (const object of lost) {
      const failed = await runEach(client, [object.sql]);
      if (failed) notRestored.push(`${object.what} (${failed})`);
      else restore.push({ kind: object.key.slice(0, object.key.indexOf(':')) as RestorableKind, sql: `${object.sql};` });
    }
    const afterRestore = await readRestorable(client);
    for (const object of before.objects.values()) {
      if (afterRestore.objects.get(object.key)?.sql !== object.sql && !notRestored.some((line) => line.startsWith(object.what))) notRestored.push(object.what);
    }
    const leftBehind = [...afterRestore.objects.values()].filter((object) => !before.objects.has(object.key)).map((object) => object.what);
    return { restore, notRestored, leftBehind, reordered: reorderedColumns(before.columns, afterRestore.columns), defaultsAfterUp, failure: null };
  });
}

/** Statement by statement, as a no-transaction migration runs: the first PostgreSQL refuses, with its message. */
async function runEach(client: pg.Client, statements: string[]): Promise<string | null> {
  for (const sql of statements) {
    try {
      await client.query(sql);
    } catch (error) {
      return `${(sql.split('\n')[0] ?? '').trim()}: ${(error as Error).message}`;
    }
  }
  return null;
}

/** Columns that are back, but not where they were (a dropped and re-added column comes last). */
function reorderedColumns(before: Map<string, string[]>, after: Map<string, string[]>): RoundTrip['reordered'] {
  return [...before].flatMap(([table, columns]) => {
    const now = after.get(table) ?? [];
    const moved = columns.filter((column, index) => now.includes(column) && now[index] !== column);
    return moved.length > 0 ? [{ table, columns: moved }] : [];
  });
}

async function columnDefaults(client: pg.Client, columns: RoundTripInput['defaultsOf']): Promise<Map<string, string | null>> {
  if (columns.length === 0) return new Map();
  const { rows } = await client.query<{ key: string; expression: string | null }>(
    `select c.rel || '.' || c.col as key, pg_get_expr(d.adbin, d.adrelid) as expression
       from unnest($1::text[], $2::text[]) c(rel, col)
       left join pg_attribute a on a.attrelid = to_regclass(quote_ident(c.rel)) and a.attname = c.col
       left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum`,
    [columns.map((column) => column.table), columns.map((column) => column.column)],
  );
  return new Map(rows.map((row) => [row.key, row.expression]));
}

export type RestorableKind = 'default' | 'notnull' | 'constraint' | 'index' | 'trigger' | 'security' | 'policy' | 'comment' | 'grant';

interface Restorable {
  key: string;
  /** The statement that creates it as it is now. */
  sql: string;
  /** In words, for what cannot be restored. */
  what: string;
  /** Restore order: defaults and NOT NULL, keys, CHECKs, foreign keys, indexes, triggers, security, comments, grants. */
  rank: number;
}

async function readRestorable(client: pg.Client): Promise<{ objects: Map<string, Restorable>; columns: Map<string, string[]> }> {
  const { rows } = await client.query<Restorable>(RESTORABLE_SQL);
  const { rows: columns } = await client.query<{ table: string; columns: string[] }>(COLUMN_ORDER_SQL);
  return { objects: new Map(rows.map((row) => [row.key, row])), columns: new Map(columns.map((row) => [row.table, row.columns])) };
}

const IN_PUBLIC = `n.nspname = 'public' and c.relname <> '_prisma_migrations'`;

/**
 * Everything on the tables of schema public that a dropped column or table takes along, each as the statement that
 * creates it again and a key that names it. Read the same way before and after, so a change shows as a new
 * statement under the same key.
 */
const RESTORABLE_SQL = `
select 'default:' || c.relname || '.' || a.attname as key, 0 as rank,
       format('ALTER TABLE %I ALTER COLUMN %I SET DEFAULT %s', c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid)) as sql,
       format('the default of %s.%s', c.relname, a.attname) as what
  from pg_attrdef d join pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
  join pg_class c on c.oid = d.adrelid join pg_namespace n on n.oid = c.relnamespace
 where ${IN_PUBLIC} and a.attgenerated = '' and a.attidentity = '' and not a.attisdropped
union all
select 'notnull:' || c.relname || '.' || a.attname, 0, format('ALTER TABLE %I ALTER COLUMN %I SET NOT NULL', c.relname, a.attname),
       format('NOT NULL on %s.%s', c.relname, a.attname)
  from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
 where ${IN_PUBLIC} and c.relkind in ('r', 'p') and a.attnum > 0 and a.attnotnull and not a.attisdropped
union all
select 'constraint:' || c.relname || '.' || co.conname, case co.contype when 'p' then 1 when 'u' then 1 when 'x' then 1 when 'c' then 2 else 3 end,
       format('ALTER TABLE %I ADD CONSTRAINT %I %s', c.relname, co.conname, pg_get_constraintdef(co.oid)),
       format('constraint %s on %s', co.conname, c.relname)
  from pg_constraint co join pg_class c on c.oid = co.conrelid join pg_namespace n on n.oid = c.relnamespace
 where ${IN_PUBLIC} and co.contype in ('p', 'u', 'x', 'c', 'f')
union all
select 'index:' || ic.relname, 4, pg_get_indexdef(i.indexrelid), format('index %s on %s', ic.relname, c.relname)
  from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
 where ${IN_PUBLIC} and not exists (select 1 from pg_constraint co where co.conindid = i.indexrelid and co.contype in ('p', 'u', 'x'))
union all
select 'trigger:' || c.relname || '.' || t.tgname, 5, pg_get_triggerdef(t.oid), format('trigger %s on %s', t.tgname, c.relname)
  from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
 where ${IN_PUBLIC} and not t.tgisinternal
union all
select 'security:' || c.relname || '.' || s.what, 6, format('ALTER TABLE %I %s ROW LEVEL SECURITY', c.relname, s.what), format('%s row level security on %s', lower(s.what), c.relname)
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  cross join lateral (values ('ENABLE', c.relrowsecurity), ('FORCE', c.relforcerowsecurity)) s(what, applies)
 where ${IN_PUBLIC} and c.relkind in ('r', 'p') and s.applies
union all
select 'policy:' || c.relname || '.' || p.polname, 6,
       format('CREATE POLICY %I ON %I AS %s FOR %s TO %s', p.polname, c.relname, case when p.polpermissive then 'PERMISSIVE' else 'RESTRICTIVE' end,
              case p.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT' when 'w' then 'UPDATE' when 'd' then 'DELETE' else 'ALL' end,
              case when p.polroles = '{0}' then 'PUBLIC' else (select string_agg(quote_ident(rolname), ', ' order by rolname) from pg_roles where oid = any(p.polroles)) end)
       || coalesce(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '') || coalesce(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', ''),
       format('policy %s on %s', p.polname, c.relname)
  from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
 where ${IN_PUBLIC}
union all
select 'comment:' || o.target, 7, format('COMMENT ON %s IS %L', o.target, d.description), 'the comment on ' || lower(o.target)
  from pg_description d
  join lateral (
    select format('TABLE %I', c.relname) as target from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where d.classoid = 'pg_class'::regclass and c.oid = d.objoid and d.objsubid = 0 and c.relkind in ('r', 'p') and ${IN_PUBLIC}
    union all
    select format('COLUMN %I.%I', c.relname, a.attname) from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_attribute a on a.attrelid = c.oid and a.attnum = d.objsubid
     where d.classoid = 'pg_class'::regclass and c.oid = d.objoid and d.objsubid > 0 and ${IN_PUBLIC}
    union all
    select format('INDEX %I', c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where d.classoid = 'pg_class'::regclass and c.oid = d.objoid and c.relkind = 'i' and n.nspname = 'public'
    union all
    select format('CONSTRAINT %I ON %I', co.conname, c.relname) from pg_constraint co join pg_class c on c.oid = co.conrelid join pg_namespace n on n.oid = c.relnamespace
     where d.classoid = 'pg_constraint'::regclass and co.oid = d.objoid and ${IN_PUBLIC}
    union all
    select format('TRIGGER %I ON %I', t.tgname, c.relname) from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
     where d.classoid = 'pg_trigger'::regclass and t.oid = d.objoid and ${IN_PUBLIC}
  ) o on true
 -- Built-in objects (below FirstNormalObjectId) have thousands of comments, none in schema public.
 where d.objoid >= 16384
union all
select 'grant:' || c.relname || '.' || g.grantee::regrole::text || '.' || g.privilege_type, 8,
       format('GRANT %s ON TABLE %I TO %s', g.privilege_type, c.relname, case when g.grantee = 0 then 'PUBLIC' else quote_ident(pg_get_userbyid(g.grantee)) end),
       format('%s on %s for %s', g.privilege_type, c.relname, case when g.grantee = 0 then 'PUBLIC' else pg_get_userbyid(g.grantee) end)
  from pg_class c join pg_namespace n on n.oid = c.relnamespace cross join lateral aclexplode(c.relacl) g
 where ${IN_PUBLIC} and c.relkind in ('r', 'p') and g.grantee <> c.relowner`;

const COLUMN_ORDER_SQL = `
select c.relname as table, array_agg(a.attname::text order by a.attnum) as columns
  from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
 where ${IN_PUBLIC} and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
 group by c.relname`;
