import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../src/config/database-url.js';
import { defaultMigrationsDir } from '../src/config/package-root.js';
import { withShadowDatabase } from '../src/shadow/shadow-database.js';
import { runCli, startCli } from './helpers/cli.js';
import { adminQuery, createTestDatabase } from './helpers/database.js';
import { addMigration, migrateProject, migrationsFolder, query } from './helpers/migrations.js';

const diff = (url: string, ...args: string[]) => runCli(['migrate', 'diff', ...args], { env: { DATABASE_URL: url } });

async function migratedDatabase(): Promise<string> {
  const url = await createTestDatabase('diff');
  await migrateProject(url);
  return url;
}

/** The shadow database a run created, from its --verbose log. */
function shadowNameIn(stderr: string): string {
  const match = /Created the shadow database (todo_db_shadow_[0-9a-f]+)/.exec(stderr);
  expect(match, stderr).not.toBeNull();
  return match?.[1] as string;
}

async function databaseExists(name: string): Promise<boolean> {
  return (await adminQuery(`select 1 from pg_database where datname = '${name}'`)).rowCount === 1;
}

describe('migrate diff', () => {
  it('finds no difference on a freshly migrated database, and leaves no shadow database behind', async () => {
    const url = await migratedDatabase();
    const result = await diff(url, '--verbose');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/The live schema and the migrations match/);
    expect(await databaseExists(shadowNameIn(result.stderr))).toBe(false);

    const json = await diff(url, '--json');
    expect(json.code).toBe(0);
    expect(json.json()).toMatchObject({
      ok: true,
      command: 'migrate diff',
      data: { differences: [], live: { pendingMigrations: [] }, schema: null },
      error: null,
    });
  });

  it('reports a changed column type as exactly one difference', async () => {
    const url = await migratedDatabase();
    await query(url, 'alter table tasks alter column title type varchar(250)');

    const result = await diff(url);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('1 difference between the live schema and the migrations');
    expect(result.stdout).toContain('column tasks.title: live character varying(250), migrations say character varying(200)');

    const json = await diff(url, '--json');
    expect(json.code).toBe(1);
    expect(json.json().data.differences).toEqual([
      {
        kind: 'column',
        object: 'tasks.title',
        table: 'tasks',
        message: 'column tasks.title: live character varying(250), migrations say character varying(200)',
      },
    ]);
    expect(json.json().error.code).toBe('SCHEMA_DRIFT');
  });

  it('reports a dropped CHECK constraint, a changed foreign key and an extra enum label, each once', async () => {
    const url = await migratedDatabase();
    await query(url, 'alter table tasks drop constraint tasks_title_length_check');
    await query(
      url,
      'alter table tasks drop constraint tasks_user_id_fkey, add constraint tasks_user_id_fkey foreign key (user_id) references "user"(id) on delete restrict on update cascade',
    );
    await query(url, "alter type task_status add value 'archived'");

    const result = await diff(url, '--json');
    expect(result.code).toBe(1);
    expect(result.json().data.differences.map((d: { message: string }) => d.message)).toEqual([
      'enum task_status: live (pending, completed, archived), migrations say (pending, completed)',
      'constraint tasks_title_length_check on tasks: in the migrations, not in the live database',
      'constraint tasks_user_id_fkey on tasks: live FOREIGN KEY (user_id) REFERENCES "user"(id) ON UPDATE CASCADE ON DELETE RESTRICT, migrations say FOREIGN KEY (user_id) REFERENCES "user"(id) ON UPDATE CASCADE ON DELETE CASCADE',
    ]);
  });

  it('reports an extra index and a dropped trigger, and reads a renamed index as one rename', async () => {
    const url = await migratedDatabase();
    await query(url, 'create index tasks_title_idx on tasks (title)');
    await query(url, 'drop trigger tasks_set_updated_at on tasks');
    await query(url, 'alter index tasks_status_idx rename to tasks_by_status');

    const result = await diff(url, '--json');
    expect(result.json().data.differences.map((d: { message: string }) => d.message)).toEqual([
      'index tasks_by_status on tasks: named tasks_by_status in the live database, tasks_status_idx in the migrations (otherwise the same)',
      'index tasks_title_idx on tasks: in the live database, not in the migrations',
      'trigger tasks_set_updated_at on tasks: in the migrations, not in the live database',
    ]);
  });

  it('notes pending migrations, whose objects then count as differences', async () => {
    const url = await migratedDatabase();
    const dir = await copyOfProjectMigrations();
    await addMigration(dir, '20990101000000_notes', { up: 'create table notes (id serial primary key);\n' });

    const result = await runCli(['migrate', 'diff', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('table notes: in the migrations, not in the live database');
    expect(result.stdout).toMatch(/Not applied live yet.*run todo-db migrate up\): 20990101000000_notes/);
  });

  it('drops the shadow database when a migration fails in it', async () => {
    const url = await migratedDatabase();
    const dir = await copyOfProjectMigrations();
    await addMigration(dir, '20990101000000_broken', { up: 'create table broken (id int references nowhere(id));\n' });

    const result = await runCli(['migrate', 'diff', '--verbose', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/MIGRATION_FAILED/);
    expect(await databaseExists(shadowNameIn(result.stderr))).toBe(false);
  });

  it('on Ctrl-C lets the current step finish, drops the shadow database and exits 130', async () => {
    const url = await migratedDatabase();
    const dir = await copyOfProjectMigrations();
    await addMigration(dir, '20990101000000_slow', { up: 'select pg_sleep(2);\n' });

    const running = startCli(['migrate', 'diff', '--verbose', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    const [, shadowName] = await running.waitFor(/Created the shadow database (todo_db_shadow_[0-9a-f]+)/);
    running.child.kill('SIGINT');
    const result = await running.exited;
    expect(result.code, result.stderr).toBe(130);
    expect(await databaseExists(shadowName as string)).toBe(false);
  });
});

describe('withShadowDatabase', () => {
  it('drops the shadow database when the work throws, and passes the error on', async () => {
    const url = parseDatabaseUrl(await createTestDatabase('diff'));
    let shadowName = '';
    const work = withShadowDatabase({ url, migrationsDir: defaultMigrationsDir(), environment: 'development' }, async (shadowUrl) => {
      shadowName = shadowUrl.database;
      expect(await databaseExists(shadowName)).toBe(true);
      throw new Error('the work failed');
    });
    await expect(work).rejects.toThrow('the work failed');
    expect(shadowName).toMatch(/^todo_db_shadow_[0-9a-f]{12}$/);
    expect(await databaseExists(shadowName)).toBe(false);
  });
});

describe('migrate diff without permission to create databases', () => {
  const role = `nocreatedb_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const owned: string[] = [];
  afterAll(async () => {
    for (const name of owned) await adminQuery(`drop database if exists "${name}" with (force)`);
    await adminQuery(`drop role if exists "${role}"`);
  });

  /** A database owned by the role, and its URL as that role: it may do anything there but create databases. */
  async function databaseOwnedByRole(): Promise<string> {
    const url = new URL(await createTestDatabase('diff'));
    const name = url.pathname.slice(1);
    owned.push(name);
    await adminQuery(`alter database "${name}" owner to "${role}"`);
    url.username = role;
    url.password = password;
    return url.toString();
  }

  it('explains why and suggests --shadow-database-url, which then works and is wiped after', async () => {
    await adminQuery(`create role "${role}" login password '${password}' nocreatedb`);
    const url = await databaseOwnedByRole();
    await migrateProject(url);

    const refused = await diff(url, '--json');
    expect(refused.code).toBe(1);
    const { error } = refused.json();
    expect(error.code).toBe('SHADOW_DATABASE_UNAVAILABLE');
    expect(error.message).toContain(`role "${role}" has no permission to create databases`);
    expect(error.hint).toContain('--shadow-database-url <url of an empty database>');

    const shadow = await databaseOwnedByRole();
    const schemaOwner = `select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = 'public'`;
    const ownerBefore = await query(shadow, schemaOwner);
    for (let run = 0; run < 2; run++) {
      const result = await diff(url, '--shadow-database-url', shadow);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/The live schema and the migrations match/);
      expect(await query(shadow, "select relname from pg_class where relnamespace = 'public'::regnamespace")).toEqual([]);
    }
    expect(await query(shadow, schemaOwner)).toEqual(ownerBefore);
  });

  it('refuses a --shadow-database-url that is not empty, and leaves it alone', async () => {
    const url = await migratedDatabase();
    const notEmpty = await migratedDatabase();
    const result = await diff(url, '--shadow-database-url', notEmpty);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/SHADOW_DATABASE_NOT_EMPTY/);
    expect(result.stderr).toMatch(/is not empty: schema public holds _prisma_migrations, account, jwks, session, tasks, …/);
    expect((await query(notEmpty, 'select count(*)::int as n from _prisma_migrations'))[0].n).toBe(2);
  });
});

/** The project's migrations in a temp folder, to add to. */
async function copyOfProjectMigrations(): Promise<string> {
  const dir = await migrationsFolder();
  const name = '20261123000000_init';
  const source = join(defaultMigrationsDir(), name);
  await addMigration(dir, name, { up: await readFile(join(source, 'migration.sql'), 'utf8'), down: await readFile(join(source, 'down.sql'), 'utf8') });
  return dir;
}
