import type pg from 'pg';
import { parseFormatType } from './types.js';

/**
 * What the live database says about the tables a migration touches: the one reader of pg_class (estimated rows),
 * pg_total_relation_size (bytes), columns with their types and the CHECK constraints that use them, indexes,
 * the binary casts to the types a migration changes columns to, and which default functions are volatile.
 */
export interface LiveColumn {
  name: string;
  /** format_type() of the column: `character varying(200)`. */
  type: string;
  notNull: boolean;
  /** CHECK constraints that use this column: a type change re-checks them, scanning the table. */
  checks: string[];
  /** A validated CHECK (column IS NOT NULL) exists, so SET NOT NULL needs no scan. */
  notNullChecked: boolean;
}

export interface LiveTable {
  name: string;
  /** pg_class.relkind: r table, p partitioned table, m materialized view, v view, S sequence. */
  kind: string;
  /** pg_am of a table: SET ACCESS METHOD to the same one rewrites nothing. */
  accessMethod: string | null;
  /** Its indexes by name, and its partitions (a partitioned table's statements lock and scan them). */
  indexNames: string[];
  partitions: string[];
  /** Its foreign keys, each with the table it references. */
  foreignKeys: { name: string; references: string }[];
  /** Sequences its columns own (identity and serial), by column. */
  sequences: { column: string; name: string }[];
  /** Indexes that use each column (as a key or in an expression): DROP COLUMN drops them. */
  columnIndexes: { column: string; name: string }[];
  /** A materialized view's tables, which REFRESH reads. */
  sources: string[];
  /** pg_class.reltuples; null when the table was never vacuumed or analyzed. */
  rows: number | null;
  bytes: number;
  columns: Record<string, LiveColumn>;
  /** Each index's key columns, in order. */
  indexes: string[][];
}

export interface LiveFacts {
  tables: Map<string, LiveTable>;
  /** Index name to its table's name. */
  indexTables: Map<string, string>;
  /** `from->to` type pairs with a binary cast (parser names: `varchar->text`). */
  binaryCasts: Set<string>;
  /** Functions in new columns' defaults that are volatile (any overload), so the default is computed per row. */
  volatileFunctions: Set<string>;
  /** Per domain, the relations with a column of it: checking a domain constraint locks and scans them. */
  domainTables: Map<string, { name: string; kind: string }[]>;
  /** server_version_num: the plan follows the server's version. */
  serverVersion: number;
}

export interface LiveQuestions {
  tables: string[];
  indexes: string[];
  /** Target types of ALTER COLUMN ... TYPE, as written (`pg_catalog.varchar`). */
  types: string[];
  /** Functions called in the defaults of added columns. */
  functions: string[];
  /** Domains an ALTER DOMAIN changes. */
  domains: string[];
}

/** A name as the lint reports it (`tasks`, `audit.tasks`) as a regclass text that respects case. */
const REGCLASS = `case when position('.' in t.name) > 0 then quote_ident(split_part(t.name, '.', 1)) || '.' || quote_ident(split_part(t.name, '.', 2)) else quote_ident(t.name) end`;

/** `names`: a query whose column `name` holds the tables' names. */
const RELATION_NAME = `case when n.nspname = 'public' then r.relname else n.nspname || '.' || r.relname end`;
const relationsOf = (query: string) => `coalesce((select json_agg(x.name order by x.name) from (${query}) x), '[]'::json)`;
const tablesSql = (names: string) => `
select t.name, c.relkind::text as kind, (select amname from pg_am where oid = c.relam) as "accessMethod",
       ${relationsOf(`select ${RELATION_NAME} as name from pg_index i join pg_class r on r.oid = i.indexrelid join pg_namespace n on n.oid = r.relnamespace where i.indrelid = c.oid`)} as "indexNames",
       ${relationsOf(`select ${RELATION_NAME} as name from pg_inherits h join pg_class r on r.oid = h.inhrelid join pg_namespace n on n.oid = r.relnamespace where h.inhparent = c.oid`)} as partitions,
       coalesce((select json_agg(json_build_object('name', k.conname, 'references', (select ${RELATION_NAME} from pg_class r join pg_namespace n on n.oid = r.relnamespace where r.oid = k.confrelid)))
                 from pg_constraint k where k.conrelid = c.oid and k.contype = 'f'), '[]'::json) as "foreignKeys",
       coalesce((select json_agg(json_build_object('column', a.attname, 'name', ${RELATION_NAME}))
                 from pg_depend d join pg_class r on r.oid = d.objid and r.relkind = 'S' join pg_namespace n on n.oid = r.relnamespace
                 join pg_attribute a on a.attrelid = c.oid and a.attnum = d.refobjsubid
                where d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass and d.refobjid = c.oid and d.deptype in ('a', 'i')), '[]'::json) as sequences,
       coalesce((select json_agg(json_build_object('column', a.attname, 'name', ${RELATION_NAME}))
                 from pg_index i join pg_class r on r.oid = i.indexrelid join pg_namespace n on n.oid = r.relnamespace
                 join pg_attribute a on a.attrelid = c.oid and a.attnum > 0
                where i.indrelid = c.oid and (a.attnum = any(i.indkey::int2[]) or exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = i.indexrelid
                                                                                         and d.refclassid = 'pg_class'::regclass and d.refobjid = c.oid and d.refobjsubid = a.attnum))), '[]'::json) as "columnIndexes",
       ${relationsOf(`select distinct ${RELATION_NAME} as name from pg_rewrite w join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = w.oid and d.refclassid = 'pg_class'::regclass join pg_class r on r.oid = d.refobjid and r.oid <> c.oid join pg_namespace n on n.oid = r.relnamespace where w.ev_class = c.oid and c.relkind = 'm'`)} as sources,
       case when c.reltuples < 0 then null else c.reltuples::float8 end as rows, pg_total_relation_size(c.oid)::float8 as bytes,
       coalesce((select json_agg(json_build_object(
                   'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'notNull', a.attnotnull,
                   'checks', coalesce((select json_agg(k.conname order by k.conname) from pg_constraint k where k.conrelid = c.oid and k.contype = 'c' and a.attnum = any(k.conkey)), '[]'::json),
                   'notNullChecked', exists(select 1 from pg_constraint k where k.conrelid = c.oid and k.contype = 'c' and k.convalidated and k.conkey = array[a.attnum]
                                              and pg_get_constraintdef(k.oid) = 'CHECK ((' || quote_ident(a.attname) || ' IS NOT NULL))')))
                 from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]'::json) as columns,
       coalesce((select json_agg((select coalesce(json_agg(a.attname order by k.n), '[]'::json)
                                    from unnest(i.indkey::int2[]) with ordinality k(attnum, n) join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum))
                 from pg_index i where i.indrelid = c.oid), '[]'::json) as indexes
  from (${names}) t join pg_class c on c.oid = to_regclass(${REGCLASS}) and c.relkind in ('r', 'p', 'm', 'v', 'S')`;

const indexesSql = (names: string) => `
select t.name, case when n.nspname = 'public' then tc.relname else n.nspname || '.' || tc.relname end as "table"
  from unnest(${names}) t(name) join pg_index i on i.indexrelid = to_regclass(${REGCLASS})
  join pg_class tc on tc.oid = i.indrelid join pg_namespace n on n.oid = tc.relnamespace`;

const castsSql = (types: string) => `
select format_type(c.castsource, null) as source, format_type(c.casttarget, null) as target
  from unnest(${types}) t(name) join pg_cast c on c.casttarget = to_regtype(t.name) and c.castmethod = 'b'`;

const domainsSql = (domains: string) => `
select d.name, json_agg(json_build_object('name', ${RELATION_NAME}, 'kind', r.relkind::text)) as tables
  from unnest(${domains}) d(name) join pg_attribute a on a.atttypid = to_regtype(d.name) and a.attnum > 0 and not a.attisdropped
  join pg_class r on r.oid = a.attrelid and r.relkind in ('r', 'p', 'm') join pg_namespace n on n.oid = r.relnamespace group by d.name`;

const volatileSql = (functions: string) => `select distinct proname from pg_proc where proname = any(${functions}) and provolatile = 'v'`;

/**
 * One round trip whatever was asked: the indexes' tables join the tables asked about inside the query.
 * $1 tables, $2 indexes, $3 types, $4 functions, $5 domains.
 */
const LIVE_FACTS_SQL = `
with indexes as (${indexesSql('$2::text[]')})
select coalesce((select json_agg(i) from indexes i), '[]'::json) as indexes,
       coalesce((select json_agg(t) from (${tablesSql('select unnest($1::text[]) as name union select "table" from indexes')}) t), '[]'::json) as tables,
       coalesce((select json_agg(c) from (${castsSql('$3::text[]')}) c), '[]'::json) as casts,
       coalesce((select json_agg(v.proname) from (${volatileSql('$4::text[]')}) v), '[]'::json) as volatile,
       coalesce((select json_agg(d) from (${domainsSql('$5::text[]')}) d), '[]'::json) as domains,
       current_setting('server_version_num')::int as "serverVersion"`;

type Queryable = Pick<pg.ClientBase, 'query'>;

interface LiveFactsRow {
  indexes: { name: string; table: string }[];
  tables: (Omit<LiveTable, 'columns'> & { columns: LiveColumn[] })[];
  casts: { source: string; target: string }[];
  volatile: string[];
  domains: { name: string; tables: { name: string; kind: string }[] }[];
  serverVersion: number;
}

export async function readLiveFacts(db: Queryable, questions: LiveQuestions): Promise<LiveFacts> {
  const { tables, indexes, types, functions, domains } = questions;
  const row = (await db.query<LiveFactsRow>(LIVE_FACTS_SQL, [tables, indexes, types, functions, domains])).rows[0] as LiveFactsRow;
  return {
    tables: new Map(row.tables.map((table) => [table.name, { ...table, columns: Object.fromEntries(table.columns.map((column) => [column.name, column])) }])),
    indexTables: new Map(row.indexes.map((index) => [index.name, index.table])),
    binaryCasts: new Set(row.casts.map((cast) => `${parseFormatType(cast.source).name}->${parseFormatType(cast.target).name}`)),
    volatileFunctions: new Set(row.volatile),
    domainTables: new Map(row.domains.map((domain) => [domain.name, domain.tables])),
    serverVersion: row.serverVersion,
  };
}
