import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveSettings } from '../src/config/settings.js';
import { catalogSnapshot } from './helpers/catalog.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { EXTERNAL_ROWS, EXTERNAL_SQL, EXTERNAL_TABLES, EXTERNAL_TABLES_SETTING } from './helpers/external-tool.js';
import { addMigration, query } from './helpers/migrations.js';

const PRISMA_DIR = fileURLToPath(new URL('../prisma', import.meta.url));
const INIT = '20261123000000_init';
/** A migration of ours that references a table another tool owns. */
const MOVE = '20261203000000_better_auth_users';
const REFERENCING = '20261203000001_tasks_organization';
const temporaryDirs: string[] = [];

afterAll(async () => {
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function temporaryDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
}

async function project(packageJson: object): Promise<string> {
  const dir = await temporaryDir('todo-db-external-');
  await writeFile(join(dir, 'package.json'), JSON.stringify(packageJson));
  await mkdir(join(dir, 'src'));
  return join(dir, 'src');
}

const external = (env: NodeJS.ProcessEnv, cwd: string) => resolveSettings({}, env, cwd).externalTables;

describe('the externalTables and shadowInit settings', () => {
  it('lists no table by default', async () => {
    expect(external({}, await project({ name: 'app' }))).toEqual({ names: [], source: 'default' });
  });

  it("reads the project's package.json, and TODO_DB_EXTERNAL_TABLES wins over it", async () => {
    const cwd = await project({ name: 'app', 'todo-db': { externalTables: ['organization', 'member', 'audit_log'] } });
    expect(external({}, cwd)).toEqual({ names: ['organization', 'member', 'audit_log'], source: 'package.json' });
    expect(external({ TODO_DB_EXTERNAL_TABLES: ' audit_log , organization' }, cwd)).toEqual({
      names: ['audit_log', 'organization'],
      source: 'TODO_DB_EXTERNAL_TABLES',
    });
    expect(external({ TODO_DB_EXTERNAL_TABLES: '' }, cwd)).toEqual({ names: [], source: 'TODO_DB_EXTERNAL_TABLES' });
    expect(external({}, await project({ name: 'app', 'todo-db': { externalTables: [] } }))).toEqual({ names: [], source: 'package.json' });
  });

  it('refuses a setting that is not a list of names, saying how to write it', async () => {
    const cwd = await project({ name: 'app', 'todo-db': { externalTables: 'organization,member' } });
    expect(() => external({}, cwd)).toThrow(
      expect.objectContaining({ code: 'EXTERNAL_TABLES_INVALID', kind: 'usage', hint: expect.stringContaining('"externalTables": ["audit_log"') }),
    );
    expect(() => external({ TODO_DB_EXTERNAL_TABLES: 'organization,,member' }, cwd)).toThrow(
      expect.objectContaining({ code: 'TODO_DB_EXTERNAL_TABLES_INVALID' }),
    );
  });

  it('takes the shadow init file from TODO_DB_SHADOW_INIT (from cwd) or package.json (from its folder)', async () => {
    const cwd = await project({ name: 'app', 'todo-db': { shadowInit: 'prisma/shadow-init.sql' } });
    const root = join(cwd, '..');
    expect(resolveSettings({}, {}, cwd).shadowInit).toEqual({ path: join(root, 'prisma', 'shadow-init.sql'), source: 'package.json' });
    expect(resolveSettings({}, { TODO_DB_SHADOW_INIT: 'init.sql' }, cwd).shadowInit).toEqual({ path: join(cwd, 'init.sql'), source: 'TODO_DB_SHADOW_INIT' });
    expect(resolveSettings({}, { TODO_DB_SHADOW_INIT: '' }, cwd).shadowInit).toBeUndefined();
    expect(resolveSettings({}, {}, await project({ name: 'app' })).shadowInit).toBeUndefined();
    const wrong = await project({ name: 'app', 'todo-db': { shadowInit: ['a.sql'] } });
    expect(() => resolveSettings({}, {}, wrong)).toThrow(expect.objectContaining({ code: 'SHADOW_INIT_INVALID', kind: 'usage' }));
  });
});

/** A copy of the project whose second migration gives tasks a foreign key onto the other tool's "organization". */
async function projectReferencingExternal(): Promise<string> {
  const dir = await temporaryDir('todo-db-external-project-');
  await cp(PRISMA_DIR, join(dir, 'prisma'), { recursive: true });
  const migrationsDir = join(dir, 'prisma', 'migrations');
  await addMigration(migrationsDir, REFERENCING, {
    up: 'ALTER TABLE "tasks" ADD COLUMN "organization_id" TEXT;\nCREATE INDEX "tasks_organization_id_idx" ON "tasks" ("organization_id");\nALTER TABLE "tasks" ADD CONSTRAINT "tasks_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organization" ("id") ON DELETE SET NULL ON UPDATE CASCADE;\n',
    down: 'ALTER TABLE "tasks" DROP COLUMN "organization_id";\n',
  });
  return migrationsDir;
}

const EXTERNAL = { TODO_DB_EXTERNAL_TABLES: EXTERNAL_TABLES_SETTING };

function cli(url: string, migrationsDir: string, args: string[], env: Record<string, string | undefined> = EXTERNAL) {
  return runCli([...args, '--migrations-dir', migrationsDir], { env: { DATABASE_URL: url, ...env } });
}

/** The other tool's tables, then our migrations applied live. */
async function liveWithExternal(migrationsDir: string): Promise<string> {
  const url = await createTestDatabase('external');
  await query(url, EXTERNAL_SQL + EXTERNAL_ROWS);
  const up = await cli(url, migrationsDir, ['migrate', 'up']);
  expect(up.code, up.stderr).toBe(0);
  return url;
}

describe('a migration that references an external table', () => {
  it('migrate diff, inspect-indexes, migrate resolve --applied and migrate baseline work: the shadow gets the table from the live database', async () => {
    const migrationsDir = await projectReferencingExternal();
    const url = await liveWithExternal(migrationsDir);
    // A foreign key the tool holds onto a standalone unique index of its own, and one onto our tasks table.
    await query(
      url,
      `create unique index "organization_name_key" on "organization" ("name");
      alter table "audit_log" add column "organizationName" text references "organization" ("name");
      alter table "member" add column "taskId" uuid references tasks (id);`,
    );

    const diff = await cli(url, migrationsDir, ['migrate', 'diff', '--json']);
    expect(diff.code, diff.stdout + diff.stderr).toBe(0);
    expect(diff.json().data.live).toMatchObject({ differences: [], leftOut: EXTERNAL_TABLES, pendingMigrations: [] });
    const debug = await runCli(['migrate', 'diff', '--migrations-dir', migrationsDir], { env: { DATABASE_URL: url, ...EXTERNAL, LOG_LEVEL: 'debug' } });
    expect(debug.stderr + debug.stdout).toContain(
      `Copied the external tables into the shadow database: ${['organization', 'member', 'audit_log'].join(', ')}.`,
    );
    expect(debug.stderr + debug.stdout).toContain('Left out of the shadow (they reference tables the migrations make): member_taskId_fkey on public.member.');

    const indexes = await cli(url, migrationsDir, ['inspect-indexes', '--all-tables', '--json']);
    expect(indexes.code, indexes.stdout + indexes.stderr).toBe(0);
    const data = indexes.json().data;
    expect(data.comparison.expected).toContain('tasks_organization_id_idx');
    expect(data.comparison.expected).not.toContain('member_organizationId_idx');
    expect(data.findings.filter((finding: { kind: string }) => ['missing', 'unexpected'].includes(finding.kind))).toEqual([]);

    // Built by hand (a restore): the other tool's tables and our migrations' SQL, no history.
    const restored = await createTestDatabase('external');
    await query(restored, EXTERNAL_SQL);
    for (const name of [INIT, MOVE, REFERENCING]) await query(restored, await readFile(join(migrationsDir, name, 'migration.sql'), 'utf8'));
    const baseline = await cli(restored, migrationsDir, ['migrate', 'baseline', '--json']);
    expect(baseline.code, baseline.stdout + baseline.stderr).toBe(0);
    expect(baseline.json().data).toMatchObject({ recorded: [INIT, MOVE, REFERENCING], accountedFor: true });

    const byHand = await createTestDatabase('external');
    await query(byHand, EXTERNAL_SQL);
    expect((await cli(byHand, migrationsDir, ['migrate', 'up', '--to', MOVE])).code).toBe(0);
    await query(byHand, await readFile(join(migrationsDir, REFERENCING, 'migration.sql'), 'utf8'));
    const resolved = await cli(byHand, migrationsDir, ['migrate', 'resolve', '--applied', REFERENCING, '--json']);
    expect(resolved.code, resolved.stdout + resolved.stderr).toBe(0);
    expect(resolved.json().data).toMatchObject({ name: REFERENCING, verified: true });
  });

  it('says the migration failed in the shadow database, not live, and what to do, when the shadow cannot be given the table', async () => {
    const migrationsDir = await projectReferencingExternal();
    const url = await liveWithExternal(migrationsDir);
    const before = await catalogSnapshot(url);

    // Not listed as external: nothing tells todo-db to copy it.
    const restored = await createTestDatabase('external');
    await query(restored, EXTERNAL_SQL + (await readFile(join(migrationsDir, INIT, 'migration.sql'), 'utf8')));
    for (const [database, args] of [
      [url, ['migrate', 'diff']],
      [url, ['inspect-indexes']],
      [restored, ['migrate', 'baseline', '--dry-run']],
    ] as const) {
      const result = await cli(database, migrationsDir, [...args, '--json'], {});
      expect(result.code, args.join(' ')).toBe(1);
      const error = result.json().error;
      expect(error.code).toBe('SHADOW_MIGRATION_FAILED');
      expect(error.message).toContain(`Migration ${REFERENCING} failed in the shadow database`);
      expect(error.message).toContain('not in the live database, which was not changed');
      expect(error.message).toContain('relation "organization" does not exist (SQLSTATE 42P01)');
      expect(error.hint).toContain('No migration makes "organization". If another tool owns it, name the table in TODO_DB_EXTERNAL_TABLES');
      expect(error.hint).toContain('TODO_DB_SHADOW_INIT');
      expect(error.hint).not.toMatch(/Fix migration\.sql/);
    }
    const human = await cli(url, migrationsDir, ['migrate', 'diff'], {});
    expect(human.stderr).toContain('SHADOW_MIGRATION_FAILED');
    expect(human.stderr).not.toContain('    at ');

    // Listed, but the live database has no such table (a fresh database the other tool has not set up yet).
    const fresh = await createTestDatabase('external');
    const absent = await cli(fresh, migrationsDir, ['migrate', 'diff', '--json']);
    expect(absent.json().error.code).toBe('SHADOW_MIGRATION_FAILED');
    expect(absent.json().error.hint).toContain('"organization" is listed as an external table but the live database has no such table');

    expect(await catalogSnapshot(url)).toEqual(before);

    // What the copy cannot carry (a default calling the tool's own function) points to the init file.
    await query(
      url,
      `create function "new_member_role"() returns text language sql as $$ select 'member' $$; alter table "member" alter column "role" set default "new_member_role"()`,
    );
    const uncopied = await cli(url, migrationsDir, ['migrate', 'diff', '--json']);
    expect(uncopied.code).toBe(1);
    expect(uncopied.json().error).toMatchObject({
      code: 'SHADOW_EXTERNAL_TABLES_FAILED',
      message: expect.stringMatching(
        /^Copying the external tables \(organization, member, audit_log\) from the live database into the shadow database failed, before any migration: function public\.new_member_role\(\) does not exist/,
      ),
      hint: expect.stringContaining('TODO_DB_SHADOW_INIT'),
    });
  });

  it('the shadow runs the SQL file TODO_DB_SHADOW_INIT names instead of copying, and a failure in it names the file and line', async () => {
    const migrationsDir = await projectReferencingExternal();
    const url = await liveWithExternal(migrationsDir);
    const dir = await temporaryDir('todo-db-shadow-init-');
    const init = join(dir, 'shadow-init.sql');
    await writeFile(init, EXTERNAL_SQL);
    const diff = await cli(url, migrationsDir, ['migrate', 'diff', '--json'], { ...EXTERNAL, TODO_DB_SHADOW_INIT: init });
    expect(diff.code, diff.stdout + diff.stderr).toBe(0);

    await writeFile(
      init,
      'create table "organization" ("id" text primary key);\ncreate table "member" ("organizationId" text references "organisation" ("id"));\n',
    );
    const broken = await cli(url, migrationsDir, ['migrate', 'diff', '--json'], { ...EXTERNAL, TODO_DB_SHADOW_INIT: init });
    expect(broken.code).toBe(1);
    expect(broken.json().error).toMatchObject({
      code: 'SHADOW_INIT_FAILED',
      message: expect.stringMatching(/shadow-init\.sql:2:\d+ failed in the shadow database, before any migration: relation "organisation" does not exist/),
    });

    // Without the organization table in it, the migration's failure points at the file.
    await writeFile(init, '-- nothing yet\n');
    const lacking = await cli(url, migrationsDir, ['migrate', 'diff', '--json'], { ...EXTERNAL, TODO_DB_SHADOW_INIT: init });
    expect(lacking.json().error).toMatchObject({ code: 'SHADOW_MIGRATION_FAILED', hint: expect.stringContaining('add "organization" to that file') });

    const missing = await cli(url, migrationsDir, ['migrate', 'diff', '--json'], { ...EXTERNAL, TODO_DB_SHADOW_INIT: join(dir, 'nope.sql') });
    expect([missing.code, missing.json().error.code]).toEqual([2, 'SHADOW_INIT_NOT_FOUND']);
  });

  it('schema.prisma may model the external table: migrate diff --schema and migrate create --from-schema leave it to its tool', async () => {
    const migrationsDir = await projectReferencingExternal();
    const schemaPath = join(migrationsDir, '..', 'schema.prisma');
    const withOrganization = (extra: string) =>
      writeFile(
        schemaPath,
        `${original.replace(
          /model Task \{\n/,
          `model Task {\n  organizationId String? @map("organization_id")\n  organization Organization? @relation(fields: [organizationId], references: [id])\n${extra}  @@index([organizationId])\n`,
        )}\nmodel Organization {\n  id String @id\n  name String\n  tasks Task[]\n\n  @@map("organization")\n}\n`,
      );
    const original = await readFile(schemaPath, 'utf8');
    await withOrganization('');
    const url = await liveWithExternal(migrationsDir);
    const diff = await cli(url, migrationsDir, ['migrate', 'diff', '--schema', '--json']);
    expect(diff.code, diff.stdout + diff.stderr).toBe(0);

    await withOrganization('  organizationNote String? @map("organization_note")\n');
    const drafted = await cli(url, migrationsDir, ['migrate', 'create', 'organization_note', '--from-schema', '--json']);
    expect(drafted.code, drafted.stdout + drafted.stderr).toBe(0);
    const sql = await readFile(drafted.json().data.migration.path, 'utf8');
    expect(sql).toContain('ADD COLUMN     "organization_note" TEXT');
    expect(sql).not.toMatch(/"organization"\s*\(|DROP TABLE|CREATE TABLE/);
  });

  it('migrate reset keeps the external tables and their rows, with no setting at all, and builds the shadow from them when listed', async () => {
    const migrationsDir = await projectReferencingExternal();
    const url = await liveWithExternal(migrationsDir);
    await query(url, `update tasks set organization_id = 'o1' where false`);
    // The migration references organization: without the setting the shadow cannot be built, and nothing is dropped.
    const before = await catalogSnapshot(url);
    const refused = await cli(url, migrationsDir, ['migrate', 'reset', '--yes', '--json'], {});
    expect(refused.json().error.code).toBe('SHADOW_MIGRATION_FAILED');
    expect(await catalogSnapshot(url)).toEqual(before);

    const reset = await cli(url, migrationsDir, ['migrate', 'reset', '--yes', '--json']);
    expect(reset.code, reset.stdout + reset.stderr).toBe(0);
    expect(reset.json().data.kept).toEqual(expect.arrayContaining(['table audit_log (external)', 'table member (external)', 'table organization (external)']));
    expect(reset.json().data.applied.map((step: { name: string }) => step.name)).toEqual([INIT, MOVE, REFERENCING]);
    expect(await query(url, 'select "id" from "organization"')).toEqual([{ id: 'o1' }]);
    expect(await catalogSnapshot(url)).toEqual(before);
  });
});
