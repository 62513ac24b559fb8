import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultMigrationsDir } from '../src/config/package-root.js';
import { destroyLocalServer } from '../src/local/index.js';
import { type RunningCli, runCli, startCli } from './helpers/cli.js';
import { adminQuery, createTestDatabase } from './helpers/database.js';
import { addMigration, migrateProject, query } from './helpers/migrations.js';

/**
 * SIGINT (Ctrl-C) and SIGTERM (CI cancellation, `timeout`, container stops) alike: the current step stops, what
 * the command created is removed, one line says so, and the exit code is 130 or 143. Each run is held mid-step
 * deterministically (a slow migration, a lock this test holds) and signalled only once the server shows it there.
 */
const SIGNALS = [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const;

/** The project's migrations plus one that sleeps, so a run is deterministically mid-step while it sleeps. */
async function migrationsWithSlowOne(up = 'create table signal_probe (id int);\nselect pg_sleep(60);\n'): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'todo-db-signals-')), 'migrations');
  await cp(defaultMigrationsDir(), dir, { recursive: true });
  await addMigration(dir, '20990101000000_slow', { up, down: 'drop table if exists signal_probe;\n' });
  return dir;
}

async function migratedDatabase(): Promise<string> {
  const url = await createTestDatabase('signals');
  await migrateProject(url);
  return url;
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const databaseName = (url: string) => new URL(url).pathname.slice(1);

/** Backends of one todo-db application_name on the server (any database), optionally only those doing `state`. */
async function backends(applicationName: string, where = 'true'): Promise<number> {
  const { rows } = await adminQuery(`select count(*)::int as n from pg_stat_activity where application_name = '${applicationName}' and ${where}`);
  return rows[0].n;
}

async function shadowDatabases(): Promise<string[]> {
  return (await adminQuery("select datname from pg_database where datname like 'todo_db_shadow_%'")).rows.map((row) => row.datname);
}

/** Runs work while this test holds a lock on the database, so a command is deterministically mid-step. */
async function whileLocked<T>(url: string, lockSql: string, work: () => Promise<T>): Promise<T> {
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  try {
    await locker.query(`begin; ${lockSql}`);
    return await work();
  } finally {
    await locker.query('rollback').catch(() => {});
    await locker.end();
  }
}

async function expectInterrupted(running: RunningCli, signal: string, exitCode: number, says: RegExp): Promise<void> {
  running.child.kill(signal as NodeJS.Signals);
  const result = await running.exited;
  expect(result.code, result.stderr).toBe(exitCode);
  const lines = result.stderr.split('\n').filter((line) => line.includes('[INTERRUPTED]'));
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toContain(`Interrupted by ${signal}`);
  expect(lines[0]).toMatch(says);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

describe.each(SIGNALS)('on %s', (signal, exitCode) => {
  it.each(['migrate diff', 'inspect-indexes'])('%s drops its shadow database', async (command) => {
    const url = await migratedDatabase();
    const dir = await migrationsWithSlowOne();
    const running = startCli([...command.split(' '), '--verbose', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    const [, shadow] = await running.waitFor(/Created the shadow database (todo_db_shadow_[0-9a-f]+)/);
    await until(async () => (await backends('todo-db migrate', `datname = '${shadow}' and wait_event = 'PgSleep'`)) === 1, 'the shadow migration is sleeping');
    await expectInterrupted(running, signal, exitCode, new RegExp(`removed the shadow database ${shadow}`));
    expect(await shadowDatabases()).not.toContain(shadow);
  });

  it.each([
    ['migrate up', [], /nothing to remove; any open transaction is rolled back by PostgreSQL/],
    ['setup', ['connection'], /stopped the current step/],
  ] as const)('%s stops mid-migration at the first signal: no table, no history row, no lock', async (command, after, says) => {
    const url = command === 'setup' ? await createTestDatabase('signals') : await migratedDatabase();
    const dir = await migrationsWithSlowOne();
    const running = startCli([...command.split(' '), '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    for (const step of after) await running.waitFor(new RegExp(`${step}\\s`));
    // setup migrates on the connection it opened for all its steps but smoke's.
    const migrator = command === 'setup' ? 'todo-db setup' : 'todo-db migrate';
    await until(async () => (await backends(migrator, `datname = '${databaseName(url)}' and wait_event = 'PgSleep'`)) === 1, 'the migration is sleeping');
    await expectInterrupted(running, signal, exitCode, says);
    // The server notices the closed connection (client_connection_check_interval) and rolls back.
    await until(async () => (await backends(migrator, `datname = '${databaseName(url)}'`)) === 0, 'the migrator backend is gone');
    const [state] = await query(
      url,
      `select to_regclass('signal_probe') as probe,
      (select count(*)::int from _prisma_migrations where migration_name = '20990101000000_slow') as rows,
      (select count(*)::int from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())) as locks`,
    );
    expect(state).toEqual({ probe: null, rows: 0, locks: 0 });
  });

  /** seed-dev stopped while its insert waits on `lock`; the row counts once its backend is gone. */
  async function seedStoppedWaitingOn(url: string, lock: string): Promise<{ users: number; tasks: number }> {
    await whileLocked(url, lock, async () => {
      const running = startCli(['seed-dev'], { env: { DATABASE_URL: url } });
      await until(async () => (await backends('todo-db seed-dev', "wait_event_type = 'Lock'")) === 1, 'seed-dev waits on the lock');
      await expectInterrupted(running, signal, exitCode, /nothing to remove/);
    });
    await until(async () => (await backends('todo-db seed-dev', `datname = '${databaseName(url)}'`)) === 0, 'the seed backend is gone');
    const [counts] = await query(url, 'select (select count(*) from "user")::int as users, (select count(*) from tasks)::int as tasks');
    return counts;
  }

  it('seed-dev stops mid-transaction: no user, no task', async () => {
    const url = await migratedDatabase();
    // SHARE on "user" lets seed-dev read, then blocks its insert: it is mid-transaction until the lock is released.
    expect(await seedStoppedWaitingOn(url, 'lock table "user" in share mode')).toEqual({ users: 0, tasks: 0 });
  });

  it('seed-dev stops while restoring deleted tasks: they stay deleted, even after its statement could finish', async () => {
    const url = await migratedDatabase();
    expect((await runCli(['seed-dev'], { env: { DATABASE_URL: url } })).code).toBe(0);
    await query(url, 'delete from tasks');
    // Its insert waits on the lock; released after the process is gone, the insert completes in a transaction nobody commits.
    expect(await seedStoppedWaitingOn(url, 'lock table tasks in share mode')).toEqual({ users: 1, tasks: 0 });
  });

  it('smoke finishes the current step and removes its rows', async () => {
    const url = await migratedDatabase();
    // SHARE on tasks lets smoke create its user, then blocks its task insert: the run is stopped half-way, and
    // finishes that step once the lock is released.
    const running = await whileLocked(url, 'lock table tasks in share mode', async () => {
      const started = startCli(['smoke'], { env: { DATABASE_URL: url } });
      await until(async () => (await backends('todo-db smoke', "wait_event_type = 'Lock'")) === 1, 'smoke waits on the lock');
      started.child.kill(signal);
      await started.waitFor(new RegExp(`Interrupted by ${signal}: finishing the current step`));
      return started;
    });
    const result = await running.exited;
    expect(result.code, result.stderr).toBe(exitCode);
    expect(result.stdout).toMatch(/^ok\s+create\s/m);
    expect(result.stdout).not.toMatch(/^\S+\s+read\s/m);
    expect(result.stderr).toContain(`Interrupted by ${signal} after 1 of 5 steps; 1 throwaway user removed, nothing left behind. [INTERRUPTED]`);
    const [counts] = await query(url, 'select (select count(*) from "user")::int as users, (select count(*) from tasks)::int as tasks');
    expect(counts).toEqual({ users: 0, tasks: 0 });
  });
});

describe.each(SIGNALS)('on %s while the local database starts', (signal, exitCode) => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await destroyLocalServer({ dir });
  });

  /** initdb's pid for this data dir, through /proc. */
  function initdbFor(dataDir: string | undefined): number | undefined {
    if (dataDir === undefined) return undefined;
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      const argv = (() => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        } catch {
          return [];
        }
      })();
      if (basename(argv[0] ?? '') === 'initdb' && argv.includes(dataDir)) return Number(pid);
    }
    return undefined;
  }

  it('ends initdb, removes the half-made cluster, its password file and the lock; a rerun starts it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'todo-db-signals-local-'));
    const running = startCli(['local', 'start'], { env: { TODO_DB_LOCAL_DIR: dir } });
    // The state (with the data dir's path) is written before initdb; initdb takes seconds on any machine.
    let initdb: number | undefined;
    await until(async () => {
      initdb = initdbFor((await stateOf(dir!))?.dataDir);
      return initdb !== undefined;
    }, 'initdb runs');
    const { clusterDir, dataDir } = (await stateOf(dir))!;
    // Frozen (its postgres --boot child waits on it), initdb cannot finish before the signal: only todo-db can end it.
    process.kill(initdb!, 'SIGSTOP');
    await expectInterrupted(running, signal, exitCode, /removed the half-made local database in .* and the local database's lock/);
    expect(existsSync(join(dir, 'lock'))).toBe(false);
    expect(initdbFor(dataDir)).toBeUndefined();
    expect(existsSync(dataDir)).toBe(false);
    expect((await readdir(clusterDir)).filter((name) => name.startsWith('.pwfile'))).toEqual([]);
    const rerun = await runCli(['local', 'start'], { env: { TODO_DB_LOCAL_DIR: dir } });
    expect(rerun.code, rerun.stderr).toBe(0);
  }, 120_000);
});

/** The local database's state.json, once written (atomically, by rename). */
async function stateOf(dir: string): Promise<{ clusterDir: string; dataDir: string } | undefined> {
  if (!existsSync(join(dir, 'state.json'))) return undefined;
  return JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));
}
