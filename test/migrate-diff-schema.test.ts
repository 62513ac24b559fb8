import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { adminQuery, createTestDatabase } from './helpers/database.js';
import { migrateProject } from './helpers/migrations.js';

/**
 * `migrate diff --schema` through the built CLI, with the real @prisma/schema-engine-wasm: these tests are what
 * fails when an upgrade of the engine (or of the way dist/ loads it) breaks the command.
 */
const PRISMA_DIR = fileURLToPath(new URL('../prisma', import.meta.url));
const temporaryDirs: string[] = [];
let url: string;

beforeAll(async () => {
  url = await createTestDatabase('diffschema');
  await migrateProject(url);
});

afterAll(async () => {
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const diffSchema = (...args: string[]) => runCli(['migrate', 'diff', '--schema', ...args], { env: { DATABASE_URL: url } });

/** A copy of the project's prisma/ folder with schema.prisma edited; returns the copy's migrations folder. */
async function projectCopyWith(edit: (schema: string) => string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'todo-db-schema-diff-'));
  temporaryDirs.push(dir);
  await cp(PRISMA_DIR, join(dir, 'prisma'), { recursive: true });
  const schemaPath = join(dir, 'prisma', 'schema.prisma');
  const before = await readFile(schemaPath, 'utf8');
  const after = edit(before);
  expect(after, 'the edit must change schema.prisma').not.toBe(before);
  await writeFile(schemaPath, after);
  return join(dir, 'prisma', 'migrations');
}

async function shadowDatabases(): Promise<string[]> {
  const { rows } = await adminQuery(`select datname from pg_database where datname like 'todo_db_shadow_%'`);
  return rows.map((row: { datname: string }) => row.datname);
}

describe('migrate diff --schema', () => {
  it("finds no difference between the project's schema.prisma and its migrations, and leaves no database behind", async () => {
    const before = await shadowDatabases();
    const result = await diffSchema();
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.stdout).toMatch(/The migrations and .*prisma\/schema\.prisma match/);
    expect(result.code).toBe(0);
    expect(await shadowDatabases()).toEqual(before);
  });

  it('says that CHECK constraints, triggers and functions are not compared', async () => {
    const human = await diffSchema();
    expect(human.stdout).toMatch(/Not compared \(schema\.prisma cannot express them\): CHECK constraints, triggers, functions/);
    const json = (await diffSchema('--json')).json();
    expect(json.ok).toBe(true);
    expect(json.data.schema.ignored).toEqual(expect.arrayContaining(['CHECK constraints', 'triggers', 'functions']));
    expect(json.data.differences).toEqual([]);
  });

  it('reports an index that schema.prisma no longer declares', async () => {
    const migrationsDir = await projectCopyWith((schema) => schema.replace('@@index([userId, createdAt(sort: Desc)])', ''));
    const result = await diffSchema('--migrations-dir', migrationsDir);
    expect(result.stdout).toContain('1 difference between the migrations and');
    expect(result.stdout).toContain('index tasks_user_id_created_at_idx on tasks: in the migrations, not in schema.prisma');
    expect(result.code).toBe(1);

    const json = (await diffSchema('--migrations-dir', migrationsDir, '--json')).json();
    expect(json.error.code).toBe('SCHEMA_DRIFT');
    expect(json.data.differences).toEqual([expect.objectContaining({ kind: 'index', object: 'tasks_user_id_created_at_idx', table: 'tasks' })]);
  });

  it('reports a column whose type changed in schema.prisma', async () => {
    const migrationsDir = await projectCopyWith((schema) =>
      schema.replace('title       String       @db.VarChar(200)', 'title       String       @db.VarChar(250)'),
    );
    const result = await diffSchema('--migrations-dir', migrationsDir);
    expect(result.stdout).toContain('column tasks.title: migrations say character varying(200), schema.prisma says character varying(250)');
    expect(result.stdout).toContain('1 difference between');
    expect(result.code).toBe(1);
  });

  it('reads schema.prisma next to --migrations-dir, and says so when it is not there', async () => {
    const migrationsDir = await projectCopyWith((schema) => `${schema}\n`);
    await rm(join(migrationsDir, '..', 'schema.prisma'));
    const result = await diffSchema('--migrations-dir', migrationsDir, '--json');
    expect(result.code).toBe(2);
    expect(result.json().error.code).toBe('PRISMA_SCHEMA_NOT_FOUND');
    expect(result.json().error.message).toContain(join(migrationsDir, '..', 'schema.prisma'));
  });

  it("reports Prisma's own validation error for an invalid schema.prisma", async () => {
    const migrationsDir = await projectCopyWith((schema) => schema.replace('@@map("tasks")', '@@map("tasks")\n  bogus Foo'));
    const result = await diffSchema('--migrations-dir', migrationsDir, '--json');
    expect(result.code).toBe(1);
    expect(result.json().error.code).toBe('PRISMA_ENGINE_FAILED');
    expect(result.json().error.message).toContain('Type "Foo" is neither a built-in type');
  });
});
