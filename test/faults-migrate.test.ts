import { describe, expect, it } from 'vitest';
import { MIGRATION_LOCK_KEY } from '../src/migrations/index.js';
import { runCli, startCli } from './helpers/cli.js';
import { adminQuery, createTestDatabase } from './helpers/database.js';
import { migrationsFolder, query, tableMigration } from './helpers/migrations.js';

/** Faults while migrations run: the migrating process killed, its connection terminated, 20 migrators at once. */

const SLOW = '20260101000001_slow';
const slowMigration = {
  up: 'create table slow_made (id int);\nselect pg_sleep(5);\ncreate table slow_after (id int);\n',
  down: 'drop table slow_after;\ndrop table slow_made;\n',
};

const migrateArgs = (dir: string, ...args: string[]) => ['migrate', ...args, '--migrations-dir', dir];
const tables = async (url: string) =>
  (await query<{ relname: string }>(url, "select relname from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace order by 1")).map(
    (row) => row.relname,
  );
const history = (url: string) =>
  query(url, 'select migration_name, finished_at, rolled_back_at, applied_steps_count from _prisma_migrations order by started_at');

/** Advisory locks are per database; the other tests of this file run beside this one on the same server. */
async function lockHolders(url: string): Promise<number> {
  const { rows } = await adminQuery(`select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database
    where l.locktype = 'advisory' and l.objid = ${MIGRATION_LOCK_KEY} and l.granted and d.datname = '${new URL(url).pathname.slice(1)}'`);
  return rows[0].n;
}

/** Polls until the condition holds; returns how long it took. */
async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return Date.now() - started;
}

/** The pid of the backend running the slow migration, once it is inside pg_sleep (by its wait event: pg_stat_activity shows only the first 1 KB of a message of several migrations). */
async function sleepingBackend(database: string): Promise<number> {
  let pid = 0;
  await waitUntil(
    async () => {
      const { rows } = await adminQuery(
        `select pid from pg_stat_activity where datname = '${database}' and application_name = 'todo-db migrate' and wait_event = 'PgSleep' and state = 'active'`,
      );
      pid = rows[0]?.pid ?? 0;
      return pid !== 0;
    },
    20_000,
    25,
  );
  return pid;
}

async function expectRecovered(url: string, dir: string): Promise<void> {
  expect(await tables(url)).not.toContain('slow_made');
  expect(await lockHolders(url)).toBe(0);
  const rerun = await runCli(migrateArgs(dir, 'up'), { env: { DATABASE_URL: url } });
  expect(rerun.code, rerun.stderr).toBe(0);
  expect(await tables(url)).toEqual(expect.arrayContaining(['slow_after', 'slow_made']));
  const rows = await history(url);
  expect(rows.filter((row) => row.finished_at !== null && row.rolled_back_at === null).map((row) => row.migration_name)).toEqual([SLOW]);
}

describe.concurrent('a migration interrupted half-way', () => {
  it('kill -9 of `migrate up`: nothing of the migration remains, the lock is freed within about 1 s, and a rerun applies it', async () => {
    const url = await createTestDatabase('kill');
    const dir = await migrationsFolder({ [SLOW]: slowMigration });
    const running = startCli(migrateArgs(dir, 'up'), { env: { DATABASE_URL: url } });
    await sleepingBackend(new URL(url).pathname.slice(1));
    expect(await lockHolders(url)).toBe(1);

    running.child.kill('SIGKILL');
    await running.exited;
    const lockOutlivedMs = await waitUntil(async () => (await lockHolders(url)) === 0, 10_000);
    console.info(`kill -9 mid-migration: the lock outlived the process by ${lockOutlivedMs} ms`);
    // Without client_connection_check_interval the backend sleeps on for the rest of pg_sleep(5), lock held.
    expect(lockOutlivedMs).toBeLessThan(2500);
    await expectRecovered(url, dir);
  });

  it('pg_terminate_backend of the migration connection: exit 1 with a clear message and no stack trace, then a rerun applies it', async () => {
    const url = await createTestDatabase('term');
    const dir = await migrationsFolder({ [SLOW]: slowMigration });
    const running = startCli(migrateArgs(dir, 'up'), { env: { DATABASE_URL: url } });
    const pid = await sleepingBackend(new URL(url).pathname.slice(1));

    const started = Date.now();
    await adminQuery(`select pg_terminate_backend(${pid})`);
    const result = await running.exited;
    const exitedMs = Date.now() - started;
    const lockFreedMs = await waitUntil(async () => (await lockHolders(url)) === 0, 10_000);
    console.info(`pg_terminate_backend mid-migration: exit ${result.code} after ${exitedMs} ms, lock free ${lockFreedMs} ms after that`);

    expect(result.code).toBe(1);
    // The statement that was running, PostgreSQL's SQLSTATE, and a hint that does not blame the SQL.
    expect(result.stderr).toMatch(/20260101000001_slow\/migration\.sql:2:1: terminating connection .*\(SQLSTATE 57P01\)/);
    expect(result.stderr).toMatch(/connection to PostgreSQL ended while it ran/);
    expect(result.stderr).not.toMatch(/Fix migration\.sql/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    await expectRecovered(url, dir);
  });
});

describe('many pending migrations, sent together, each its own transaction', () => {
  const name = (n: number) => `20260101${String(n).padStart(6, '0')}_m${n}`;
  const applied = async (url: string) =>
    (await history(url)).filter((row) => row.finished_at !== null && row.rolled_back_at === null).map((row) => row.migration_name);
  /** `count` migrations that each create a table, the `n`th replaced by `up`. */
  const folderWithOne = (count: number, n: number, up: string) =>
    migrationsFolder({ ...Object.fromEntries(Array.from({ length: count }, (_, i) => [name(i + 1), tableMigration(`t${i + 1}`)])), [name(n)]: { up } });

  it('a run-time error in the 37th of 100: the first 36 applied and recorded, the 37th rolled back and named with file:line:column, 38-100 not run', async () => {
    const url = await createTestDatabase('batch');
    // PostgreSQL places this error (42703) in the message it received: line 3 of the file, not of the message.
    const dir = await folderWithOne(100, 37, 'create table t37 (id int);\n\nselect id, missing from t37;\n');
    const result = await runCli(migrateArgs(dir, 'up'), { env: { DATABASE_URL: url } });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${name(37)}/migration.sql:3:12: column "missing" does not exist (SQLSTATE 42703)`);
    expect(result.stderr).toMatch(/It was rolled back/);
    expect(await applied(url)).toEqual(Array.from({ length: 36 }, (_, i) => name(i + 1)));
    const rows = await history(url);
    expect(rows).toHaveLength(37);
    expect(rows[36]).toMatchObject({ migration_name: name(37), finished_at: null, rolled_back_at: expect.any(Date) });
    const made = await tables(url);
    expect(made).toContain('t36');
    for (const table of ['t37', 't38', 't100']) expect(made).not.toContain(table);

    // A rerun starts at the 37th: its result set has nothing done, the 37th failed and the 63 after it not run.
    const json = await runCli(migrateArgs(dir, 'up', '--json'), { env: { DATABASE_URL: url } });
    expect(json.json().data).toMatchObject({ verb: 'applied', done: [], failed: name(37) });
    expect(json.json().data.notRun).toHaveLength(63);
  });

  it('a statement without a position in the 3rd of 5 is found by counting what the server completed', async () => {
    const url = await createTestDatabase('batch');
    const dir = await folderWithOne(5, 3, 'create table t3 (id int);\n-- a comment\n  alter table t3 add column id int;\n');
    const result = await runCli(migrateArgs(dir, 'up'), { env: { DATABASE_URL: url } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${name(3)}/migration.sql:3:3: column "id" of relation "t3" already exists (SQLSTATE 42701)`);
    expect(await applied(url)).toEqual([name(1), name(2)]);
    expect(await tables(url)).toEqual(['_prisma_migrations', 't1', 't2']);
  });

  it('pg_terminate_backend during the 2nd of 3: the 1st stays applied, the 2nd leaves nothing, the 3rd never ran; a rerun applies both', async () => {
    const url = await createTestDatabase('batch');
    const dir = await migrationsFolder({
      '20260101000000_before': tableMigration('before'),
      [SLOW]: slowMigration,
      '20260101000002_after': tableMigration('after'),
    });
    const running = startCli(migrateArgs(dir, 'up'), { env: { DATABASE_URL: url } });
    await adminQuery(`select pg_terminate_backend(${await sleepingBackend(new URL(url).pathname.slice(1))})`);
    const result = await running.exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/20260101000001_slow\/migration\.sql:2:1: terminating connection .*\(SQLSTATE 57P01\)/);
    expect(await tables(url)).toEqual(['_prisma_migrations', 'before']);
    expect(await applied(url)).toEqual(['20260101000000_before']);
    await waitUntil(async () => (await lockHolders(url)) === 0, 10_000);
    const rerun = await runCli(migrateArgs(dir, 'up'), { env: { DATABASE_URL: url } });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await applied(url)).toEqual(['20260101000000_before', SLOW, '20260101000002_after']);
  });
});

describe('20 concurrent migrators', () => {
  it('apply each of 5 pending migrations exactly once, with consistent history', async () => {
    const url = await createTestDatabase('herd');
    const names = ['20260101000001_a', '20260101000002_b', '20260101000003_c', '20260101000004_d', '20260101000005_e'];
    const dir = await migrationsFolder(Object.fromEntries(names.map((name) => [name, tableMigration(name.slice(-1))])));
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 20 }, () => runCli(migrateArgs(dir, 'up', '--json'), { env: { DATABASE_URL: url } })));
    console.info(`20 concurrent migrate up: all done in ${Date.now() - started} ms`);

    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const applied = results.flatMap((result) => result.json().data.applied.map((step: { name: string }) => step.name));
    expect(applied.sort()).toEqual(names);
    const rows = await query(
      url,
      'select migration_name, finished_at, rolled_back_at, applied_steps_count, logs, started_at from _prisma_migrations order by started_at',
    );
    expect(rows.map((row) => row.migration_name)).toEqual(names);
    for (const row of rows) expect(row).toMatchObject({ rolled_back_at: null, applied_steps_count: 1, logs: null, finished_at: expect.any(Date) });
    expect(await tables(url)).toEqual(['_prisma_migrations', 'a', 'b', 'c', 'd', 'e']);
    expect(await lockHolders(url)).toBe(0);
  });
});
