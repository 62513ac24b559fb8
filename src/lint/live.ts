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

const TABLES_SQL = `
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
  from unnest($1::text[]) t(name) join pg_class c on c.oid = to_regclass(${REGCLASS}) and c.relkind in ('r', 'p', 'm')`;

const INDEXES_SQL = `
select t.name, case when n.nspname = 'public' then tc.relname else n.nspname || '.' || tc.relname end as "table"
  from unnest($1::text[]) t(name) join pg_index i on i.indexrelid = to_regclass(${REGCLASS})
  join pg_class tc on tc.oid = i.indrelid join pg_namespace n on n.oid = tc.relnamespace`;

const CASTS_SQL = `
select format_type(c.castsource, null) as source, format_type(c.casttarget, null) as target
  from unnest($1::text[]) t(name) join pg_cast c on c.casttarget = to_regtype(t.name) and c.castmethod = 'b'`;

const VOLATILE_SQL = `select distinct proname from pg_proc where proname = any($1::text[]) and provolatile = 'v'`;

type Queryable = Pick<pg.ClientBase, 'query'>;

export async function readLiveFacts(db: Queryable, questions: LiveQuestions): Promise<LiveFacts> {
  const indexRows = questions.indexes.length === 0 ? [] : (await db.query<{ name: string; table: string }>(INDEXES_SQL, [questions.indexes])).rows;
  const indexTables = new Map(indexRows.map((row) => [row.name, row.table]));
  const tableNames = [...new Set([...questions.tables, ...indexTables.values()])];
  const tableRows = tableNames.length === 0 ? [] : (await db.query<{ name: string; rows: number | null; bytes: number; columns: LiveColumn[]; indexes: string[][] }>(TABLES_SQL, [tableNames])).rows;
  const tables = new Map(tableRows.map((row) => [row.name, { ...row, columns: Object.fromEntries(row.columns.map((column) => [column.name, column])) }]));
  const castRows = questions.types.length === 0 ? [] : (await db.query<{ source: string; target: string }>(CASTS_SQL, [questions.types])).rows;
  const binaryCasts = new Set(castRows.map((row) => `${parseFormatType(row.source).name}->${parseFormatType(row.target).name}`));
  const volatileRows = questions.functions.length === 0 ? [] : (await db.query<{ proname: string }>(VOLATILE_SQL, [questions.functions])).rows;
  return { tables, indexTables, binaryCasts, volatileFunctions: new Set(volatileRows.map((row) => row.proname)) };
}
