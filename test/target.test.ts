import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { migrateProject, query } from './helpers/migrations.js';

/**
 * Which database a command touched, read from the server: a flag beats the environment, which beats .env, for
 * DATABASE_URL and DIRECT_DATABASE_URL alike, and --database-url alone is that database for everything.
 */
type Where = 'flag' | 'env' | 'file';

async function threeDatabases(): Promise<Record<Where, string>> {
  const [flag, env, file] = await Promise.all([createTestDatabase('flag'), createTestDatabase('env'), createTestDatabase('file')]);
  return { flag: flag as string, env: env as string, file: file as string };
}

async function migrated(url: string): Promise<boolean> {
  const [row] = await query(url, "select to_regclass('_prisma_migrations') is not null as migrated");
  return row.migrated;
}

interface Given {
  flags?: Partial<Record<'--database-url' | '--direct-database-url', Where>>;
  env?: Partial<Record<'DATABASE_URL' | 'DIRECT_DATABASE_URL', Where>>;
  file?: Partial<Record<'DATABASE_URL' | 'DIRECT_DATABASE_URL', Where>>;
}

async function run(args: string[], given: Given, dbs: Record<Where, string>) {
  const cwd = await mkdtemp(join(tmpdir(), 'todo-db-target-'));
  await writeFile(
    join(cwd, '.env'),
    Object.entries(given.file ?? {})
      .map(([name, where]) => `${name}=${dbs[where]}\n`)
      .join(''),
  );
  const flagArgs = Object.entries(given.flags ?? {}).flatMap(([flag, where]) => [flag, dbs[where]]);
  const env = Object.fromEntries(Object.entries(given.env ?? {}).map(([name, where]) => [name, dbs[where]]));
  return runCli([...args, ...flagArgs], { env, cwd });
}

const MATRIX: Array<{ name: string; given: Given; touched: Where; from: string }> = [
  { name: '.env alone', given: { file: { DATABASE_URL: 'file' } }, touched: 'file', from: 'DATABASE_URL (.env)' },
  {
    name: 'the environment beats .env',
    given: { env: { DATABASE_URL: 'env' }, file: { DATABASE_URL: 'file' } },
    touched: 'env',
    from: 'DATABASE_URL (environment)',
  },
  {
    name: 'DIRECT_DATABASE_URL from .env is for migrations',
    given: { env: { DATABASE_URL: 'env' }, file: { DIRECT_DATABASE_URL: 'file' } },
    touched: 'file',
    from: 'DIRECT_DATABASE_URL (.env)',
  },
  {
    name: 'DIRECT_DATABASE_URL: the environment beats .env',
    given: { env: { DATABASE_URL: 'flag', DIRECT_DATABASE_URL: 'env' }, file: { DIRECT_DATABASE_URL: 'file' } },
    touched: 'env',
    from: 'DIRECT_DATABASE_URL (environment)',
  },
  {
    name: '--database-url alone beats DIRECT_DATABASE_URL from the environment and .env',
    given: { flags: { '--database-url': 'flag' }, env: { DIRECT_DATABASE_URL: 'env' }, file: { DIRECT_DATABASE_URL: 'file' } },
    touched: 'flag',
    from: '--database-url',
  },
  {
    name: '--direct-database-url beats DIRECT_DATABASE_URL',
    given: { flags: { '--direct-database-url': 'flag' }, env: { DATABASE_URL: 'env', DIRECT_DATABASE_URL: 'env' }, file: { DIRECT_DATABASE_URL: 'file' } },
    touched: 'flag',
    from: '--direct-database-url',
  },
];

describe('the database a command touches', () => {
  it.each(MATRIX)('migrate up: $name', async ({ given, touched, from }) => {
    const dbs = await threeDatabases();
    const result = await run(['migrate', 'up'], given, dbs);
    expect(result.code, result.stderr).toBe(0);
    const name = new URL(dbs[touched]).pathname.slice(1);
    // Named first, without the password; then the server says it is the one that changed.
    expect(result.stdout.split('\n')[0]).toMatch(
      new RegExp(`^Target: postgresql://[^:@]+@[^/]+/${name} \\(migrations, from ${from.replace(/[()]/g, '\\$&')}\\)$`),
    );
    for (const where of ['flag', 'env', 'file'] as const) expect(await migrated(dbs[where]), where).toBe(where === touched);
  });

  it('migrate down --database-url A rolls back A, not the DIRECT_DATABASE_URL of the environment; --json names it in data.target', async () => {
    const dbs = await threeDatabases();
    await Promise.all([migrateProject(dbs.flag), migrateProject(dbs.env)]);
    const result = await run(['migrate', 'down', '--yes', '--json'], { flags: { '--database-url': 'flag' }, env: { DIRECT_DATABASE_URL: 'env' } }, dbs);
    expect(result.code, result.stderr).toBe(0);
    const target = new URL(dbs.flag);
    expect(result.json().data.target).toEqual({
      url: `postgresql://${target.username}@${target.host}${target.pathname}`,
      host: target.hostname,
      port: Number(target.port),
      database: target.pathname.slice(1),
      user: target.username,
      purpose: 'migrations',
      from: '--database-url',
    });
    const applied = async (url: string) =>
      (await query(url, 'select count(*)::int as n from _prisma_migrations where finished_at is not null and rolled_back_at is null'))[0].n;
    const all = (await query(dbs.env, 'select count(*)::int as n from _prisma_migrations'))[0].n;
    expect(await applied(dbs.flag)).toBe(all - 1);
    expect(await applied(dbs.env)).toBe(all);
  });

  it('seed-dev uses DATABASE_URL (runtime), whatever DIRECT_DATABASE_URL says', async () => {
    const dbs = await threeDatabases();
    await Promise.all([migrateProject(dbs.env), migrateProject(dbs.file)]);
    const result = await run(['seed-dev'], { env: { DATABASE_URL: 'env' }, file: { DIRECT_DATABASE_URL: 'file' } }, dbs);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^Target: .* \(runtime, from DATABASE_URL \(environment\)\)$/);
    const users = async (url: string) => (await query(url, 'select count(*)::int as n from "user"'))[0].n;
    expect([await users(dbs.env), await users(dbs.file)]).toEqual([1, 0]);
  });
});
