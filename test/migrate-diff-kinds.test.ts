import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultMigrationsDir } from '../src/config/package-root.js';
import { runCli } from './helpers/cli.js';
import { adminUrl, createTestDatabase } from './helpers/database.js';
import { EXTERNAL_SQL, EXTERNAL_TABLES, EXTERNAL_TABLES_SETTING } from './helpers/external-tool.js';
import { addMigration, migrateProject, query } from './helpers/migrations.js';

/**
 * Drift of every object kind a migration can make or a person can add by hand, each added by hand to a freshly
 * migrated database: migrate diff names it in words and exits 1.
 */
const diff = (url: string, ...args: string[]) => runCli(['migrate', 'diff', '--json', ...args], { env: { DATABASE_URL: url } });
const messages = (result: Awaited<ReturnType<typeof diff>>): string[] => result.json().data.differences.map((d: { message: string }) => d.message);

async function migratedDatabase(migrationsDir = defaultMigrationsDir()): Promise<string> {
  const url = await createTestDatabase('kinds');
  await runCli(['migrate', 'up', '--migrations-dir', migrationsDir], { env: { DATABASE_URL: url } }).then((result) =>
    expect(result.code, result.stderr).toBe(0),
  );
  return url;
}

/** The project's migrations plus one more, in a folder of its own. */
async function migrationsWith(name: string, up: string): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'todo-db-kinds-')), 'migrations');
  await cp(defaultMigrationsDir(), dir, { recursive: true });
  await addMigration(dir, name, { up });
  return dir;
}

/** A migration makes the object; the live change to it is then reported. */
async function driftFromMigration(name: string, up: string, change: string): Promise<string[]> {
  const dir = await migrationsWith(name, up);
  const url = await migratedDatabase(dir);
  expect((await diff(url, '--migrations-dir', dir)).code).toBe(0);
  await query(url, change);
  const result = await diff(url, '--migrations-dir', dir);
  expect(result.code).toBe(1);
  return messages(result);
}

async function driftAfter(sql: string, ...args: string[]): Promise<string[]> {
  const url = await createTestDatabase('kinds');
  await migrateProject(url);
  await query(url, sql);
  const result = await diff(url, ...args);
  expect(result.code, result.stderr).toBe(1);
  expect(result.json().error.code).toBe('SCHEMA_DRIFT');
  return messages(result);
}

describe('migrate diff sees every kind of object', () => {
  it('an extension, by name and by version', async () => {
    expect(await driftAfter('create extension citext')).toEqual(['extension citext 1.8: in the live database, not in the migrations']);

    expect(await driftFromMigration('20990101000000_citext', "create extension citext version '1.4';\n", "alter extension citext update to '1.5'")).toEqual([
      'extension citext: live version 1.5, migrations say version 1.4',
    ]);
  });

  it('a view and a materialized view, by definition', async () => {
    expect(await driftAfter("create view open_tasks as select id, title from tasks where status = 'pending'")).toEqual([
      'view open_tasks: in the live database, not in the migrations',
    ]);

    const views =
      "create view open_tasks as select id, title from tasks where status = 'pending';\ncreate materialized view task_counts as select user_id, count(*) as n from tasks group by user_id;\n";
    const changed =
      "create or replace view open_tasks as select id, title from tasks where status = 'completed'; drop materialized view task_counts; create materialized view task_counts as select user_id, count(*) as n from tasks where tags <> '{}' group by user_id";
    expect(await driftFromMigration('20990101000000_views', views, changed)).toEqual([
      "view open_tasks: live SELECT id, title FROM tasks WHERE (status = 'completed'::task_status), migrations say SELECT id, title FROM tasks WHERE (status = 'pending'::task_status)",
      "materialized view task_counts: live SELECT user_id, count(*) AS n FROM tasks WHERE (tags <> '{}'::text[]) GROUP BY user_id, migrations say SELECT user_id, count(*) AS n FROM tasks GROUP BY user_id",
    ]);
  });

  it('a sequence, by type, increment and ownership', async () => {
    expect(await driftAfter('create sequence ticket_numbers')).toEqual(['sequence ticket_numbers: in the live database, not in the migrations']);

    expect(
      await driftFromMigration(
        '20990101000000_sequence',
        'create sequence ticket_numbers as integer;\n',
        'alter sequence ticket_numbers as bigint increment by 10 owned by tasks.title',
      ),
    ).toEqual([
      'sequence ticket_numbers: live bigint, migrations say integer; live increment 10, migrations say increment 1; live owned by tasks.title, migrations say owned by no column',
    ]);
  });

  it('a procedure, a domain and a composite type', async () => {
    expect(
      await driftAfter(
        "create procedure clear_tags() language sql as $$ update tasks set tags = '{}' $$; create domain short_text as text check (char_length(value) <= 10); create type point2 as (x int, y int)",
      ),
    ).toEqual([
      'composite type point2: in the live database, not in the migrations',
      'domain short_text: in the live database, not in the migrations',
      'procedure clear_tags(): in the live database, not in the migrations',
    ]);

    expect(
      await driftFromMigration(
        '20990101000000_domain',
        'create domain short_text as text check (char_length(value) <= 10);\n',
        "alter domain short_text set not null; alter domain short_text set default 'x'",
      ),
    ).toEqual([
      "domain short_text: live text NOT NULL DEFAULT 'x'::text CHECK ((char_length(VALUE) <= 10)), migrations say text CHECK ((char_length(VALUE) <= 10))",
    ]);
  });

  it('a column made an identity or generated column', async () => {
    const table = 'create table notes (id integer not null, body text not null, size integer);\n';
    expect(
      await driftFromMigration(
        '20990101000000_notes',
        table,
        'alter table notes alter column id add generated always as identity; alter table notes drop column size; alter table notes add column size integer generated always as (length(body)) stored',
      ),
    ).toEqual([
      'column notes.id: live generated always as identity, migrations say no default',
      'column notes.size: live generated always as (length(body)) stored, migrations say no default',
      'sequence notes_id_seq: in the live database, not in the migrations',
    ]);
  });

  it('row-level security, enabled and forced', async () => {
    expect(await driftAfter('alter table tasks enable row level security')).toEqual(['row-level security on tasks: live enabled, migrations say disabled']);
    expect(await driftAfter('alter table "user" force row level security')).toEqual(['row-level security on user: live forced, migrations say not forced']);
  });

  it('a policy, by command, roles and expressions', async () => {
    expect(await driftAfter("create policy own_tasks on tasks for select using (user_id = current_setting('app.user_id'))")).toEqual([
      'policy own_tasks on tasks: in the live database, not in the migrations',
    ]);

    const policy = "create policy own_tasks on tasks for select using (user_id = current_setting('app.user_id'));\n";
    const changed =
      "drop policy own_tasks on tasks; create policy own_tasks on tasks as restrictive for update to current_user using (true) with check (status = 'pending')";
    const [role] = await query(adminUrl().toString(), 'select current_user as name');
    expect(await driftFromMigration('20990101000000_policy', policy, changed)).toEqual([
      `policy own_tasks on tasks: live command UPDATE, migrations say command SELECT; live restrictive, migrations say permissive; live to ${role.name}, migrations say to public; live using true, migrations say using (user_id = current_setting('app.user_id'::text)); live with check (status = 'pending'::task_status), migrations say with check (none)`,
    ]);
  });

  it('comments, only with --comments', async () => {
    const url = await createTestDatabase('kinds');
    await migrateProject(url);
    await query(url, `comment on column tasks.title is 'What to do'; comment on table "user" is 'People'`);
    expect((await diff(url)).code).toBe(0);
    const result = await diff(url, '--comments');
    expect(result.code).toBe(1);
    expect(messages(result)).toEqual([
      'comment on column title of table tasks: live "What to do", migrations say no comment',
      'comment on table "user": live "People", migrations say no comment',
    ]);
  });
});

describe('tables todo-db does not own (the external-tables setting)', () => {
  it('are left out of migrate diff, which says how many, and stay out of their comments and sequences', async () => {
    const url = await createTestDatabase('kinds');
    await migrateProject(url);
    await query(url, EXTERNAL_SQL);
    await query(
      url,
      `comment on table "organization" is 'Another tool'; alter table "organization" add column "n" serial; create policy "p" on "audit_log" using (true)`,
    );
    const env = { DATABASE_URL: url, TODO_DB_EXTERNAL_TABLES: EXTERNAL_TABLES_SETTING };

    const human = await runCli(['migrate', 'diff', '--comments'], { env });
    expect(human.code, human.stdout + human.stderr).toBe(0);
    expect(human.stdout).toContain('The live schema and the migrations match');
    expect(human.stdout).toContain(`3 tables left out, managed by other tools (externalTables): ${EXTERNAL_TABLES.join(', ')}`);
    expect((await runCli(['migrate', 'diff', '--json'], { env })).json().data.live.leftOut).toEqual(EXTERNAL_TABLES);

    // None are external by default: they are differences then.
    const none = await diff(url);
    expect(none.code).toBe(1);
    expect(
      none
        .json()
        .data.differences.filter((d: { kind: string }) => d.kind === 'table')
        .map((d: { object: string }) => d.object)
        .sort(),
    ).toEqual(EXTERNAL_TABLES);
    const some = await runCli(['migrate', 'diff', '--json'], { env: { DATABASE_URL: url, TODO_DB_EXTERNAL_TABLES: 'organization, audit_log' } });
    expect(messages(some)).toEqual(['table member: in the live database, not in the migrations']);
  });
});
