import pg from 'pg';

/**
 * Every object in the public schema, as sorted lines: tables, indexes, sequences, views, types, functions,
 * triggers and constraints. Two snapshots are equal exactly when the schema is the same.
 */
export async function catalogSnapshot(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ line: string }>(`
      select 'relation ' || c.relkind::text || ' ' || c.relname as line from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'
      union all
      select 'type ' || t.typname from pg_type t join pg_namespace n on n.oid = t.typnamespace where n.nspname = 'public' and t.typtype in ('e', 'd', 'c') and not exists (select 1 from pg_class c where c.reltype = t.oid)
      union all
      select 'function ' || p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'
      union all
      select 'trigger ' || tg.tgname || ' on ' || tg.tgrelid::regclass::text from pg_trigger tg join pg_class c on c.oid = tg.tgrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and not tg.tgisinternal
      union all
      select 'constraint ' || co.conname || ' ' || pg_get_constraintdef(co.oid) from pg_constraint co join pg_namespace n on n.oid = co.connamespace where n.nspname = 'public'
      order by 1`);
    return rows.map((row) => row.line);
  } finally {
    await client.end();
  }
}
