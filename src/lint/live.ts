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
}

export interface LiveQuestions {
  tables: string[];
  indexes: string[];
  /** Target types of ALTER COLUMN ... TYPE, as written (`pg_catalog.varchar`). */
  types: string[];
  /** Functions called in the defaults of added columns. */
  functions: string[];
}

/** A name as the lint reports it (`tasks`, `audit.tasks`) as a regclass text that respects case. */
const REGCLASS = `case when position('.' in t.name) > 0 then quote_ident(split_part(t.name, '.', 1)) || '.' || quote_ident(split_part(t.name, '.', 2)) else quote_ident(t.name) end`;

/** `names`: a query whose column `name` holds the tables' names. */
const tablesSql = (names: string) => `
select t.name, case when c.reltuples < 0 then null else c.reltuples::float8 end as rows, pg_total_relation_size(c.oid)::float8 as bytes,
       coalesce((select json_agg(json_build_object(
                   'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'notNull', a.attnotnull,
                   'checks', coalesce((select json_agg(k.conname order by k.conname) from pg_constraint k where k.conrelid = c.oid and k.contype = 'c' and a.attnum = any(k.conkey)), '[]'::json),
                   'notNullChecked', exists(select 1 from pg_constraint k where k.conrelid = c.oid and k.contype = 'c' and k.convalidated and k.conkey = array[a.attnum]
                                              and pg_get_constraintdef(k.oid) = 'CHECK ((' || quote_ident(a.attname) || ' IS NOT NULL))')))
                 from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]'::json) as columns,
       coalesce((select json_agg((select coalesce(json_agg(a.attname order by k.n), '[]'::json)
                                    from unnest(i.indkey::int2[]) with ordinality k(attnum, n) join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum))
                 from pg_index i where i.indrelid = c.oid), '[]'::json) as indexes
  from (${names}) t join pg_class c on c.oid = to_regclass(${REGCLASS}) and c.relkind in ('r', 'p', 'm')`;

const indexesSql = (names: string) => `
select t.name, case when n.nspname = 'public' then tc.relname else n.nspname || '.' || tc.relname end as "table"
  from unnest(${names}) t(name) join pg_index i on i.indexrelid = to_regclass(${REGCLASS})
  join pg_class tc on tc.oid = i.indrelid join pg_namespace n on n.oid = tc.relnamespace`;

const castsSql = (types: string) => `
select format_type(c.castsource, null) as source, format_type(c.casttarget, null) as target
  from unnest(${types}) t(name) join pg_cast c on c.casttarget = to_regtype(t.name) and c.castmethod = 'b'`;

const volatileSql = (functions: string) => `select distinct proname from pg_proc where proname = any(${functions}) and provolatile = 'v'`;

/**
 * One round trip whatever was asked: the indexes' tables join the tables asked about inside the query.
 * $1 tables, $2 indexes, $3 types, $4 functions.
 */
const LIVE_FACTS_SQL = `
with indexes as (${indexesSql('$2::text[]')})
select coalesce((select json_agg(i) from indexes i), '[]'::json) as indexes,
       coalesce((select json_agg(t) from (${tablesSql('select unnest($1::text[]) as name union select "table" from indexes')}) t), '[]'::json) as tables,
       coalesce((select json_agg(c) from (${castsSql('$3::text[]')}) c), '[]'::json) as casts,
       coalesce((select json_agg(v.proname) from (${volatileSql('$4::text[]')}) v), '[]'::json) as volatile`;

type Queryable = Pick<pg.ClientBase, 'query'>;

interface LiveFactsRow {
  indexes: { name: string; table: string }[];
  tables: { name: string; rows: number | null; bytes: number; columns: LiveColumn[]; indexes: string[][] }[];
  casts: { source: string; target: string }[];
  volatile: string[];
}

export async function readLiveFacts(db: Queryable, questions: LiveQuestions): Promise<LiveFacts> {
  const { tables, indexes, types, functions } = questions;
  const asked = [tables, indexes, types, functions].some((names) => names.length > 0);
  const row: LiveFactsRow = asked ? ((await db.query<LiveFactsRow>(LIVE_FACTS_SQL, [tables, indexes, types, functions])).rows[0] as LiveFactsRow) : { indexes: [], tables: [], casts: [], volatile: [] };
  return {
    tables: new Map(row.tables.map((table) => [table.name, { ...table, columns: Object.fromEntries(table.columns.map((column) => [column.name, column])) }])),
    indexTables: new Map(row.indexes.map((index) => [index.name, index.table])),
    binaryCasts: new Set(row.casts.map((cast) => `${parseFormatType(cast.source).name}->${parseFormatType(cast.target).name}`)),
    volatileFunctions: new Set(row.volatile),
  };
}
