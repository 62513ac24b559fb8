import { mkdir, mkdtemp, readdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { migrationsFolder, query } from './helpers/migrations.js';

/** Hostile input that test/migrations.test.ts and test/inspect-indexes.test.ts do not already cover. */

let url: string;
beforeAll(async () => {
  url = await createTestDatabase('hostile');
});

async function tree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.map((entry) => relative(root, join(entry.parentPath ?? (entry as { path: string }).path, entry.name))).sort();
}

function expectCleanRefusal(result: CliResult, code: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(code);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toMatch(/INTERNAL_ERROR/);
}

describe('migrate create with hostile names', () => {
  it('writes only slugged folders inside the migrations folder, nothing beside or above it', async () => {
    const sandbox = await mkdtemp(join(tmpdir(), 'todo-db-hostile-'));
    const dir = join(sandbox, 'project', 'migrations');
    const names = [
      '../../escape',
      '/tmp/absolute',
      '..',
      'with spaces and\ttabs',
      `it's "quoted"`,
      'line\nbreak',
      '$(touch pwned)',
      'é'.repeat(150) + 'x'.repeat(300),
    ];
    for (const name of names) {
      const result = await runCli(['migrate', 'create', name, '--migrations-dir', dir], { cwd: sandbox });
      expect([0, 2], `${JSON.stringify(name)}: ${result.stderr}`).toContain(result.code);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    }
    const files = await tree(sandbox);
    const folders = files.filter((file) => file.startsWith('project/migrations/') && !file.slice('project/migrations/'.length).includes('/'));
    for (const folder of folders.filter((f) => !f.endsWith('migration_lock.toml'))) expect(folder).toMatch(/^project\/migrations\/\d{14}_[a-z0-9_]{1,200}$/);
    // Only the migrations folder and what is inside it exists in the sandbox.
    expect(files.filter((file) => !file.startsWith('project/migrations/'))).toEqual(['project', 'project/migrations']);
    expect(folders.length).toBeGreaterThanOrEqual(names.length - 1); // '..' has nothing to slug and is refused
  });
});

describe('a migration folder that is a symlink', () => {
  it('is refused when it points outside the project, and nothing of it runs', async () => {
    const dir = await migrationsFolder();
    const outside = await mkdtemp(join(tmpdir(), 'todo-db-outside-'));
    await mkdir(join(outside, 'evil'));
    await writeFile(join(outside, 'evil', 'migration.sql'), 'create table evil (id int);');
    await symlink(join(outside, 'evil'), join(dir, '20260101000001_evil'), 'dir');

    const result = await runCli(['migrate', 'up', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    expectCleanRefusal(result, /outside the migrations folder.*\[MIGRATION_INVALID\]/);
    expect(await query(url, "select 1 from pg_class where relname = 'evil'")).toEqual([]);
  });
});

describe('environment values with control characters', () => {
  it('refuses a newline in DATABASE_URL cleanly', async () => {
    const result = await runCli(['check-connection', '--json'], { env: { DATABASE_URL: `${url}\nhost=evil.example` } });
    expectCleanRefusal(result, /DATABASE_URL contains a newline or NUL character/);
    expect(result.json().error.code).toBe('DATABASE_URL_INVALID');
  });

  it('refuses a newline in ENVIRONMENT cleanly', async () => {
    const result = await runCli(['check-connection', '--json'], { env: { DATABASE_URL: url, ENVIRONMENT: 'production\ndevelopment' } });
    expectCleanRefusal(result, /ENVIRONMENT contains a newline or NUL character.*\[ENVIRONMENT_INVALID\]/);
  });

  it('refuses a NUL byte that reaches DATABASE_URL through a .env file', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'todo-db-nul-'));
    await writeFile(join(cwd, '.env'), `DATABASE_URL=${url}\0evil\n`);
    const result = await runCli(['check-connection', '--json'], { cwd });
    expectCleanRefusal(result, /DATABASE_URL contains a newline or NUL character/);
  });
});
