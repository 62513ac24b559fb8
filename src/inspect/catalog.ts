import type pg from 'pg';
import type { DatabaseUrl } from '../config/database-url.js';
import type { Environment } from '../config/settings.js';
import { withConnection } from '../db/connect.js';

/**
 * A plain, comparable model of schema public, read from pg_catalog. Everything is text as PostgreSQL itself
 * prints it (format_type, pg_get_expr, pg_get_constraintdef, pg_get_indexdef), so two databases built by the
 * same SQL give equal models, and a difference reads as PostgreSQL would show it.
 */
export interface Catalog {
  tables: TableInfo[];
  enums: EnumInfo[];
  functions: FunctionInfo[];
}

export interface TableInfo {
  name: string;
  columns: ColumnInfo[];
  constraints: ConstraintInfo[];
  indexes: IndexInfo[];
  triggers: TriggerInfo[];
}

export interface ColumnInfo {
  name: string;
  type: string;
  nullable: boolean;
  default: string | null;
}

export type ConstraintType = 'primary' | 'unique' | 'foreign' | 'check' | 'exclusion';

export interface ConstraintInfo {
  name: string;
  table: string;
  type: ConstraintType;
  columns: string[];
  /** pg_get_constraintdef: the constraint as it would be written in ALTER TABLE ... ADD CONSTRAINT. */
  definition: string;
  references?: { table: string; columns: string[]; onDelete: ForeignKeyAction; onUpdate: ForeignKeyAction };
}

export type ForeignKeyAction = 'NO ACTION' | 'RESTRICT' | 'CASCADE' | 'SET NULL' | 'SET DEFAULT';

export interface IndexInfo {
  name: string;
  table: string;
  definition: string;
  /** The index exists because of a primary key, unique or exclusion constraint (named here). */
  constraint: string | null;
}

export interface EnumInfo {
  name: string;
  labels: string[];
}

export interface TriggerInfo {
  name: string;
  table: string;
  timing: 'BEFORE' | 'AFTER' | 'INSTEAD OF';
  events: string[];
  level: 'ROW' | 'STATEMENT';
  function: string;
  /** pg_get_triggerdef, for WHEN clauses and anything else the fields above leave out. */
  definition: string;
}

export interface FunctionInfo {
  /** name(argument types), as regprocedure prints it: overloads are distinct functions. */
  signature: string;
  definition: string;
}

export interface ReadCatalogOptions {
  /** Only these tables (and the objects on them); enums and functions are read whatever this says. */
  tables?: string[];
}

const HISTORY_TABLE = '_prisma_migrations';

export async function readCatalog(client: pg.Client, { tables }: ReadCatalogOptions = {}): Promise<Catalog> {
  const wanted = (name: string) => name !== HISTORY_TABLE && (tables === undefined || tables.includes(name));
  // One simple-protocol query with seven statements: one round trip, which matters on a remote server.
  const results = (await client.query([TABLES_SQL, COLUMNS_SQL, CONSTRAINTS_SQL, INDEXES_SQL, TRIGGERS_SQL, ENUMS_SQL, FUNCTIONS_SQL].join(';\n'))) as unknown as pg.QueryResult[];
  const [tableRows, columns, constraints, indexes, triggers, enums, functions] = results.map((result) => result.rows) as [
    Array<{ name: string }>, Array<ColumnInfo & { table: string }>, ConstraintRow[], IndexInfo[], TriggerRow[], EnumInfo[], FunctionInfo[],
  ];
  const onTable = <R extends { table: string }>(list: R[], table: string) => list.filter((row) => row.table === table);
  return {
    tables: tableRows.filter((row) => wanted(row.name)).map(({ name }) => ({
      name,
      columns: onTable(columns, name).map(({ table: _table, ...column }) => column),
      constraints: onTable(constraints, name).map(toConstraint),
      indexes: onTable(indexes, name),
      triggers: onTable(triggers, name).map(toTrigger),
    })),
    enums,
    functions,
  };
}

/** readCatalog on a connection of its own, closed afterwards. */
export async function readCatalogAt(url: DatabaseUrl, options: ReadCatalogOptions & { environment?: Environment } = {}): Promise<Catalog> {
  return withConnection(url, { environment: options.environment ?? 'development', applicationName: 'todo-db inspect' }, (client) => readCatalog(client, { tables: options.tables }));
}

interface ConstraintRow {
  name: string;
  table: string;
  contype: string;
  columns: string[];
  definition: string;
  ref_table: string | null;
  ref_columns: string[] | null;
  on_delete: string;
  on_update: string;
}

const CONSTRAINT_TYPES: Record<string, ConstraintType> = { p: 'primary', u: 'unique', f: 'foreign', c: 'check', x: 'exclusion' };
const FK_ACTIONS: Record<string, ForeignKeyAction> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

function toConstraint(row: ConstraintRow): ConstraintInfo {
  const constraint: ConstraintInfo = { name: row.name, table: row.table, type: CONSTRAINT_TYPES[row.contype] ?? 'check', columns: row.columns, definition: row.definition };
  if (row.ref_table === null) return constraint;
  const action = (code: string) => FK_ACTIONS[code] ?? 'NO ACTION';
  return { ...constraint, references: { table: row.ref_table, columns: row.ref_columns ?? [], onDelete: action(row.on_delete), onUpdate: action(row.on_update) } };
}

interface TriggerRow {
  name: string;
  table: string;
  tgtype: number;
  function: string;
  definition: string;
}

/** tgtype is a bit mask (see pg_trigger.h): row level 1, before 2, insert 4, delete 8, update 16, truncate 32, instead 64. */
function toTrigger({ tgtype, ...row }: TriggerRow): TriggerInfo {
  const timing = tgtype & 64 ? 'INSTEAD OF' : tgtype & 2 ? 'BEFORE' : 'AFTER';
  const events = ([[4, 'INSERT'], [16, 'UPDATE'], [8, 'DELETE'], [32, 'TRUNCATE']] as const).filter(([bit]) => tgtype & bit).map(([, event]) => event);
  return { ...row, timing, events, level: tgtype & 1 ? 'ROW' : 'STATEMENT' };
}

// Ordered everywhere, so models compare and print the same way each time.
const TABLES_SQL = `
  select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1`;

const COLUMNS_SQL = `
  select c.relname as table, a.attname as name, format_type(a.atttypid, a.atttypmod) as type, not a.attnotnull as nullable,
         pg_get_expr(d.adbin, d.adrelid) as default
  from pg_attribute a
  join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
  left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
  where n.nspname = 'public' and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
  order by c.relname, a.attnum`;

const CONSTRAINTS_SQL = `
  select co.conname as name, c.relname as table, co.contype::text as contype,
         coalesce((select array_agg(a.attname::text order by k.ord) from unnest(co.conkey) with ordinality k(attnum, ord)
                   join pg_attribute a on a.attrelid = co.conrelid and a.attnum = k.attnum), '{}') as columns,
         pg_get_constraintdef(co.oid) as definition,
         rc.relname as ref_table,
         (select array_agg(a.attname::text order by k.ord) from unnest(co.confkey) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = co.confrelid and a.attnum = k.attnum) as ref_columns,
         co.confdeltype::text as on_delete, co.confupdtype::text as on_update
  from pg_constraint co
  join pg_class c on c.oid = co.conrelid join pg_namespace n on n.oid = c.relnamespace
  left join pg_class rc on rc.oid = co.confrelid
  where n.nspname = 'public' and co.contype in ('p', 'u', 'f', 'c', 'x')
  order by c.relname, co.conname`;

const INDEXES_SQL = `
  select i.relname as name, c.relname as table, pg_get_indexdef(i.oid) as definition, co.conname as constraint
  from pg_index x
  join pg_class i on i.oid = x.indexrelid join pg_class c on c.oid = x.indrelid join pg_namespace n on n.oid = c.relnamespace
  left join pg_constraint co on co.conindid = x.indexrelid and co.conrelid = x.indrelid and co.contype in ('p', 'u', 'x')
  where n.nspname = 'public'
  order by c.relname, i.relname`;

const TRIGGERS_SQL = `
  select t.tgname as name, c.relname as table, t.tgtype::int as tgtype, t.tgfoid::regproc::text as function,
         pg_get_triggerdef(t.oid) as definition
  from pg_trigger t
  join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and not t.tgisinternal
  order by c.relname, t.tgname`;

const ENUMS_SQL = `
  select t.typname as name, array_agg(e.enumlabel::text order by e.enumsortorder) as labels
  from pg_type t join pg_enum e on e.enumtypid = t.oid join pg_namespace n on n.oid = t.typnamespace
  where n.nspname = 'public'
  group by t.typname order by 1`;

// prokind 'f' only: aggregates and procedures are not something our migrations make. Functions an extension
// installed into public (pgcrypto, for one) belong to the extension, not to the schema we compare.
const FUNCTIONS_SQL = `
  select p.oid::regprocedure::text as signature, pg_get_functiondef(p.oid) as definition
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname = 'public' and p.prokind = 'f'
    and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
  order by 1`;
