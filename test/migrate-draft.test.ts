import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogSnapshot } from './helpers/catalog.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';

/** `migrate create --from-schema` through the built CLI, with the real engine, on a copy of the project. */
const PRISMA_DIR = fileURLToPath(new URL('../prisma', import.meta.url));
const temporaryDirs: string[] = [];
let serverUrl: string;

beforeAll(async () => {
  serverUrl = await createTestDatabase('draft');
});

afterAll(async () => {
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function projectCopy(edit: (schema: string) => string = (schema) => schema): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'todo-db-draft-'));
  temporaryDirs.push(dir);
  await cp(PRISMA_DIR, join(dir, 'prisma'), { recursive: true });
  const schemaPath = join(dir, 'prisma', 'schema.prisma');
  await writeFile(schemaPath, edit(await readFile(schemaPath, 'utf8')));
  return join(dir, 'prisma', 'migrations');
}

const cli = (url: string, ...args: string[]) => runCli(args, { env: { DATABASE_URL: url } });

async function draftedFolder(migrationsDir: string): Promise<string> {
  const folders = (await readdir(migrationsDir)).filter((entry) => /^\d{14}_/.test(entry)).sort();
  return join(migrationsDir, folders.at(-1) as string);
}

describe('migrate create --from-schema', () => {
  it('drafts a column, an index and an enum value that apply, match schema.prisma, and roll back to the same catalog', async () => {
    const migrationsDir = await projectCopy((schema) =>
      schema
        .replace('  completedAt DateTime?', '  archivedAt  DateTime?    @map("archived_at") @db.Timestamptz(6)\n  completedAt DateTime?')
        .replace('  @@index([tags], type: Gin)', '  @@index([tags], type: Gin)\n  @@index([archivedAt])')
        .replace('  completed\n', '  completed\n  archived\n'),
    );
    const drafted = await cli(serverUrl, 'migrate', 'create', 'archive_tasks', '--from-schema', '--migrations-dir', migrationsDir, '--json');
    expect(drafted.code).toBe(0);
    const report = drafted.json().data;
    const folder = await draftedFolder(migrationsDir);
    const up = await readFile(join(folder, 'migration.sql'), 'utf8');
    const down = await readFile(join(folder, 'down.sql'), 'utf8');
    expect(up).toContain(`ALTER TYPE "task_status" ADD VALUE 'archived'`);
    expect(up).toContain('"archived_at" TIMESTAMPTZ(6)');
    expect(up).toContain('CREATE INDEX "tasks_archived_at_idx"');
    expect(up).toMatch(/CHECK tasks_completed_at_check on tasks/);
    expect(report.migration.destructive).toEqual([]);
    // The draft is linted as it will run: its new index on tasks would be built under a write-blocking lock.
    expect(report.lintFindings).toContainEqual(
      expect.objectContaining({
        rule: 'index-without-concurrently',
        severity: 'error',
        location: expect.stringMatching(/_archive_tasks\/migration\.sql:\d+:1$/),
      }),
    );
    // The engine wraps the enum's rebuild in BEGIN/COMMIT; the migration is already one transaction.
    expect(down).not.toMatch(/^\s*(BEGIN|COMMIT)\s*;/im);
    expect(down.split('\n')[0]).toMatch(/^-- DESTRUCTIVE: 2 steps/);
    expect(report.down.destructive.map((step: { kind: string }) => step.kind)).toEqual(['type-change', 'drop-column']);

    const database = await createTestDatabase('draftapply');
    await expect(cli(database, 'migrate', 'up', '--migrations-dir', migrationsDir, '--to', '20261203000000_better_auth_users')).resolves.toMatchObject({
      code: 0,
    });
    const before = await catalogSnapshot(database);
    expect((await cli(database, 'migrate', 'up', '--migrations-dir', migrationsDir)).code).toBe(0);
    const applied = await catalogSnapshot(database);
    const diff = await cli(database, 'migrate', 'diff', '--schema', '--migrations-dir', migrationsDir);
    expect(diff.stdout).toMatch(/schema\.prisma match/);
    expect(diff.code).toBe(0);
    expect((await cli(database, 'migrate', 'down', '--migrations-dir', migrationsDir)).code).toBe(0);
    expect(await catalogSnapshot(database)).toEqual(before);
    expect((await cli(database, 'migrate', 'up', '--migrations-dir', migrationsDir)).code).toBe(0);
    expect(await catalogSnapshot(database)).toEqual(applied);
  });

  it('flags a renamed column at the very top of both files, with the RENAME to use instead', async () => {
    const migrationsDir = await projectCopy((schema) =>
      schema.replace('  description String?      @db.VarChar(1000)', '  details     String?      @map("details") @db.VarChar(1000)'),
    );
    const drafted = await cli(serverUrl, 'migrate', 'create', 'rename_description', '--from-schema', '--migrations-dir', migrationsDir);
    expect(drafted.code).toBe(0);
    expect(drafted.stdout).toMatch(/migration\.sql has 1 destructive step/);
    const folder = await draftedFolder(migrationsDir);
    for (const [file, from, to] of [
      ['migration.sql', 'description', 'details'],
      ['down.sql', 'details', 'description'],
    ]) {
      const sql = await readFile(join(folder, file as string), 'utf8');
      expect(sql.split('\n')[0], file).toMatch(/^-- DESTRUCTIVE: 1 step below can lose data/);
      expect(sql, file).toContain(`ALTER TABLE "tasks" RENAME COLUMN "${from}" TO "${to}"`);
    }
  });

  it('makes a draft that uses a new enum value a no-transaction migration, which applies and matches schema.prisma', async () => {
    const migrationsDir = await projectCopy((schema) =>
      schema.replace('TaskPriority @default(medium)', 'TaskPriority @default(urgent)').replace('  high\n', '  high\n  urgent\n'),
    );
    const drafted = await cli(serverUrl, 'migrate', 'create', 'urgent_default', '--from-schema', '--migrations-dir', migrationsDir, '--json');
    expect(drafted.json().data.migration.noTransaction).toBe(true);
    const sql = await readFile(join(await draftedFolder(migrationsDir), 'migration.sql'), 'utf8');
    expect(sql.split('\n')[0]).toBe('-- todo-db: no-transaction');
    const database = await createTestDatabase('draftnotx');
    expect((await cli(database, 'migrate', 'up', '--migrations-dir', migrationsDir)).code).toBe(0);
    expect((await cli(database, 'migrate', 'diff', '--schema', '--migrations-dir', migrationsDir)).code).toBe(0);
  });

  it('refuses when schema.prisma and the migrations already agree, and writes nothing', async () => {
    const migrationsDir = await projectCopy();
    const before = await readdir(migrationsDir);
    const result = await cli(serverUrl, 'migrate', 'create', 'nothing', '--from-schema', '--migrations-dir', migrationsDir, '--json');
    expect(result.code).toBe(1);
    expect(result.json().error.code).toBe('NOTHING_TO_DRAFT');
    expect(await readdir(migrationsDir)).toEqual(before);
  });
});
