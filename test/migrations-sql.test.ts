import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { MIGRATION_LOCK_KEY } from '../src/migrations/index.js';
import { runCli, startCli } from './helpers/cli.js';
import { adminQuery, createTestDatabase } from './helpers/database.js';
import { addMigration, migrationsFolder, query, tableMigration } from './helpers/migrations.js';

/** Issue #10: SQL that PostgreSQL itself accepts or refuses, as a new user writes it. */

const migrate = (url: string, dir: string, ...args: string[]) => runCli(['migrate', ...args, '--migrations-dir', dir], { env: { DATABASE_URL: url } });
const tables = async (url: string) =>
  (await query<{ relname: string }>(url, "select relname from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace order by 1")).map(
    (row) => row.relname,
  );
const history = (url: string) => query(url, 'select migration_name, finished_at, rolled_back_at, logs from public._prisma_migrations order by started_at');
const historyExists = async (url: string) => (await query(url, "select to_regclass('public._prisma_migrations') as t"))[0].t !== null;

describe('transaction control is refused before anything runs', () => {
  it.each([
    ['commit and chain', 'COMMIT AND CHAIN'],
    ['rollback and chain', 'ROLLBACK AND CHAIN'],
    ['END', 'COMMIT'],
    ['abort work', 'ROLLBACK'],
    ["prepare transaction 'x'", 'PREPARE TRANSACTION'],
  ])('%j in a pending migration: nothing of any pending migration runs, no history is written', async (statement, what) => {
    const url = await createTestDatabase('sqltx');
    const dir = await migrationsFolder({
      '20260101000001_first': tableMigration('first'),
      '20260101000002_chained': { up: `create table half (id int);\n${statement};\ncreate table other_half (id int);\n` },
    });
    const result = await migrate(url, dir, 'up', '--json');
    expect(result.code).toBe(2);
    const { error } = result.json();
    expect(error.code).toBe('MIGRATION_INVALID');
    expect(error.message).toContain(`20260101000002_chained/migration.sql:2:1: ${what} is transaction control`);
    expect(error.hint).toMatch(/Nothing was run/);
    expect(await tables(url)).toEqual([]);
    expect(await historyExists(url)).toBe(false);
  });

  it('an applied migration is never judged again: only pending ones are', async () => {
    const url = await createTestDatabase('sqltx');
    const dir = await migrationsFolder({ '20260101000001_old': { up: 'create table old (id int);\n' } });
    expect((await migrate(url, dir, 'up')).code).toBe(0);
    // Applied by an older runner that let it through: its file, and its checksum in the history, say BEGIN ... COMMIT.
    const older = 'begin;\ncreate table old (id int);\ncommit;\n';
    await writeFile(join(dir, '20260101000001_old', 'migration.sql'), older);
    await query(url, 'update public._prisma_migrations set checksum = $1', [createHash('sha256').update(older).digest('hex')]);
    await addMigration(dir, '20260101000002_new', tableMigration('new'));
    const result = await migrate(url, dir, 'up');
    expect(result.code, result.stderr).toBe(0);
    expect(await tables(url)).toEqual(['_prisma_migrations', 'new', 'old']);
  });

  it('a COMMIT in down.sql is refused before the rollback starts; status stays truthful', async () => {
    const url = await createTestDatabase('sqltx');
    const dir = await migrationsFolder({
      '20260101000001_a': { up: 'create table a (id int);\ncreate table b (id int);\n', down: 'drop table b;\ncommit;\ndrop table a;\n' },
    });
    expect((await migrate(url, dir, 'up')).code).toBe(0);
    const down = await migrate(url, dir, 'down', '--json');
    expect(down.code).toBe(2);
    expect(down.json().error.message).toContain('20260101000001_a/down.sql:2:1: COMMIT is transaction control');
    expect(await tables(url)).toEqual(['_prisma_migrations', 'a', 'b']);
    const status = await migrate(url, dir, 'status', '--json');
    expect(status.code).toBe(0);
    expect(status.json().data.migrations[0].state).toBe('applied');
  });

  it('a transactional migration holding CREATE INDEX CONCURRENTLY is refused with a hint naming the no-transaction header', async () => {
    const url = await createTestDatabase('sqltx');
    const dir = await migrationsFolder({ '20260101000001_idx': { up: 'create table t (id int);\n\ncreate index concurrently t_id on t (id);\n' } });
    const result = await migrate(url, dir, 'up', '--json');
    expect(result.code).toBe(2);
    expect(result.json().error.message).toContain('migration.sql:3:1: CREATE INDEX CONCURRENTLY cannot run inside a transaction block');
    expect(result.json().error.hint).toContain('-- todo-db: no-transaction');
    expect(await tables(url)).toEqual([]);
  });

  it('every statement judged "refused in a transaction block" is refused by the server too (SQLSTATE 25001)', async () => {
    // The static list must never refuse what PostgreSQL accepts; each is tried in a transaction block that is rolled back.
    const url = await createTestDatabase('sqltx');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('create table t (id int); create index t_id on t (id); create schema s');
    const statements = [
      'create index concurrently i on t (id)',
      'drop index concurrently t_id',
      'reindex (concurrently) table t',
      'reindex table concurrently t',
      'reindex schema s',
      'vacuum t',
      'cluster',
      'alter system set work_mem = 1',
      'create database x',
      "create tablespace x location '/nonexistent'",
      'drop tablespace x',
      'drop database x',
    ];
    try {
      for (const statement of statements) {
        await client.query('begin');
        const code = await client.query(statement).then(
          () => 'ok',
          (error: { code?: string }) => error.code,
        );
        await client.query('rollback');
        expect([statement, code]).toEqual([statement, '25001']);
      }
    } finally {
      await client.end();
    }
  });
});

describe('each migration starts from the same session', () => {
  /** Every relation outside the system schemas with its owner, and what the later migrations saw of the session. */
  const snapshot = async (url: string) => ({
    relations: (
      await query(
        url,
        `select n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' owner=' || pg_get_userbyid(c.relowner) as line from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname not like 'pg_temp%' and n.nspname not like 'pg_toast_temp%' order by 1`,
      )
    ).map((row) => row.line),
    observed: await query(url, 'select * from public.observed order by step'),
    history: (await history(url)).map((row) => [row.migration_name, row.finished_at !== null, row.rolled_back_at !== null]),
  });

  it('search_path, role, settings and temporary tables set by one migration reach neither the next, nor the history: one run equals one run per migration', async () => {
    const role = `mig_owner_${randomBytes(4).toString('hex')}`;
    await adminQuery(`create role ${role} nologin`);
    const observe = (step: number) =>
      `insert into public.observed select ${step}, current_setting('work_mem'), current_user::text, current_schema()::text, to_regclass('pg_temp.scratch') is not null;\n`;
    const migrations = {
      '20260101000001_leaky': {
        up: `create schema elsewhere authorization ${role};\ngrant create on schema public to ${role};\ncreate table public.observed (step int, work_mem text, who text, schema text, temp_visible boolean);\ngrant insert on public.observed to ${role};\nset search_path = elsewhere;\nset role ${role};\nset work_mem = '7MB';\ncreate temp table scratch (id int);\ncreate table in_elsewhere (id int);\n${observe(1)}`,
      },
      '20260101000002_next': { up: `create table plain (id int);\n${observe(2)}`, down: 'drop table plain;\ndelete from public.observed where step = 2;\n' },
      '20260101000003_notx': { up: `-- todo-db: no-transaction\nset role ${role};\nset search_path = elsewhere;\ncreate table from_notx (id int);\n` },
      '20260101000004_last': { up: `create table last (id int);\n${observe(4)}` },
    };
    const together = await createTestDatabase('sqliso');
    const oneByOne = await createTestDatabase('sqliso');
    const dir = await migrationsFolder(migrations);

    const all = await migrate(together, dir, 'up');
    expect(all.code, all.stderr).toBe(0);
    for (const name of Object.keys(migrations)) expect((await migrate(oneByOne, dir, 'up', '--to', name)).code).toBe(0);

    const expected = await snapshot(together);
    expect(await snapshot(oneByOne)).toEqual(expected);
    const user = (await query(together, 'select session_user::text as u'))[0].u;
    expect(expected.relations).toEqual(
      expect.arrayContaining([
        `elsewhere.in_elsewhere r owner=${role}`,
        `elsewhere.from_notx r owner=${role}`,
        `public.plain r owner=${user}`,
        `public.last r owner=${user}`,
        `public._prisma_migrations r owner=${user}`,
      ]),
    );
    const workMem = (await query(together, "select current_setting('work_mem') as w"))[0].w;
    expect(expected.observed).toEqual([
      { step: 1, work_mem: '7MB', who: role, schema: 'elsewhere', temp_visible: true },
      { step: 2, work_mem: workMem, who: user, schema: 'public', temp_visible: false },
      { step: 4, work_mem: workMem, who: user, schema: 'public', temp_visible: false },
    ]);
    expect(expected.history.every(([, finished, rolledBack]) => finished && !rolledBack)).toBe(true);
  });
});

describe('PostgreSQL splits the statements', () => {
  it('a BEGIN ATOMIC function body is a function, not transaction control', async () => {
    const url = await createTestDatabase('sqlsplit');
    const body = 'create function add_one(i int) returns int language sql\nbegin atomic\n  select i + 1;\nend;\ncreate table uses_it (n int default 1);\n';
    const dir = await migrationsFolder({ '20260101000001_atomic': { up: body } });
    const result = await migrate(url, dir, 'up');
    expect(result.code, result.stderr).toBe(0);
    expect((await query(url, 'select add_one(41) as n'))[0].n).toBe(42);
  });

  it("E'it\\'s; fine' in a no-transaction migration is one statement, and nothing is cut at its semicolon", async () => {
    const url = await createTestDatabase('sqlsplit');
    const up =
      "-- todo-db: no-transaction\ncreate table notes (body text);\ninsert into notes values (E'it\\'s; fine');\ncreate index concurrently notes_body on notes (body);\n";
    const dir = await migrationsFolder({ '20260101000001_escaped': { up } });
    const result = await migrate(url, dir, 'up');
    expect(result.code, result.stderr).toBe(0);
    expect(await query(url, 'select body from notes')).toEqual([{ body: "it's; fine" }]);
  });
});

describe('encoding', () => {
  it('a leading UTF-8 BOM is ignored, as psql ignores it', async () => {
    const url = await createTestDatabase('sqlenc');
    const dir = await migrationsFolder({ '20260101000001_bom': { up: '\uFEFFcreate table with_bom (id int);\n' } });
    const result = await migrate(url, dir, 'up');
    expect(result.code, result.stderr).toBe(0);
    expect(await tables(url)).toContain('with_bom');
    // The checksum stays Prisma's: the file's bytes, BOM included.
    expect((await migrate(url, dir, 'status')).code).toBe(0);
  });

  it("the checksum is Prisma's, the SHA-256 of the file's bytes, whatever UTF-8 it holds", async () => {
    const url = await createTestDatabase('sqlenc');
    const bodies: Record<string, string> = {
      '20260101000001_multibyte': "create table café (name text default 'naïve 東京 🐘');\n",
      '20260101000002_bom': '\uFEFFcreate table with_bom (id int);\n',
      '20260101000003_replacement': "create table marks (mark text default '\uFFFD');\n",
      '20260101000004_crlf': 'create table crlf (id int);\r\n',
    };
    const dir = await migrationsFolder(Object.fromEntries(Object.entries(bodies).map(([name, up]) => [name, { up }])));
    expect((await migrate(url, dir, 'up')).code).toBe(0);
    const rows = await query(url, 'select migration_name, checksum from _prisma_migrations order by migration_name');
    expect(rows).toEqual(Object.entries(bodies).map(([name, up]) => ({ migration_name: name, checksum: createHash('sha256').update(up).digest('hex') })));
    expect(await query(url, 'insert into café default values returning name')).toEqual([{ name: 'naïve 東京 🐘' }]);
    expect(await query(url, 'insert into marks default values returning mark')).toEqual([{ mark: '\uFFFD' }]);
    expect((await migrate(url, dir, 'status')).code).toBe(0);
  });

  it('a Latin-1 byte is refused with MIGRATION_INVALID and its line:column, before anything runs', async () => {
    const url = await createTestDatabase('sqlenc');
    const dir = await migrationsFolder({ '20260101000001_fine': tableMigration('fine') });
    await mkdir(join(dir, '20260101000002_latin1'));
    await writeFile(
      join(dir, '20260101000002_latin1', 'migration.sql'),
      Buffer.concat([Buffer.from("create table caf (name text);\ninsert into caf values ('caf"), Buffer.from([0xe9]), Buffer.from("');\n")]),
    );
    const result = await migrate(url, dir, 'up', '--json');
    expect(result.code).toBe(2);
    expect(result.json().error.code).toBe('MIGRATION_INVALID');
    expect(result.json().error.message).toContain('20260101000002_latin1/migration.sql:2:29: the file is not UTF-8');
    expect(await tables(url)).toEqual([]);
  });
});

describe('every failure names file:line:column, and the hint fits the cause', () => {
  it('a failed cast without a position points at its statement', async () => {
    const url = await createTestDatabase('sqlerr');
    const up =
      "create table amounts (raw text);\ninsert into amounts values ('12'), ('twelve');\n\nalter table amounts\n  alter column raw type int using raw::int;\n";
    const dir = await migrationsFolder({ '20260101000001_cast': { up } });
    const result = await migrate(url, dir, 'up', '--json');
    expect(result.code).toBe(1);
    expect(result.json().error.message).toMatch(
      /^\S*20260101000001_cast\/migration\.sql:4:1: invalid input syntax for type integer: "twelve" \(SQLSTATE 22P02\)\n {2}4 \| alter table amounts/,
    );
  });

  it('a no-transaction migration and a down.sql report the line of their failing statement', async () => {
    const url = await createTestDatabase('sqlerr');
    const dir = await migrationsFolder({
      '20260101000001_table': { up: 'create table t (id int);\n', down: 'drop table t;\n\ndrop table not_there;\n' },
      '20260101000002_notx': { up: '-- todo-db: no-transaction\ncreate index concurrently t_id on t (id);\n\nselect nope from t;\n' },
    });
    const up = await migrate(url, dir, 'up', '--json');
    expect(up.code).toBe(1);
    expect(up.json().error.message).toContain('20260101000002_notx/migration.sql:4:8: column "nope" does not exist (SQLSTATE 42703)');
    expect(up.json().error.hint).toMatch(/ran outside a transaction/);

    await query(url, "update public._prisma_migrations set rolled_back_at = now() where migration_name = '20260101000002_notx'");
    await query(url, 'drop index t_id');
    const down = await migrate(url, dir, 'down', '--json');
    expect(down.code).toBe(1);
    expect(down.json().error.message).toContain('20260101000001_table/down.sql:3:1: table "not_there" does not exist (SQLSTATE 42P01)');
    expect(await tables(url)).toContain('t');
  });

  it('a lock timeout and a statement timeout are not "fix migration.sql"', async () => {
    const url = await createTestDatabase('sqlerr');
    const dir = await migrationsFolder({ '20260101000001_t': tableMigration('busy') });
    expect((await migrate(url, dir, 'up')).code).toBe(0);
    await addMigration(dir, '20260101000002_alter', { up: 'alter table busy add column extra int;\n' });
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('begin; lock table busy in access share mode');
    const locked = await migrate(url, dir, 'up', '--statement-lock-timeout', '200', '--json');
    await holder.end();
    expect(locked.code).toBe(1);
    expect(locked.json().error.message).toMatch(/migration\.sql:1:1: .*\(SQLSTATE 55P03\)/);
    expect(locked.json().error.hint).toMatch(/lock was not granted in time/);
    expect(locked.json().error.hint).not.toMatch(/Fix migration\.sql/);

    await addMigration(dir, '20260101000003_slow', { up: "set local statement_timeout = '50ms';\nselect pg_sleep(2);\n" });
    await writeFile(join(dir, '20260101000002_alter', 'migration.sql'), 'select 1;\n');
    const slow = await migrate(url, dir, 'up', '--json');
    expect(slow.code).toBe(1);
    expect(slow.json().error.message).toMatch(/20260101000003_slow\/migration\.sql:2:1: .*\(SQLSTATE 57014\)/);
    expect(slow.json().error.hint).toMatch(/statement_timeout/);
    expect(slow.json().error.hint).not.toMatch(/Fix migration\.sql/);
  });
});

describe('malformed folders', () => {
  it.each(['migration.sql', 'down.sql'])('a %s that is a directory is MIGRATION_INVALID, exit 2, naming the path', async (file) => {
    const url = await createTestDatabase('sqlfolder');
    const dir = await migrationsFolder({ '20260101000001_a': tableMigration('a') });
    if (file === 'down.sql') expect((await migrate(url, dir, 'up')).code).toBe(0);
    const target = join(dir, '20260101000001_a', file);
    await rm(target);
    await mkdir(target);
    const result = await migrate(url, dir, file === 'down.sql' ? 'down' : 'up', '--json');
    expect(result.code).toBe(2);
    expect(result.json().error).toMatchObject({ code: 'MIGRATION_INVALID' });
    expect(result.json().error.message).toContain(`20260101000001_a/${file} is a directory, not a file`);
  });

  it.each([
    ['an empty', ''],
    ['a small', 'select 1;\n'],
    ['a large (over 64 kB)', `select 1;\n${'-- padding\n'.repeat(20_000)}`],
  ])('a migration.sql that is a FIFO is refused without waiting for a writer; %s one beside it is read whole', async (_kind, body) => {
    const url = await createTestDatabase('sqlfifo');
    const dir = await migrationsFolder({ '20260101000001_a': { up: body }, '20260101000002_b': tableMigration('b') });
    const fifo = join(dir, '20260101000002_b', 'migration.sql');
    await rm(fifo);
    execFileSync('mkfifo', [fifo]);
    const result = await migrate(url, dir, 'up', '--json');
    expect(result.code).toBe(2);
    expect(result.json().error).toMatchObject({ code: 'MIGRATION_INVALID' });
    expect(result.json().error.message).toContain('20260101000002_b/migration.sql is not a regular file');
    await rm(join(dir, '20260101000002_b'), { recursive: true });
    expect((await migrate(url, dir, 'up')).code).toBe(0);
    const [row] = await query(url, 'select checksum from _prisma_migrations');
    expect(row.checksum).toBe(createHash('sha256').update(body).digest('hex'));
  });
});

describe('a migration in progress is not a failure', () => {
  it('an unfinished row is running while a migrator holds the lock, and failed once none does', async () => {
    const url = await createTestDatabase('sqlrun');
    const dir = await migrationsFolder({ '20260101000001_a': tableMigration('a'), '20260101000002_b': { up: '-- todo-db: no-transaction\nselect 1;\n' } });
    expect((await migrate(url, dir, 'up', '--to', '20260101000001_a')).code).toBe(0);
    await query(
      url,
      "insert into public._prisma_migrations (id, checksum, migration_name, started_at) values ('x', 'x', '20260101000002_b', clock_timestamp())",
    );
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const status = await migrate(url, dir, 'status', '--json');
      expect(status.json().data.migrations.map((entry: { state: string }) => entry.state)).toEqual(['applied', 'running']);
      const health = await runCli(['health', '--json', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
      expect(health.json().data.migration).toBe('running');
    } finally {
      await holder.end();
    }
    const after = await migrate(url, dir, 'status', '--json');
    expect(after.json().data.migrations[1].state).toBe('failed');
    const up = await migrate(url, dir, 'up', '--json');
    expect(up.json().error.code).toBe('MIGRATION_FAILED');
  });

  it('a second `migrate up` during a no-transaction migration waits for the lock and then finds it applied', async () => {
    const url = await createTestDatabase('sqlrun');
    const database = new URL(url).pathname.slice(1);
    const dir = await migrationsFolder({
      '20260101000001_slow': {
        up: '-- todo-db: no-transaction\ncreate table slow (id int);\nselect pg_sleep(3);\ncreate index concurrently slow_id on slow (id);\n',
      },
    });
    const first = startCli(['migrate', 'up', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    // Inside pg_sleep: the history row is written and unfinished.
    for (let i = 0; i < 400; i++) {
      const { rows } = await adminQuery(`select 1 from pg_stat_activity where datname = '${database}' and query like '%pg_sleep%' and state = 'active'`);
      if (rows.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const second = await migrate(url, dir, 'up', '--json', '--lock-timeout', '30000');
    const firstResult = await first.exited;
    expect(firstResult.code, firstResult.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json().data.applied).toEqual([]);
    expect(second.json().data.waitedForLockMs).toBeGreaterThan(0);
    const rows = await history(url);
    expect(rows).toHaveLength(1);
    expect(rows[0].finished_at).toBeInstanceOf(Date);
  });
});
