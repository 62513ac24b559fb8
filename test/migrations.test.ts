import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { MIGRATION_LOCK_KEY } from '../src/migrations/index.js';
import { catalogSnapshot } from './helpers/catalog.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { addMigration, migrationsFolder, query, tableMigration } from './helpers/migrations.js';

const migrate = (url: string, dir: string, ...args: string[]) => runCli(['migrate', ...args, '--migrations-dir', dir], { env: { DATABASE_URL: url } });

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
  logs: string | null;
  started_at: Date;
}

const history = (url: string) => query<HistoryRow>(url, 'select * from _prisma_migrations order by started_at');
const tables = async (url: string) =>
  (await query<{ relname: string }>(url, "select relname from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace order by 1")).map(
    (row) => row.relname,
  );

describe('migrate up, status, down', () => {
  it('applies in folder order, records Prisma-compatible history, and rolls back', async () => {
    const url = await createTestDatabase('mig');
    const dir = await migrationsFolder({ '20260101000001_first': tableMigration('first'), '20260101000002_second': tableMigration('second') });

    const pending = await migrate(url, dir, 'status', '--json');
    expect(pending.code).toBe(1);
    expect(pending.json().data.counts.pending).toBe(2);

    const up = await migrate(url, dir, 'up', '--json');
    expect(up.code).toBe(0);
    expect(up.json().data.applied.map((step: { name: string }) => step.name)).toEqual(['20260101000001_first', '20260101000002_second']);

    const rows = await history(url);
    const firstSql = await readFile(join(dir, '20260101000001_first', 'migration.sql'));
    expect(rows[0]).toMatchObject({
      migration_name: '20260101000001_first',
      checksum: createHash('sha256').update(firstSql).digest('hex'),
      applied_steps_count: 1,
      logs: null,
      rolled_back_at: null,
    });
    expect(rows[0]?.finished_at).toBeInstanceOf(Date);
    expect(rows[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.started_at.getTime()).toBeLessThan(rows[1]!.started_at.getTime());

    const status = await migrate(url, dir, 'status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/Up to date/);

    const noop = await migrate(url, dir, 'up');
    expect(noop.stdout).toMatch(/Already up to date/);

    const down = await migrate(url, dir, 'down');
    expect(down.code).toBe(0);
    expect(await tables(url)).toEqual(['_prisma_migrations', 'first']);
    const after = await migrate(url, dir, 'status', '--json');
    expect(after.code).toBe(1);
    expect(after.json().data.migrations.map((entry: { state: string }) => entry.state)).toEqual(['applied', 'rolled-back']);

    expect((await migrate(url, dir, 'up')).code).toBe(0);
    expect(await tables(url)).toEqual(['_prisma_migrations', 'first', 'second']);
  });

  it('migrations sent together share now() and statement_timestamp(); clock_timestamp() moves, and a no-transaction one has its own (docs/migrations.md)', async () => {
    const url = await createTestDatabase('mig');
    // pg_sleep makes each clock_timestamp() later than the one before, whatever the clock's resolution.
    const stamp = (n: number) => ({
      up: `select pg_sleep(0.01);\ninsert into stamps values (${n}, now(), transaction_timestamp(), statement_timestamp(), clock_timestamp());\n`,
    });
    const dir = await migrationsFolder({
      '20260101000001_stamps': { up: 'create table stamps (n int, now timestamptz, transaction timestamptz, statement timestamptz, clock timestamptz);\n' },
      '20260101000002_first': stamp(1),
      '20260101000003_second': stamp(2),
      '20260101000004_third': stamp(3),
      '20260101000005_alone': { up: `-- todo-db: no-transaction\n${stamp(4).up}` },
    });
    const result = await migrate(url, dir, 'up');
    expect(result.code, result.stderr).toBe(0);
    const rows = await query<Record<'now' | 'transaction' | 'statement' | 'clock', string>>(
      url,
      'select now::text, transaction::text, statement::text, clock::text from stamps order by n',
    );
    const [first, second, third, alone] = rows as [(typeof rows)[number], (typeof rows)[number], (typeof rows)[number], (typeof rows)[number]];
    // One message: every transaction in it starts at the time the server received it.
    for (const row of [first, second, third]) expect(row).toMatchObject({ now: first.now, transaction: first.now, statement: first.now });
    expect(new Set([first.clock, second.clock, third.clock]).size).toBe(3);
    expect(alone.now).not.toBe(first.now);
  });

  it('down --to rolls back everything after a migration; --steps counts', async () => {
    const url = await createTestDatabase('mig');
    const dir = await migrationsFolder({
      '20260101000001_a': tableMigration('a'),
      '20260101000002_b': tableMigration('b'),
      '20260101000003_c': tableMigration('c'),
    });
    await migrate(url, dir, 'up');
    expect((await migrate(url, dir, 'down', '--to', '20260101000001_a')).code).toBe(0);
    expect(await tables(url)).toEqual(['_prisma_migrations', 'a']);
    await migrate(url, dir, 'up');
    expect((await migrate(url, dir, 'down', '--steps', '2')).code).toBe(0);
    expect(await tables(url)).toEqual(['_prisma_migrations', 'a']);
  });

  it('refuses to roll back a migration without down.sql, by name, and needs --yes in production', async () => {
    const url = await createTestDatabase('mig');
    const dir = await migrationsFolder({ '20260101000001_oneway': { up: 'create table oneway (id int);' } });
    await migrate(url, dir, 'up');
    const down = await migrate(url, dir, 'down');
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/Migration 20260101000001_oneway has no down\.sql.*\[MIGRATION_IRREVERSIBLE\]/);

    await addMigration(dir, '20260101000002_two', tableMigration('two'));
    await migrate(url, dir, 'up');
    const production = await runCli(['migrate', 'down', '--migrations-dir', dir], { env: { DATABASE_URL: url, ENVIRONMENT: 'production' } });
    expect(production.code).toBe(2);
    expect(production.stderr).toMatch(/--yes/);
    expect(await tables(url)).toContain('two');
    const confirmed = await runCli(['migrate', 'down', '--yes', '--migrations-dir', dir], { env: { DATABASE_URL: url, ENVIRONMENT: 'production' } });
    expect(confirmed.code).toBe(0);
    expect(await tables(url)).not.toContain('two');
  });
});

describe('a failing migration leaves nothing behind', () => {
  it('points at file:line:column of the failing statement, keeps no object, records the rollback, and a fixed version applies', async () => {
    const url = await createTestDatabase('mig');
    const broken = [
      'create table kept_out (id int);',
      'create index kept_out_idx on kept_out (id);',
      '',
      '-- a comment',
      'insert into kept_out values (1);',
      '',
      '  alter table kept_out add column id int;',
      '',
    ].join('\n');
    const dir = await migrationsFolder({ '20260101000001_broken': { up: broken, down: 'drop table kept_out;' } });
    const result = await migrate(url, dir, 'up');
    expect(result.code).toBe(1);
    // PostgreSQL gives no position for this error: the statement that failed is found by counting completed ones.
    expect(result.stderr).toContain('20260101000001_broken/migration.sql:7:3: column "id" of relation "kept_out" already exists (SQLSTATE 42701)');
    expect(result.stderr).toMatch(/ 7 \| {3}alter table kept_out add column id int;\n\s+\| {3}\^/);
    expect(result.stderr).toMatch(/\[MIGRATION_FAILED\]/);
    expect(result.stderr).toMatch(/Fix migration\.sql and run again\. It was rolled back/);
    expect(await tables(url)).toEqual(['_prisma_migrations']);
    const [row] = await history(url);
    expect(row).toMatchObject({ migration_name: '20260101000001_broken', finished_at: null, applied_steps_count: 0 });
    expect(row?.rolled_back_at).toBeInstanceOf(Date);
    expect(row?.logs).toMatch(/already exists/);

    await writeFile(join(dir, '20260101000001_broken', 'migration.sql'), broken.replace('add column id int', 'add column note text'));
    expect((await migrate(url, dir, 'up')).code).toBe(0);
    expect(await tables(url)).toEqual(['_prisma_migrations', 'kept_out']);
  });

  it('refuses a syntax error with file:line:column before anything runs, the migrations before it included', async () => {
    const url = await createTestDatabase('mig');
    const dir = await migrationsFolder({
      '20260101000001_fine': tableMigration('fine'),
      '20260101000002_broken': { up: 'create table later (id int);\n\n-- a comment\nselec 1;\n' },
    });
    const result = await migrate(url, dir, 'up');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('20260101000002_broken/migration.sql:4:1: syntax error at or near "selec" (SQLSTATE 42601)');
    expect(result.stderr).toMatch(/ 4 \| selec 1;\n\s+\| \^/);
    expect(result.stderr).toMatch(/\[MIGRATION_INVALID\]/);
    expect(await tables(url)).toEqual([]);
  });

  it('runs a no-transaction migration statement by statement (CREATE INDEX CONCURRENTLY)', async () => {
    const url = await createTestDatabase('mig');
    const dir = await migrationsFolder({
      '20260101000001_table': tableMigration('things'),
      '20260101000002_index': {
        up: '-- todo-db: no-transaction\ncreate index concurrently things_id_name_idx on things (id, name);\n',
        down: 'drop index things_id_name_idx;',
      },
    });
    const result = await migrate(url, dir, 'up');
    expect(result.code, result.stderr).toBe(0);
    const indexes = await query(url, "select indexname from pg_indexes where tablename = 'things' and indexname = 'things_id_name_idx'");
    expect(indexes).toHaveLength(1);
  });

  it('refuses BEGIN or COMMIT inside a transactional migration before running anything', async () => {
    const url = await createTestDatabase('mig');
    const dir = await migrationsFolder({ '20260101000001_tx': { up: 'begin;\ncreate table tx (id int);\ncommit;\n' } });
    const result = await migrate(url, dir, 'up');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/migration\.sql:1:1: BEGIN is transaction control, which would end or split the transaction todo-db runs it in/);
    expect(await tables(url)).toEqual([]);
  });
});

describe('tamper checks', () => {
  it('detects an edited and a deleted applied migration, but not CRLF line endings', async () => {
    const url = await createTestDatabase('mig');
    const dir = await migrationsFolder({ '20260101000001_a': tableMigration('a'), '20260101000002_b': tableMigration('b') });
    await migrate(url, dir, 'up');
    await addMigration(dir, '20260101000003_c', tableMigration('c'));
    const file = join(dir, '20260101000001_a', 'migration.sql');
    const original = await readFile(file, 'utf8');

    await writeFile(file, original.replace(/\n/g, '\r\n'));
    const crlf = await migrate(url, dir, 'status', '--json');
    expect(crlf.json().data.migrations[0].state).toBe('applied');

    await writeFile(file, original.replace('name text', 'name varchar(10)'));
    const edited = await migrate(url, dir, 'up');
    expect(edited.code).toBe(1);
    expect(edited.stderr).toMatch(/20260101000001_a\/migration\.sql was changed after it was applied.*\[MIGRATION_EDITED\]/);
    expect(await tables(url)).not.toContain('c');
    expect((await migrate(url, dir, 'status')).code).toBe(1);

    await writeFile(file, original);
    await rm(join(dir, '20260101000002_b'), { recursive: true });
    const missing = await migrate(url, dir, 'up', '--json');
    expect(missing.code).toBe(1);
    expect(missing.json().error.code).toBe('MIGRATION_MISSING');
    expect(missing.json().error.message).toContain('20260101000002_b');
    expect((await migrate(url, dir, 'status', '--json')).json().data.migrations[1].state).toBe('missing');
  });

  it('refuses a pending migration that sorts before the last applied one, unless allowed', async () => {
    const url = await createTestDatabase('mig');
    const dir = await migrationsFolder({ '20260101000002_b': tableMigration('b') });
    await migrate(url, dir, 'up');
    await addMigration(dir, '20260101000001_a', tableMigration('a'));
    const refused = await migrate(url, dir, 'up');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/must always have a name that comes alphabetically after the last applied migration/);
    expect((await migrate(url, dir, 'up', '--allow-out-of-order')).code).toBe(0);
    expect(await tables(url)).toContain('a');
  });

  it('refuses a migration file that is a symlink to outside the folder', async () => {
    const url = await createTestDatabase('mig');
    const dir = await migrationsFolder();
    const outside = await mkdtemp(join(tmpdir(), 'todo-db-outside-'));
    await writeFile(join(outside, 'evil.sql'), 'create table evil (id int);');
    await mkdir(join(dir, '20260101000001_link'));
    await symlink(join(outside, 'evil.sql'), join(dir, '20260101000001_link', 'migration.sql'));
    const result = await migrate(url, dir, 'up');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/20260101000001_link\/migration\.sql resolves to .*evil\.sql, outside the migrations folder.*\[MIGRATION_INVALID\]/);
    expect(await tables(url)).toEqual([]);
  });
});

describe("the folder's entries, as Prisma lists them", () => {
  it('a hidden folder is a migration, in its place in the order; hidden files (.gitkeep, .DS_Store) are left alone', async () => {
    const url = await createTestDatabase('folders');
    const dir = await migrationsFolder({ '.early': tableMigration('early'), '20260101000001_a': tableMigration('a') });
    await writeFile(join(dir, '.gitkeep'), '');
    await writeFile(join(dir, '.DS_Store'), Buffer.from([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31]));
    expect((await runCli(['migrate', 'up', '--migrations-dir', dir], { env: { DATABASE_URL: url } })).code).toBe(0);
    const status = (await runCli(['migrate', 'status', '--migrations-dir', dir, '--json'], { env: { DATABASE_URL: url } })).json();
    expect(status.data.migrations.map(({ name, state }: { name: string; state: string }) => [name, state])).toEqual([
      ['.early', 'applied'],
      ['20260101000001_a', 'applied'],
    ]);
  });
});

describe('dry runs', () => {
  it('change nothing: catalog and history are the same before and after', async () => {
    const url = await createTestDatabase('mig');
    const dir = await migrationsFolder({ '20260101000001_a': tableMigration('a') });
    await migrate(url, dir, 'up');
    await addMigration(dir, '20260101000002_b', tableMigration('b'));
    const before = [await catalogSnapshot(url), await history(url)];

    const up = await migrate(url, dir, 'up', '--dry-run');
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/Would apply 1 migration/);
    expect(up.stdout).toContain('create table b');
    const down = await migrate(url, dir, 'down', '--dry-run', '--json');
    expect(down.json().data.plan.map((step: { name: string }) => step.name)).toEqual(['20260101000001_a']);

    expect([await catalogSnapshot(url), await history(url)]).toEqual(before);
  });

  it('take no lock', async () => {
    const url = await createTestDatabase('mig');
    const dir = await migrationsFolder({ '20260101000001_a': tableMigration('a') });
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const dry = await migrate(url, dir, 'up', '--dry-run', '--lock-timeout', '200');
    await holder.end();
    expect(dry.code).toBe(0);
  });
});

describe('the migration lock', () => {
  it('times out with LOCK_TIMEOUT naming the holder', async () => {
    const url = await createTestDatabase('mig');
    const dir = await migrationsFolder({ '20260101000001_a': tableMigration('a') });
    const holder = new pg.Client({ connectionString: url, application_name: 'someone-else' });
    await holder.connect();
    await holder.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const pid = (await holder.query('select pg_backend_pid() as pid')).rows[0].pid;
    const started = Date.now();
    const result = await migrate(url, dir, 'up', '--lock-timeout', '500', '--json');
    await holder.end();
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    const error = result.json().error;
    expect(error.code).toBe('LOCK_TIMEOUT');
    expect(error.message).toContain(`pid ${pid} "someone-else"`);
    expect(error.hint).toContain(`pg_terminate_backend(${pid})`);
    expect(await tables(url)).toEqual([]);
  });

  it('10 concurrent `migrate up` apply each of 3 migrations exactly once', async () => {
    const url = await createTestDatabase('mig');
    const dir = await migrationsFolder({
      '20260101000001_a': tableMigration('a'),
      '20260101000002_b': { up: 'select pg_sleep(0.2);\ncreate table b (id int);', down: 'drop table b;' },
      '20260101000003_c': tableMigration('c'),
    });
    const results = await Promise.all(Array.from({ length: 10 }, () => migrate(url, dir, 'up', '--json')));
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
    }
    const appliedByRun = results.flatMap((result) => result.json().data.applied.map((step: { name: string }) => step.name));
    expect(appliedByRun.sort()).toEqual(['20260101000001_a', '20260101000002_b', '20260101000003_c']);
    const rows = await history(url);
    expect(rows.map((row) => row.migration_name)).toEqual(['20260101000001_a', '20260101000002_b', '20260101000003_c']);
    expect(rows.every((row) => row.finished_at && row.applied_steps_count === 1 && !row.rolled_back_at)).toBe(true);
  });

  it('refuses a pooled URL for migrations and says to set DIRECT_DATABASE_URL', async () => {
    const dir = await migrationsFolder({ '20260101000001_a': tableMigration('a') });
    const neon = 'postgresql://app:pw@ep-cool-darkness-123456-pooler.eu-central-1.aws.neon.tech/neondb?sslmode=require';
    const result = await runCli(['migrate', 'up', '--migrations-dir', dir, '--json'], { env: { DATABASE_URL: neon } });
    expect(result.code).toBe(2);
    expect(result.json().error).toMatchObject({ code: 'POOLED_URL_FOR_MIGRATIONS' });
    expect(result.json().error.hint).toContain('ep-cool-darkness-123456.eu-central-1.aws.neon.tech');
  });

  it('uses DIRECT_DATABASE_URL for migrations while DATABASE_URL stays pooled', async () => {
    const url = await createTestDatabase('mig');
    const dir = await migrationsFolder({ '20260101000001_a': tableMigration('a') });
    const pooled = 'postgresql://app:pw@ep-cool-darkness-123456-pooler.eu-central-1.aws.neon.tech/neondb?sslmode=require';
    const result = await runCli(['migrate', 'up', '--migrations-dir', dir], { env: { DATABASE_URL: pooled, DIRECT_DATABASE_URL: url } });
    expect(result.code).toBe(0);
    expect(await tables(url)).toContain('a');
  });
});

describe('migrate create', () => {
  it.each([
    ['Add users table!', /^\d{14}_add_users_table$/],
    ['../../etc/passwd', /^\d{14}_etc_passwd$/],
    [`it's "quoted" & spaced`, /^\d{14}_it_s_quoted_spaced$/],
    ['x'.repeat(300), /^\d{14}_x{200}$/],
  ])('turns %j into one slugged folder inside the migrations folder', async (name, expected) => {
    const dir = join(await mkdtemp(join(tmpdir(), 'todo-db-create-')), 'migrations');
    const result = await runCli(['migrate', 'create', name, '--migrations-dir', dir, '--json']);
    expect(result.code).toBe(0);
    const created = result.json().data;
    expect(created.name).toMatch(expected);
    expect(created.dir).toBe(join(dir, created.name));
    expect(await readFile(join(dir, 'migration_lock.toml'), 'utf8')).toMatch(/^#.*\n#.*\nprovider = "postgresql"\n$/);
    expect(await readFile(join(created.dir, 'down.sql'), 'utf8')).toMatch(/Undoes/);
  });

  it('refuses a name with nothing to slug, and keeps creation order within one second', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'todo-db-create-')), 'migrations');
    expect((await runCli(['migrate', 'create', '!!!', '--migrations-dir', dir])).code).toBe(2);
    const first = (await runCli(['migrate', 'create', 'zeta', '--migrations-dir', dir, '--json'])).json().data.name;
    const second = (await runCli(['migrate', 'create', 'alpha', '--migrations-dir', dir, '--json'])).json().data.name;
    expect(second > first).toBe(true);
  });

  it.each([
    ['is a file', ''],
    ['is inside a file', 'sub'],
  ])('refuses a migrations folder that %s as bad usage, not a lost connection', async (_, below) => {
    const file = join(await mkdtemp(join(tmpdir(), 'todo-db-create-')), 'migrations');
    await writeFile(file, '');
    const result = await runCli(['migrate', 'create', 'x', '--migrations-dir', join(file, below), '--json']);
    expect(result.code).toBe(2);
    expect(result.json().error).toMatchObject({ code: 'MIGRATIONS_DIR_NOT_A_FOLDER', message: expect.stringContaining('is not a folder') });
  });
});
