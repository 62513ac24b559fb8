import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultMigrationsDir } from '../src/config/package-root.js';
import { type CliResult, runCli } from './helpers/cli.js';
import { adminUrl, createTestDatabase } from './helpers/database.js';
import { migrateProject, query } from './helpers/migrations.js';
import { type PgBouncer, pgbouncerBinary, startPgBouncer } from './helpers/pgbouncer.js';

/**
 * Every command the app's deploy runs, through a real PgBouncer in transaction mode on a random port: URL rules
 * cannot know it is a pooler, so only behaviour counts.
 */
const installed = pgbouncerBinary() !== undefined;
const title = installed ? 'through PgBouncer in transaction mode' : 'through PgBouncer (skipped: pgbouncer is not installed; apt-get install pgbouncer)';
const password = adminUrl().password;
const dbName = (url: string) => new URL(url).pathname.slice(1);

/** What a user sees must never include the password, whatever the pooler said. */
function expectNoPassword(result: CliResult): void {
  expect(result.stdout + result.stderr).not.toContain(password);
}

/** A rejected startup parameter would fail the command; say so explicitly, as the pooler's words. */
function expectAccepted(result: CliResult): void {
  expect(result.stdout + result.stderr).not.toMatch(/unsupported startup parameter/i);
  expectNoPassword(result);
}

describe.skipIf(!installed)(title, () => {
  let bouncer: PgBouncer;
  let direct: string;
  let pooled: string;

  beforeAll(async () => {
    direct = await createTestDatabase('pgbouncer');
    await migrateProject(direct);
    bouncer = await startPgBouncer(adminUrl().toString());
    pooled = bouncer.url(dbName(direct));
  });
  afterAll(() => bouncer?.stop());

  it('check-connection works and sends no startup parameter the pooler rejects', async () => {
    const result = await runCli(['check-connection', '--json'], { env: { DATABASE_URL: pooled } });
    expectAccepted(result);
    expect(result.code).toBe(0);
    expect(result.json().data).toMatchObject({ database: dbName(direct), target: `127.0.0.1:${bouncer.port}` });
  });

  it('smoke passes through the pooler', async () => {
    const result = await runCli(['smoke', '--json'], { env: { DATABASE_URL: pooled } });
    expectAccepted(result);
    expect(result.code).toBe(0);
    expect(result.json().data).toMatchObject({ passed: true });
  });

  it('seed-dev creates the test user through the pooler', async () => {
    const result = await runCli(['seed-dev', '--json'], { env: { DATABASE_URL: pooled } });
    expectAccepted(result);
    expect(result.code).toBe(0);
    const rows = await query(direct, `select count(*)::int as n from "user" where email = 'test@example.com'`);
    expect(rows[0].n).toBe(1);
  });

  it('health reports healthy and up to date through the pooler', async () => {
    const result = await runCli(['health', '--json'], { env: { DATABASE_URL: pooled } });
    expectAccepted(result);
    expect(result.code).toBe(0);
    expect(result.json().data).toMatchObject({ status: 'healthy', database: 'connected', migration: 'up-to-date' });
  });

  it('migrate up through the pooler is refused before anything runs', async () => {
    const fresh = await createTestDatabase('pgbouncer_fresh');
    const result = await runCli(['migrate', 'up', '--json'], { env: { DATABASE_URL: bouncer.url(dbName(fresh)) } });
    expectNoPassword(result);
    expect(result.code).toBe(2);
    expect(result.json().error).toMatchObject({ code: 'POOLED_URL_FOR_MIGRATIONS', hint: expect.stringContaining('DIRECT_DATABASE_URL') });
    const tables = await query(fresh, "select count(*)::int as n from pg_tables where schemaname = 'public'");
    expect(tables[0].n).toBe(0);
  });

  it('migrate down through the pooler is refused too, and rolls nothing back', async () => {
    const result = await runCli(['migrate', 'down', '--json'], { env: { DATABASE_URL: pooled } });
    expectNoPassword(result);
    expect(result.code).toBe(2);
    expect(result.json().error).toMatchObject({ code: 'POOLED_URL_FOR_MIGRATIONS' });
    const rolledBack = await query(direct, 'select count(*)::int as n from _prisma_migrations where rolled_back_at is not null');
    expect(rolledBack[0].n).toBe(0);
  });

  /** What each history job would change, read on the direct connection: it must read the same afterwards. */
  const historyJobs = [
    [
      'migrate reset --yes',
      (url: string) => query(url, `insert into "user" (id, email, name) values ('kept', 'kept@example.com', 'Kept')`),
      'select count(*)::int as n from "user"',
    ],
    [
      'migrate resolve --rolled-back 20261123000000_init',
      (url: string) =>
        query(
          url,
          "update _prisma_migrations set finished_at = null, logs = 'failed, as far as this test is concerned' where migration_name = '20261123000000_init'",
        ),
      'select count(*)::int as n from _prisma_migrations where rolled_back_at is not null',
    ],
    [
      'migrate resolve --applied 20261123000000_init',
      (url: string) => query(url, 'delete from _prisma_migrations'),
      'select count(*)::int as n from _prisma_migrations',
    ],
    [
      'migrate baseline',
      (url: string) => query(url, 'drop table _prisma_migrations'),
      "select count(*)::int as n from pg_tables where tablename = '_prisma_migrations'",
    ],
    ['migrate redo', async () => {}, 'select count(*)::int as n from _prisma_migrations where rolled_back_at is not null'],
  ] as const;

  it.each(historyJobs)('%s through the pooler is refused, and changes nothing', async (command, arrange, observe) => {
    const fresh = await createTestDatabase('pgbouncer_history');
    await migrateProject(fresh);
    await arrange(fresh);
    const before = await query(fresh, observe);
    const result = await runCli([...command.split(' '), '--json'], { env: { DATABASE_URL: bouncer.url(dbName(fresh)) } });
    expectNoPassword(result);
    expect(result.code, result.stdout).toBe(2);
    expect(result.json().error).toMatchObject({ code: 'POOLED_URL_FOR_MIGRATIONS', hint: expect.stringContaining('DIRECT_DATABASE_URL') });
    expect(await query(fresh, observe)).toEqual(before);
  });

  it('migrate up uses DIRECT_DATABASE_URL while DATABASE_URL stays pooled, and the app then sees the schema', async () => {
    const fresh = await createTestDatabase('pgbouncer_direct');
    const env = { DATABASE_URL: bouncer.url(dbName(fresh)), DIRECT_DATABASE_URL: fresh };
    const migrated = await runCli(['migrate', 'up', '--json', '--migrations-dir', defaultMigrationsDir()], { env });
    expectNoPassword(migrated);
    expect(migrated.code).toBe(0);
    const health = await runCli(['health', '--json'], { env });
    expect(health.json().data).toMatchObject({ status: 'healthy', migration: 'up-to-date' });
  });

  it('really rejects unknown startup parameters, so the passes above mean something', async () => {
    // A random port is not recognisably a pooler, so todo-db forwards options= and PgBouncer must refuse it.
    const result = await runCli(['check-connection', '--json'], {
      env: { DATABASE_URL: `${pooled}?options=${encodeURIComponent('-c statement_timeout=1000')}` },
    });
    expectNoPassword(result);
    expect(result.code).toBe(1);
    expect(result.json().error).toMatchObject({ code: 'UNSUPPORTED_STARTUP_PARAMETER' });
  });

  it.each(['inspect-indexes', 'migrate diff'])(
    '%s with a pooled DATABASE_URL builds its shadow through DIRECT_DATABASE_URL, and names that target',
    async (command) => {
      const result = await runCli([...command.split(' '), '--json', '-v'], { env: { DATABASE_URL: pooled, DIRECT_DATABASE_URL: direct } });
      expectAccepted(result);
      expect(result.code, result.stdout).toBe(0);
      expect(result.json().data.target).toMatchObject({
        port: Number(new URL(direct).port),
        database: dbName(direct),
        purpose: 'migrations',
        from: 'DIRECT_DATABASE_URL (environment)',
      });
      const shadow = /Created the shadow database (todo_db_shadow_[0-9a-f]+)/.exec(result.stderr)?.[1];
      expect(shadow, result.stderr).toBeDefined();
      expect(await query(direct, 'select 1 from pg_database where datname = $1', [shadow])).toEqual([]);
    },
  );
});
