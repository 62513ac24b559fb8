import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { migrationsFolder, query } from './helpers/migrations.js';

/**
 * Issue 21 item 6: a failed migration's --json error carries PostgreSQL's SQLSTATE and a cause code a machine can
 * act on (CI retries on these), and a timeout its value and where it was set.
 */
const up = (url: string, dir: string, ...args: string[]) =>
  runCli(['migrate', 'up', '--migrations-dir', dir, '--json', ...args], { env: { DATABASE_URL: url } });
const one = (up: string) => migrationsFolder({ '20260101000001_m': { up } });

async function holding(url: string, sql: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(sql);
  return client;
}

describe('causes a machine can read, inside MIGRATION_FAILED', () => {
  it('a lock timeout: 55P03, lock_timeout, with the value todo-db set and the flag that sets it', async () => {
    const url = await createTestDatabase('cause');
    await query(url, 'create table busy (id int)');
    const holder = await holding(url, 'begin; lock table busy in access share mode');
    const result = await up(url, await one('alter table busy add column extra int;\n'), '--statement-lock-timeout', '200');
    await holder.end();
    expect(result.code).toBe(1);
    expect(result.json().error).toMatchObject({
      code: 'MIGRATION_FAILED',
      sqlstate: '55P03',
      cause: 'lock_timeout',
      setting: { name: 'lock_timeout', value: '200ms', source: expect.stringMatching(/--statement-lock-timeout/) },
    });
  });

  it('a lock timeout the file set itself: its value and line', async () => {
    const url = await createTestDatabase('cause');
    await query(url, 'create table busy (id int)');
    const holder = await holding(url, 'begin; lock table busy in access share mode');
    const result = await up(url, await one("-- short, on purpose\nset local lock_timeout = '150ms';\nalter table busy add column extra int;\n"));
    await holder.end();
    expect(result.json().error).toMatchObject({
      sqlstate: '55P03',
      cause: 'lock_timeout',
      setting: { name: 'lock_timeout', value: '150ms', source: 'set in migration.sql, line 2' },
    });
  });

  it('a statement timeout set on the database: 57014, statement_timeout, its value and that the database set it', async () => {
    const url = await createTestDatabase('cause');
    await query(url, `alter database "${new URL(url).pathname.slice(1)}" set statement_timeout = '300ms'`);
    const result = await up(url, await one('select pg_sleep(3);\n'));
    expect(result.code).toBe(1);
    expect(result.json().error).toMatchObject({
      code: 'MIGRATION_FAILED',
      sqlstate: '57014',
      cause: 'statement_timeout',
      setting: { name: 'statement_timeout', value: '300ms', source: expect.stringMatching(/set on the database/) },
    });
  });

  it('a statement timeout the file set: its value and line', async () => {
    const url = await createTestDatabase('cause');
    const result = await up(url, await one("set statement_timeout = '50ms';\nselect pg_sleep(2);\n"));
    expect(result.json().error).toMatchObject({
      sqlstate: '57014',
      cause: 'statement_timeout',
      setting: { name: 'statement_timeout', value: '50ms', source: 'set in migration.sql, line 1' },
    });
  });

  it('a deadlock with another session: 40P01, deadlock', async () => {
    const url = await createTestDatabase('cause');
    await query(url, 'create table a (id int); create table b (id int)');
    const other = await holding(url, 'begin; lock table b in exclusive mode');
    // Only the migration's deadlock check (after the default 1 s) can find the cycle: the other session's waits 60 s.
    await other.query("set local deadlock_timeout = '60s'");
    const running = up(url, await one('lock table a in exclusive mode;\nlock table b in exclusive mode;\n'));
    // Once the migration holds a and waits for b, the other session asks for a: a cycle.
    for (;;) {
      const [row] = await query<{ n: number }>(
        url,
        "select count(*)::int as n from pg_locks l join pg_class c on c.oid = l.relation where c.relname = 'b' and not l.granted",
      );
      if (row?.n) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const otherWaits = other.query('lock table a in exclusive mode').catch((error: Error) => error);
    const result = await running;
    await otherWaits;
    await other.end();
    expect(result.code).toBe(1);
    expect(result.json().error).toMatchObject({ code: 'MIGRATION_FAILED', sqlstate: '40P01', cause: 'deadlock' });
  });

  it.each([
    ['40001', 'serialization_failure'],
    ['40P01', 'deadlock'],
    ['40003', 'transaction_rollback'],
    ['57014', 'query_canceled'],
  ])('SQLSTATE %s is cause %s', async (sqlstate, cause) => {
    const url = await createTestDatabase('cause');
    const result = await up(url, await one(`do $$ begin raise exception 'raised' using errcode = '${sqlstate}'; end $$;\n`));
    expect(result.json().error).toMatchObject({ code: 'MIGRATION_FAILED', sqlstate, cause });
  });

  it('a failure PostgreSQL did not raise has sqlstate and cause null', async () => {
    const url = await createTestDatabase('cause');
    const result = await up(url, await one('select 1;\n'), '--statement-lock-timeout', '0');
    expect(result.code).toBe(2);
    expect(result.json().error).toMatchObject({ sqlstate: null, cause: null });
  });

  it('an error of a SQL statement keeps its SQLSTATE and has no cause', async () => {
    const url = await createTestDatabase('cause');
    const result = await up(url, await one('select missing_column from pg_class;\n'));
    expect(result.json().error).toMatchObject({ code: 'MIGRATION_FAILED', sqlstate: '42703', cause: null });
  });
});

describe('causes a machine can read, outside migrations', () => {
  it.each([
    ['a database that does not exist', '3D000', (url: URL) => Object.assign(url, { pathname: '/no_such_database_here' })],
    ['a wrong password', '28P01', (url: URL) => Object.assign(url, { password: 'not-the-password' })],
  ])('%s: the connection failure carries SQLSTATE %s', async (_, sqlstate, spoil) => {
    const url = spoil(new URL(await createTestDatabase('cause'))).toString();
    const result = await runCli(['migrate', 'status', '--json'], { env: { DATABASE_URL: url } });
    expect(result.code).not.toBe(0);
    expect(result.json().error).toMatchObject({ sqlstate, cause: null });
  });
});
