import pg from 'pg';

/** What a shadow database needs of the external tables, as SQL to run in order before the migrations. */
export interface ExternalDefinitions {
  /** The listed tables the live database has: these are copied. */
  tables: string[];
  /** Listed, but absent from the live database: nothing to copy. */
  absent: string[];
  /** Their foreign keys onto tables that are not external, left out: before the migrations the shadow has no such table. */
  leftOut: string[];
  statements: string[];
}

interface TableRow {
  oid: number;
  name: string;
  partition_key: string | null;
}

/**
 * Reads the external tables' definitions from the live database, enough for migrations that reference them to
 * apply: the schemas, extensions, enums and domains their columns use, the sequences their defaults use, the
 * tables with their columns (types, collations, defaults, identity, generated), constraints (primary keys,
 * uniques, checks, exclusions; foreign keys among themselves) and the unique indexes a foreign key can use. Not
 * their rows, other indexes, triggers, policies, grants or comments: a migration that references them does not
 * need those, and nothing compares them (migrate diff and inspect-indexes leave external tables out). Leaving
 * out partial and plain indexes also keeps Prisma's introspection of the shadow (migrate create --from-schema)
 * from tripping on what another tool made. Everything is written schema-qualified
 * (search_path is pg_catalog for the reads), so it means the same in the shadow.
 */
export async function readExternalDefinitions(client: pg.Client, names: string[]): Promise<ExternalDefinitions> {
  await client.query('set search_path to pg_catalog');
  const { rows: tables } = await client.query<TableRow>(
    `select c.oid::int as oid, c.relname as name, case when c.relkind = 'p' then pg_get_partkeydef(c.oid) end as partition_key
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition and c.relname = any($1::text[])
      order by c.oid`,
    [names],
  );
  const absent = names.filter((name) => !tables.some((table) => table.name === name));
  if (tables.length === 0) return { tables: [], absent, leftOut: [], statements: [] };
  const oids = tables.map((table) => table.oid);
  // One after another: a pg client runs one query at a time anyway.
  const types = await typeStatements(client, oids);
  const sequences = await sequenceStatements(client, oids);
  const columns = await columnDefinitions(client, oids);
  const constraints = await readConstraints(client, oids);
  const indexes = await indexStatements(client, oids);
  const createTables = tables.map((table) => {
    const partition = table.partition_key ? ` partition by ${table.partition_key}` : '';
    return `create table public.${pg.escapeIdentifier(table.name)} (${(columns.get(table.oid) ?? []).join(', ')})${partition}`;
  });
  return {
    tables: tables.map((table) => table.name),
    absent,
    leftOut: constraints.leftOut,
    statements: [...types, ...sequences.create, ...createTables, ...constraints.own, ...indexes, ...sequences.own, ...constraints.foreignKeys],
  };
}

/**
 * The types the columns use (arrays' elements and domains' bases too), outside pg_catalog: an extension's
 * type brings its extension, an enum its labels, a domain its base, default and constraints.
 */
async function typeStatements(client: pg.Client, oids: number[]): Promise<string[]> {
  const { rows } = await client.query<{ statement: string }>(
    `with recursive used(oid) as (
       select a.atttypid from pg_attribute a where a.attrelid = any($1::oid[]) and a.attnum > 0 and not a.attisdropped
       union
       select next.oid from pg_type t join used on used.oid = t.oid cross join lateral (values (t.typelem), (t.typbasetype)) next(oid) where next.oid <> 0
     ),
     types as (
       select t.*, n.nspname, (select e.extname from pg_depend d join pg_extension e on e.oid = d.refobjid
                               where d.classid = 'pg_type'::regclass and d.objid = t.oid and d.refclassid = 'pg_extension'::regclass and d.deptype = 'e') as extension
         from pg_type t join used on used.oid = t.oid join pg_namespace n on n.oid = t.typnamespace
        where n.nspname not in ('pg_catalog', 'information_schema')
     )
     select statement from (
       select 0 as stage, 0::oid as oid, format('create schema if not exists %I', nspname) as statement from types where nspname <> 'public' group by nspname
       union all
       select 1, min(t.oid), format('create extension if not exists %I schema %I', t.extension, en.nspname)
         from types t join pg_extension e on e.extname = t.extension join pg_namespace en on en.oid = e.extnamespace
        where t.extension is not null group by t.extension, en.nspname
       union all
       select 2, t.oid, format('create type %I.%I as enum (%s)', t.nspname, t.typname,
                               (select string_agg(quote_literal(l.enumlabel), ', ' order by l.enumsortorder) from pg_enum l where l.enumtypid = t.oid))
         from types t where t.extension is null and t.typtype = 'e'
       union all
       select 3, t.oid, format('create domain %I.%I as %s%s%s%s%s', t.nspname, t.typname, format_type(t.typbasetype, t.typtypmod),
                               case when t.typcollation <> 0 and t.typcollation <> (select b.typcollation from pg_type b where b.oid = t.typbasetype)
                                    then (select format(' collate %I.%I', cn.nspname, co.collname) from pg_collation co join pg_namespace cn on cn.oid = co.collnamespace where co.oid = t.typcollation) else '' end,
                               case when t.typdefault is not null then ' default ' || t.typdefault else '' end,
                               case when t.typnotnull then ' not null' else '' end,
                               coalesce((select string_agg(format(' constraint %I %s', co.conname, pg_get_constraintdef(co.oid)), '' order by co.conname)
                                           from pg_constraint co where co.contypid = t.oid and co.contype = 'c'), ''))
         from types t where t.extension is null and t.typtype = 'd'
     ) statements order by stage, oid`,
    [oids],
  );
  return rows.map((row) => row.statement);
}

/** Sequences their defaults call (nextval) or their columns own (serial), and the ownership once the tables exist. */
async function sequenceStatements(client: pg.Client, oids: number[]): Promise<{ create: string[]; own: string[] }> {
  const { rows } = await client.query<{ name: string; type: string; owner: string | null }>(
    `with wanted as (
       select d.refobjid as oid from pg_depend d join pg_attrdef ad on ad.oid = d.objid
        where d.classid = 'pg_attrdef'::regclass and ad.adrelid = any($1::oid[]) and d.refclassid = 'pg_class'::regclass
       union
       select d.objid from pg_depend d
        where d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass and d.deptype = 'a' and d.refobjid = any($1::oid[])
     )
     select format('%I.%I', n.nspname, s.relname) as name, format_type(q.seqtypid, null) as type,
            (select format('%s.%I', d.refobjid::regclass, a.attname) from pg_depend d join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
              where d.classid = 'pg_class'::regclass and d.objid = s.oid and d.refclassid = 'pg_class'::regclass and d.deptype = 'a' and d.refobjid = any($1::oid[])) as owner
       from wanted join pg_class s on s.oid = wanted.oid and s.relkind = 'S' join pg_namespace n on n.oid = s.relnamespace join pg_sequence q on q.seqrelid = s.oid
      order by s.oid`,
    [oids],
  );
  return {
    create: rows.map((row) => `create sequence if not exists ${row.name} as ${row.type}`),
    own: rows.filter((row) => row.owner !== null).map((row) => `alter sequence ${row.name} owned by ${row.owner}`),
  };
}

async function columnDefinitions(client: pg.Client, oids: number[]): Promise<Map<number, string[]>> {
  const { rows } = await client.query<{ table_oid: number; definition: string }>(
    `select a.attrelid::int as table_oid,
            format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod))
            || case when a.attcollation <> t.typcollation
                    then (select format(' collate %I.%I', cn.nspname, co.collname) from pg_collation co join pg_namespace cn on cn.oid = co.collnamespace where co.oid = a.attcollation) else '' end
            || case when a.attidentity = 'a' then ' generated always as identity'
                    when a.attidentity = 'd' then ' generated by default as identity'
                    when a.attgenerated = 's' then format(' generated always as (%s) stored', pg_get_expr(d.adbin, d.adrelid))
                    when a.attgenerated = 'v' then format(' generated always as (%s) virtual', pg_get_expr(d.adbin, d.adrelid))
                    when d.adbin is not null then ' default ' || pg_get_expr(d.adbin, d.adrelid) else '' end
            || case when a.attnotnull then ' not null' else '' end as definition
       from pg_attribute a join pg_type t on t.oid = a.atttypid left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where a.attrelid = any($1::oid[]) and a.attnum > 0 and not a.attisdropped
      order by a.attrelid, a.attnum`,
    [oids],
  );
  const byTable = new Map<number, string[]>();
  for (const row of rows) byTable.set(row.table_oid, [...(byTable.get(row.table_oid) ?? []), row.definition]);
  return byTable;
}

/** Not NOT NULL (a column property above) nor inherited ones; foreign keys after every table exists. */
async function readConstraints(client: pg.Client, oids: number[]): Promise<{ own: string[]; foreignKeys: string[]; leftOut: string[] }> {
  const { rows } = await client.query<{ statement: string; contype: string; internal: boolean; label: string }>(
    `select format('alter table %s add constraint %I %s', co.conrelid::regclass, co.conname, pg_get_constraintdef(co.oid)) as statement, co.contype,
            co.contype <> 'f' or co.confrelid = any($1::oid[]) as internal, format('%s on %s', co.conname, co.conrelid::regclass) as label
       from pg_constraint co
      where co.conrelid = any($1::oid[]) and co.contype in ('p', 'u', 'c', 'x', 'f') and co.coninhcount = 0
      order by co.conrelid, co.contype = 'c', co.conname`,
    [oids],
  );
  return {
    own: rows.filter((row) => row.contype !== 'f').map((row) => row.statement),
    foreignKeys: rows.filter((row) => row.contype === 'f' && row.internal).map((row) => row.statement),
    leftOut: rows.filter((row) => !row.internal).map((row) => row.label),
  };
}

/** Unique indexes on plain columns, without a predicate (what a foreign key can reference), that no constraint makes. */
async function indexStatements(client: pg.Client, oids: number[]): Promise<string[]> {
  const { rows } = await client.query<{ statement: string }>(
    `select pg_get_indexdef(i.indexrelid) as statement from pg_index i
      where i.indrelid = any($1::oid[]) and i.indisunique and i.indpred is null and i.indexprs is null
        and not exists (select 1 from pg_constraint co where co.conindid = i.indexrelid and co.conrelid = i.indrelid and co.contype in ('p', 'u', 'x'))
      order by i.indexrelid`,
    [oids],
  );
  return rows.map((row) => row.statement);
}
