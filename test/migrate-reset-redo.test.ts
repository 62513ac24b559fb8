import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogSnapshot } from './helpers/catalog.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { EXTERNAL_ROWS, EXTERNAL_SQL } from './helpers/external-tool.js';
import { addMigration, migrateProject, query } from './helpers/migrations.js';

const PRISMA_DIR = fileURLToPath(new URL('../prisma', import.meta.url));
const temporaryDirs: string[] = [];

afterAll(async () => {
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

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
    expect((await query(url, 'select count(*)::int as n from _prisma_migrations'))[0].n).toBe(2);
  });

  it('drops only what the migrations create, whatever the settings say, reapplies the migrations and seeds', async () => {
    const url = await createTestDatabase('resetdev');
    await migrateProject(url);
    const migrated = await catalogSnapshot(url);
    // Another tool's tables, one with a foreign key onto Better Auth's user table; no external-tables setting.
    await query(url, `${EXTERNAL_SQL} alter table "member" add column "userId" text references "user" (id); ${EXTERNAL_ROWS}`);
    const withTool = await catalogSnapshot(url);
    await query(
      url,
      `insert into "user" (id, email, name) values ('someone', 'someone@example.com', 'Someone'); create table scratch (id int); create type mood as enum ('ok'); create function f() returns int language sql as 'select 1'; create view v as select * from scratch; create view my_tasks as select * from tasks;`,
    );
    const result = await runCli(['migrate', 'reset', '--yes', '--json'], { env: { DATABASE_URL: url } });
    expect(result.code, result.stderr).toBe(0);
    const { dropped, kept, applied } = result.json().data;
    expect(dropped).toEqual(
      expect.arrayContaining([
        { kind: 'table', name: 'user' },
        { kind: 'table', name: 'tasks' },
        { kind: 'table', name: '_prisma_migrations' },
        { kind: 'view', name: 'my_tasks', cascaded: true },
      ]),
    );
    expect(dropped.map((object: { name: string }) => object.name)).not.toEqual(expect.arrayContaining(['scratch']));
    expect(kept).toEqual([
      'function f (no migration creates it)',
      'table audit_log (no migration creates it)',
      'table member (no migration creates it)',
      'table organization (no migration creates it)',
      'table scratch (no migration creates it)',
      'type audit_action (no migration creates it)',
      'type mood (no migration creates it)',
      'type slug (no migration creates it)',
      'view v (no migration creates it)',
    ]);
    expect(applied).toHaveLength(2);
    // The tool's rows stay; its foreign key onto the dropped user table goes with that table.
    expect(await query(url, 'select "id", "userId" from "member"')).toEqual([{ id: 'm1', userId: null }]);
    expect(await query(url, 'select email from "user"')).toEqual([{ email: 'test@example.com' }]);
    const after = await catalogSnapshot(url);
    expect(withTool.filter((line) => !after.includes(line))).toEqual([expect.stringMatching(/^constraint member_userId_fkey/)]);
    expect(after.filter((line) => migrated.includes(line))).toEqual(migrated);

    const human = await runCli(['migrate', 'reset', '--yes'], { env: { DATABASE_URL: url } });
    expect(human.stdout).toContain('To drop one of them too: todo-db migrate reset --drop <name> (repeatable).');
  });

  it('drops a table no migration creates only when --drop names it, and refuses a name schema public does not hold', async () => {
    const url = await createTestDatabase('resetdrop');
    await migrateProject(url);
    await query(url, `${EXTERNAL_SQL} ${EXTERNAL_ROWS} create table scratch (id int); create view v as select * from scratch;`);
    const before = await catalogSnapshot(url);
    const unknown = await runCli(['migrate', 'reset', '--yes', '--drop', 'scratch', '--drop', 'Scratch', '--json'], { env: { DATABASE_URL: url } });
    expect([unknown.code, unknown.json().error.code]).toEqual([2, 'DROP_NOT_FOUND']);
    expect(unknown.json().error.message).toContain('"Scratch"');
    expect(await catalogSnapshot(url)).toEqual(before);

    const result = await runCli(['migrate', 'reset', '--yes', '--drop', 'scratch', '--drop', 'v', '--drop', 'audit_log', '--json'], {
      env: { DATABASE_URL: url },
    });
    expect(result.code, result.stderr).toBe(0);
    const { dropped, kept } = result.json().data;
    expect(dropped).toEqual(
      expect.arrayContaining([
        { kind: 'table', name: 'scratch' },
        { kind: 'table', name: 'audit_log' },
        { kind: 'view', name: 'v', cascaded: true },
      ]),
    );
    expect(kept).toEqual([
      'table member (no migration creates it)',
      'table organization (no migration creates it)',
      'type audit_action (no migration creates it)',
      'type slug (no migration creates it)',
    ]);
    expect(await query(url, "select count(*)::int as n from pg_class where relname in ('scratch', 'audit_log')")).toEqual([{ n: 0 }]);
    expect(await query(url, 'select "id" from "organization"')).toEqual([{ id: 'o1' }]);
  });
});

describe('migrate redo', () => {
  it('rolls back the last migration and applies it again, leaving the same catalog', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'todo-db-redo-'));
    temporaryDirs.push(dir);
    await cp(PRISMA_DIR, join(dir, 'prisma'), { recursive: true });
    const migrationsDir = join(dir, 'prisma', 'migrations');
    await addMigration(migrationsDir, '20261210000000_notes', { up: 'create table notes (id int primary key);\n', down: 'drop table notes;\n' });
    const url = await createTestDatabase('redo');
    expect((await runCli(['migrate', 'up', '--migrations-dir', migrationsDir], { env: { DATABASE_URL: url } })).code).toBe(0);
    await query(url, 'insert into notes values (1)');
    const before = await catalogSnapshot(url);
    const result = await runCli(['migrate', 'redo', '--migrations-dir', migrationsDir, '--json'], { env: { DATABASE_URL: url } });
    expect(result.code).toBe(0);
    expect(result.json().data.rolledBack.map((step: { name: string }) => step.name)).toEqual(['20261210000000_notes']);
    expect(result.json().data.applied.map((step: { name: string }) => step.name)).toEqual(['20261210000000_notes']);
    expect(await catalogSnapshot(url)).toEqual(before);
    expect(await query(url, 'select * from notes')).toEqual([]);
    const two = await runCli(['migrate', 'redo', '--steps', '2', '--migrations-dir', migrationsDir], { env: { DATABASE_URL: url } });
    expect(two.stdout).toMatch(/Rolled back and applied again 2 migrations/);
    expect(await catalogSnapshot(url)).toEqual(before);
  });
});
