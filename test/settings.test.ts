import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSettings, type SettingsFlags } from '../src/config/settings.js';

const A = 'postgresql://a:pw@localhost:5432/flag_db';
const B = 'postgresql://b:pw@localhost:5432/env_db';
const C = 'postgresql://c:pw@localhost:5432/file_db';

async function dirWithEnv(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'todo-db-settings-'));
  await writeFile(join(dir, '.env'), text);
  return dir;
}

function databases(flags: SettingsFlags, env: Record<string, string>, cwd: string) {
  const settings = resolveSettings(flags, env, cwd);
  return {
    app: settings.database?.database,
    migrations: settings.directDatabase?.database,
    appFrom: settings.database?.source,
    migrationsFrom: settings.directDatabase?.source,
  };
}

describe('which database: a flag beats the environment, which beats .env', () => {
  it('for DATABASE_URL and DIRECT_DATABASE_URL alike', async () => {
    const cwd = await dirWithEnv(`DATABASE_URL=${C}\nDIRECT_DATABASE_URL=${C.replace('file_db', 'file_direct')}\n`);
    expect(databases({}, {}, cwd)).toEqual({ app: 'file_db', migrations: 'file_direct', appFrom: 'env-file', migrationsFrom: 'env-file' });
    expect(databases({}, { DATABASE_URL: B }, cwd)).toEqual({ app: 'env_db', migrations: 'file_direct', appFrom: 'environment', migrationsFrom: 'env-file' });
    expect(databases({}, { DATABASE_URL: B, DIRECT_DATABASE_URL: B.replace('env_db', 'env_direct') }, cwd)).toMatchObject({
      app: 'env_db',
      migrations: 'env_direct',
    });
    expect(databases({ databaseUrl: A, directDatabaseUrl: A.replace('flag_db', 'flag_direct') }, { DIRECT_DATABASE_URL: B }, cwd)).toEqual({
      app: 'flag_db',
      migrations: 'flag_direct',
      appFrom: 'flag',
      migrationsFrom: 'flag',
    });
  });

  it('--database-url alone is that database for everything, whatever DIRECT_DATABASE_URL the environment or .env holds', async () => {
    const cwd = await dirWithEnv(`DIRECT_DATABASE_URL=${C}\n`);
    expect(databases({ databaseUrl: A }, {}, cwd)).toEqual({ app: 'flag_db', migrations: 'flag_db', appFrom: 'flag', migrationsFrom: 'flag' });
    expect(databases({ databaseUrl: A }, { DIRECT_DATABASE_URL: B }, cwd)).toEqual({
      app: 'flag_db',
      migrations: 'flag_db',
      appFrom: 'flag',
      migrationsFrom: 'flag',
    });
  });

  it('--direct-database-url alone changes only the migrations database', async () => {
    const cwd = await dirWithEnv('');
    expect(databases({ directDatabaseUrl: A }, { DATABASE_URL: B }, cwd)).toEqual({
      app: 'env_db',
      migrations: 'flag_db',
      appFrom: 'environment',
      migrationsFrom: 'flag',
    });
  });
});

describe('a .env value cut by "#"', () => {
  it('is called out with the fix, showing nothing of the value', async () => {
    const cwd = await dirWithEnv('DATABASE_URL=postgresql://app:Zx9#Kq@localhost/todo\n');
    let error: { code?: string; message: string; hint?: string } | undefined;
    try {
      resolveSettings({}, {}, cwd);
    } catch (caught) {
      error = caught as typeof error;
    }
    expect(error?.code).toBe('ENV_VALUE_CUT');
    expect(error?.message).toMatch(/DATABASE_URL in .*\.env holds an unquoted "#" inside the value/);
    expect(error?.hint).toMatch(/Quote the value: DATABASE_URL="…"; inside a URL, also percent-encode "#" in the password as %23/);
    expect(`${error?.message} ${error?.hint}`).not.toContain('Zx9');
  });

  it('is fine quoted, and a comment after a space is a comment', async () => {
    const quoted = await dirWithEnv('TODO_DB_LOCAL_DIR="./data#1"\nDATABASE_URL="postgresql://app:Zx9%23Kq@localhost/todo"\n');
    expect(resolveSettings({}, {}, quoted).database?.password).toBe('Zx9#Kq');
    expect(() => resolveSettings({}, {}, quoted)).not.toThrow(/cut/);
    const commented = await dirWithEnv('DATABASE_URL=postgresql://app:pw@localhost/todo # the local one\n');
    expect(resolveSettings({}, {}, commented).database?.database).toBe('todo');
  });

  it('does not matter when the environment sets the variable', async () => {
    const cwd = await dirWithEnv('DATABASE_URL=postgresql://app:Zx9#Kq@localhost/todo\n');
    expect(resolveSettings({}, { DATABASE_URL: B }, cwd).database?.database).toBe('env_db');
  });
});
