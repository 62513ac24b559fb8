import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { destroyLocalServer } from '../src/local/index.js';
import { openAuth, signIn } from './helpers/auth.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { addMigration, migrationsFolder, query } from './helpers/migrations.js';

describe('setup from nothing', () => {
  let dir: string;
  afterAll(() => destroyLocalServer({ dir }));

  it('ends healthy in a fresh directory with no DATABASE_URL, and a second run changes nothing', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'todo-db-newcomer-'));
    dir = join(cwd, '.todo-db');
    const env = { TODO_DB_LOCAL_DIR: dir };

    const first = await runCli(['setup'], { env, cwd, timeoutMs: 120_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/ok database {4}postgresql:\/\/todo@127\.0\.0\.1:\d+\/todo \(the local database\)/);
    expect(first.stdout).toMatch(/ok migrations {2}\d+ applied/);
    expect(first.stdout).toMatch(/ok seed {8}1 user and 5 tasks created/);
    expect(first.stdout).toMatch(/ok smoke {7}5\/5 steps passed/);
    expect(first.stdout).toMatch(/Ready\. Next:/);

    const health = await runCli(['health', '--json'], { env, cwd });
    expect(health.code).toBe(0);
    expect(health.json().data.status).toBe('healthy');

    const second = await runCli(['setup', '--json'], { env, cwd });
    expect(second.code, second.stderr).toBe(0);
    const report = second.json().data;
    expect(report.migrations.applied).toEqual([]);
    expect(report.seed.users.created + report.seed.tasks.created).toBe(0);
    expect(report.smoke.passed).toBe(true);
    expect(report.database).not.toMatch(/:[^@/]+@/);

    const localUrl = (await runCli(['local', 'url', '--show-password'], { env, cwd })).stdout.trim();
    expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(new URL(localUrl).password);

    // What setup's last line promises: the app's Better Auth signs in the test user.
    const ba = openAuth(localUrl);
    try {
      expect((await signIn(ba.auth, 'test@example.com', 'Test123!@#')).userId).toBe(report.seed.user.id);
    } finally {
      await ba.close();
    }
  });
});

describe('setup on a database whose migration fails', () => {
  it('stops there with the migration error: no seed, no smoke, nothing of it applied', async () => {
    const url = await createTestDatabase('setup_fails');
    const dir = await migrationsFolder();
    await addMigration(dir, '20990101000000_broken', { up: 'create table broken (id int);\nselect 1/0;\n' });
    const result = await runCli(['setup', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('20990101000000_broken');
    expect(result.stderr).toContain('division by zero');
    expect(result.stdout).not.toMatch(/^\S+ (seed|smoke) /m);
    expect(await query(url, "select to_regclass('broken') as broken")).toEqual([{ broken: null }]);
  });
});
