import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../src/config/database-url.js';
import { withSchemaEngine } from '../src/drafts/schema-engine.js';
import { catalogSnapshot } from './helpers/catalog.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { addMigration, query } from './helpers/migrations.js';

/** resolve and baseline through the built CLI, on copies of the project with a second migration. */
const PRISMA_DIR = fileURLToPath(new URL('../prisma', import.meta.url));
/** The project's own migrations, and the last of them. */
const PROJECT = ['20261123000000_init', '20261203000000_better_auth_users'];
const INIT = PROJECT[PROJECT.length - 1]!;
const SECOND = '20261203000001_add_archived_at';
const temporaryDirs: string[] = [];

afterAll(async () => {
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function projectWithTwoMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'todo-db-resolve-'));
  temporaryDirs.push(dir);
  await cp(PRISMA_DIR, join(dir, 'prisma'), { recursive: true });
  const migrationsDir = join(dir, 'prisma', 'migrations');
  await addMigration(migrationsDir, SECOND, {
    up: 'ALTER TABLE "tasks" ADD COLUMN "archived_at" TIMESTAMPTZ(6);\n',
    down: 'ALTER TABLE "tasks" DROP COLUMN "archived_at";\n',
  });
  return migrationsDir;
}

const cli = (url: string, ...args: string[]) => runCli(args, { env: { DATABASE_URL: url } });

/** The database built without todo-db (a restore, create_all): the migrations' SQL run directly, no history. */
async function builtByHand(url: string, migrationsDir: string, names: string[]): Promise<void> {
  for (const name of names) await query(url, await readFile(join(migrationsDir, name, 'migration.sql'), 'utf8'));
}

const history = (url: string) =>
  query(
    url,
    'select migration_name, logs, started_at, finished_at, rolled_back_at, applied_steps_count from _prisma_migrations order by started_at, migration_name',
  );

/** What Prisma's own engine (its WASM build's diagnoseMigrationHistory) reads from the history and the folder. */
async function prismaDiagnosis(url: string, migrationsDir: string) {
  const schemaPath = join(migrationsDir, '..', 'schema.prisma');
  return withSchemaEngine(parseDatabaseUrl(url), schemaPath, await readFile(schemaPath, 'utf8'), async (engine) => {
    const names = (await readdir(migrationsDir)).filter((entry) => /^\d{14}_/.test(entry)).sort();
    const migrationDirectories = await Promise.all(
      names.map(async (name) => ({
        path: name,
        migrationFile: { path: 'migration.sql', content: { tag: 'ok' as const, value: await readFile(join(migrationsDir, name, 'migration.sql'), 'utf8') } },
      })),
    );
    const lockfile = { path: 'migration_lock.toml', content: await readFile(join(migrationsDir, 'migration_lock.toml'), 'utf8') };
    return engine.diagnoseMigrationHistory({
      migrationsList: { baseDir: migrationsDir, lockfile, shadowDbInitScript: '', migrationDirectories },
      optInToShadowDatabase: false,
      filters: { externalTables: [], externalEnums: [] },
    });
  });
}

describe('migrate resolve', () => {
  it('--applied records a change made by hand as Prisma does, after checking the live schema holds it', async () => {
    const migrationsDir = await projectWithTwoMigrations();
    const url = await createTestDatabase('resolveapplied');
    expect((await cli(url, 'migrate', 'up', '--to', INIT, '--migrations-dir', migrationsDir)).code).toBe(0);

    const refused = await cli(url, 'migrate', 'resolve', '--applied', SECOND, '--migrations-dir', migrationsDir, '--json');
    expect(refused.code).toBe(1);
    expect(refused.json().error.code).toBe('RESOLVE_SCHEMA_MISMATCH');
    expect(refused.json().error.message).toMatch(/column tasks\.archived_at/);
    expect(await history(url)).toHaveLength(PROJECT.length);

    await query(url, 'ALTER TABLE "tasks" ADD COLUMN "archived_at" TIMESTAMPTZ(6)');
    const resolved = await cli(url, 'migrate', 'resolve', '--applied', SECOND, '--migrations-dir', migrationsDir);
    expect(resolved.stdout).toMatch(/Recorded 20261203000001_add_archived_at as applied \(the live schema matches/);
    expect(resolved.code).toBe(0);
    const row = (await history(url)).at(-1);
    expect(row).toMatchObject({ migration_name: SECOND, logs: '', rolled_back_at: null, applied_steps_count: 0 });
    expect(row.finished_at).toEqual(row.started_at);
    expect((await cli(url, 'migrate', 'status', '--migrations-dir', migrationsDir)).code).toBe(0);
    const diagnosis = await prismaDiagnosis(url, migrationsDir);
    expect(diagnosis).toMatchObject({ failedMigrationNames: [], editedMigrationNames: [], history: null, hasMigrationsTable: true });

    const again = await cli(url, 'migrate', 'resolve', '--applied', SECOND, '--migrations-dir', migrationsDir, '--json');
    expect([again.code, again.json().error.code]).toEqual([2, 'MIGRATION_ALREADY_APPLIED']);
  });

  it('--applied --force records without the comparison', async () => {
    const migrationsDir = await projectWithTwoMigrations();
    const url = await createTestDatabase('resolveforce');
    expect((await cli(url, 'migrate', 'up', '--to', INIT, '--migrations-dir', migrationsDir)).code).toBe(0);
    expect((await cli(url, 'migrate', 'resolve', '--applied', SECOND, '--force', '--migrations-dir', migrationsDir)).code).toBe(0);
    expect((await history(url)).map((row) => row.migration_name)).toEqual([...PROJECT, SECOND]);
  });

  it('--rolled-back marks a failed no-transaction migration, says what may be left, and Prisma agrees', async () => {
    const migrationsDir = await projectWithTwoMigrations();
    const broken = '20261202000000_broken';
    await addMigration(migrationsDir, broken, {
      up: '-- todo-db: no-transaction\nCREATE TABLE "left_behind" (id int);\nSELECT 1/0;\n',
      down: 'DROP TABLE "left_behind";\n',
    });
    const url = await createTestDatabase('resolverolledback');
    const failed = await cli(url, 'migrate', 'up', '--migrations-dir', migrationsDir);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`todo-db migrate resolve --rolled-back ${broken}`);
    expect((await prismaDiagnosis(url, migrationsDir)).failedMigrationNames).toEqual([broken]);

    const resolved = await cli(url, 'migrate', 'resolve', '--rolled-back', broken, '--migrations-dir', migrationsDir, '--json');
    expect(resolved.code).toBe(0);
    expect(resolved.json().data.mayRemain).toMatch(/ran outside a transaction.*division by zero/s);
    expect((await history(url)).at(-1)).toMatchObject({ migration_name: broken, finished_at: null });
    expect((await history(url)).at(-1).rolled_back_at).toBeInstanceOf(Date);
    expect((await prismaDiagnosis(url, migrationsDir)).failedMigrationNames).toEqual([]);

    const notFailed = await cli(url, 'migrate', 'resolve', '--rolled-back', SECOND, '--migrations-dir', migrationsDir, '--json');
    expect([notFailed.code, notFailed.json().error.code]).toEqual([2, 'MIGRATION_NOT_FAILED']);
  });

  it('needs exactly one of --applied and --rolled-back', async () => {
    const result = await runCli(['migrate', 'resolve', '--json']);
    expect([result.code, result.json().error.code]).toEqual([2, 'USAGE_ERROR']);
  });

  it('names a migration the folder does not hold as a usage error, before it needs the database', async () => {
    const migrationsDir = await projectWithTwoMigrations();
    // Nothing listens on port 1: only the folder is read.
    const result = await runCli(['migrate', 'resolve', '--applied', '20990101000000_no_such', '--migrations-dir', migrationsDir, '--json'], {
      env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' },
    });
    expect([result.code, result.json().error.code]).toEqual([2, 'MIGRATION_NOT_FOUND']);
  });
});

describe('migrate baseline', () => {
  it('records every migration for a schema-only restore of a migrated database', async () => {
    const migrationsDir = await projectWithTwoMigrations();
    const url = await createTestDatabase('baselineall');
    await builtByHand(url, migrationsDir, [...PROJECT, SECOND]);
    const dryRun = await cli(url, 'migrate', 'baseline', '--dry-run', '--migrations-dir', migrationsDir, '--json');
    expect(dryRun.code).toBe(0);
    expect(dryRun.json().data.recorded).toEqual([...PROJECT, SECOND]);
    expect((await query(url, `select to_regclass('_prisma_migrations') as t`))[0].t).toBeNull();

    const result = await cli(url, 'migrate', 'baseline', '--migrations-dir', migrationsDir);
    expect(result.stdout).toMatch(/Recorded 3 migrations as applied/);
    expect(result.code).toBe(0);
    expect((await cli(url, 'migrate', 'status', '--migrations-dir', migrationsDir)).code).toBe(0);
    expect(await prismaDiagnosis(url, migrationsDir)).toMatchObject({ failedMigrationNames: [], editedMigrationNames: [], history: null });
    const refused = await cli(url, 'migrate', 'baseline', '--migrations-dir', migrationsDir, '--json');
    expect([refused.code, refused.json().error.code]).toEqual([2, 'BASELINE_HAS_HISTORY']);
  });

  it('records only the first of two migrations for a database built from the first, and up applies the second', async () => {
    const migrationsDir = await projectWithTwoMigrations();
    const url = await createTestDatabase('baselinefirst');
    await builtByHand(url, migrationsDir, PROJECT);
    const result = await cli(url, 'migrate', 'baseline', '--migrations-dir', migrationsDir, '--json');
    expect(result.code).toBe(0);
    expect(result.json().data).toMatchObject({ recorded: PROJECT, pending: [SECOND], accountedFor: true });
    expect((await cli(url, 'migrate', 'up', '--migrations-dir', migrationsDir)).code).toBe(0);
    expect((await history(url)).map((row) => row.migration_name)).toEqual([...PROJECT, SECOND]);
  });

  it('records nothing for a drifted database and says what differs', async () => {
    const migrationsDir = await projectWithTwoMigrations();
    const url = await createTestDatabase('baselinedrift');
    await builtByHand(url, migrationsDir, PROJECT);
    await query(url, 'ALTER TABLE "tasks" ADD COLUMN "legacy_flag" boolean');
    const before = await catalogSnapshot(url);
    const result = await cli(url, 'migrate', 'baseline', '--migrations-dir', migrationsDir, '--json');
    expect(result.code).toBe(1);
    expect(result.json().error.code).toBe('BASELINE_NO_MATCH');
    expect(result.json().data.differences.map((d: { message: string }) => d.message)).toEqual([
      'column tasks.legacy_flag: in the live database, not in the migrations',
    ]);
    expect(await catalogSnapshot(url)).toEqual(before);
    const text = await cli(url, 'migrate', 'baseline', '--migrations-dir', migrationsDir);
    expect(text.stdout).toMatch(/nothing was recorded\. Closest: after 20261203000000_better_auth_users/);
  });
});
