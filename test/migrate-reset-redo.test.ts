import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogSnapshot } from './helpers/catalog.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { addMigration, migrateProject, query } from './helpers/migrations.js';

const PRISMA_DIR = fileURLToPath(new URL('../prisma', import.meta.url));
const temporaryDirs: string[] = [];

afterAll(async () => {
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Better Auth's tables as its migrations create them, one with a foreign key to the app's users table. */
const BETTER_AUTH = `
  create table "user" (id text primary key, email text not null);
  create table "session" (id text primary key, "userId" text not null references "user"(id), app_user uuid references users(id));
  create table "account" (id text primary key);
  create table "verification" (id text primary key);
  create table "jwks" (id text primary key);
  insert into "user" values ('u1', 'a@example.com');
  insert into "session" values ('s1', 'u1', null);`;

describe('migrate reset', () => {
  it('is refused in production, before anything is dropped', async () => {
    const url = await createTestDatabase('resetprod');
    await migrateProject(url);
    const before = await catalogSnapshot(url);
    const result = await runCli(['migrate', 'reset', '--yes', '--json'], { env: { DATABASE_URL: url, ENVIRONMENT: 'production' } });
    expect([result.code, result.json().error.code]).toEqual([2, 'PRODUCTION_REFUSED']);
    expect(await catalogSnapshot(url)).toEqual(before);
  });

  it('needs --yes when stdin is not a terminal', async () => {
    const url = await createTestDatabase('resetyes');
    await migrateProject(url);
    const result = await runCli(['migrate', 'reset', '--json'], { env: { DATABASE_URL: url } });
    expect([result.code, result.json().error.code]).toEqual([2, 'CONFIRMATION_REQUIRED']);
    expect((await query(url, 'select count(*)::int as n from _prisma_migrations'))[0].n).toBe(1);
  });

  it("drops everything in schema public but Better Auth's tables, reapplies the migrations and seeds", async () => {
    const url = await createTestDatabase('resetdev');
    await migrateProject(url);
    const migrated = await catalogSnapshot(url);
    await query(url, BETTER_AUTH);
    const withAuth = await catalogSnapshot(url);
    await query(url, `insert into users (email, password_hash) values ('someone@example.com', 'x'); create table scratch (id int); create type mood as enum ('ok'); create function f() returns int language sql as 'select 1'; create view v as select * from scratch;`);
    const result = await runCli(['migrate', 'reset', '--yes', '--json'], { env: { DATABASE_URL: url } });
    expect(result.code).toBe(0);
    const { dropped, kept, applied } = result.json().data;
    expect(dropped).toEqual(expect.arrayContaining([{ kind: 'table', name: 'users' }, { kind: 'table', name: 'tasks' }, { kind: 'table', name: 'scratch' }, { kind: 'table', name: '_prisma_migrations' }, { kind: 'type', name: 'mood' }, { kind: 'function', name: 'f' }]));
    expect(kept).toEqual(['table account (external)', 'table jwks (external)', 'table session (external)', 'table user (external)', 'table verification (external)']);
    expect(applied).toHaveLength(1);
    // Better Auth's rows stay; its foreign key onto the dropped users table goes with that table.
    expect(await query(url, 'select id from "session"')).toEqual([{ id: 's1' }]);
    expect(await query(url, 'select email from users')).toEqual([{ email: 'test@example.com' }]);
    const after = await catalogSnapshot(url);
    expect(after.filter((line) => !withAuth.includes(line))).toEqual([]);
    expect(withAuth.filter((line) => !after.includes(line))).toEqual([expect.stringMatching(/^constraint session_app_user_fkey/)]);
    expect(after.filter((line) => migrated.includes(line))).toEqual(migrated);
  });
});

describe('migrate redo', () => {
  it('rolls back the last migration and applies it again, leaving the same catalog', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'todo-db-redo-'));
    temporaryDirs.push(dir);
    await cp(PRISMA_DIR, join(dir, 'prisma'), { recursive: true });
    const migrationsDir = join(dir, 'prisma', 'migrations');
    await addMigration(migrationsDir, '20261201000000_notes', { up: 'create table notes (id int primary key);\n', down: 'drop table notes;\n' });
    const url = await createTestDatabase('redo');
    expect((await runCli(['migrate', 'up', '--migrations-dir', migrationsDir], { env: { DATABASE_URL: url } })).code).toBe(0);
    await query(url, 'insert into notes values (1)');
    const before = await catalogSnapshot(url);
    const result = await runCli(['migrate', 'redo', '--migrations-dir', migrationsDir, '--json'], { env: { DATABASE_URL: url } });
    expect(result.code).toBe(0);
    expect(result.json().data.rolledBack.map((step: { name: string }) => step.name)).toEqual(['20261201000000_notes']);
    expect(result.json().data.applied.map((step: { name: string }) => step.name)).toEqual(['20261201000000_notes']);
    expect(await catalogSnapshot(url)).toEqual(before);
    expect(await query(url, 'select * from notes')).toEqual([]);
    const two = await runCli(['migrate', 'redo', '--steps', '2', '--migrations-dir', migrationsDir], { env: { DATABASE_URL: url } });
    expect(two.stdout).toMatch(/Rolled back and applied again 2 migrations/);
    expect(await catalogSnapshot(url)).toEqual(before);
  });
});
