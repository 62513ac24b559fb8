import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { destroyLocalServer } from '../src/local/index.js';
import { runCli } from './helpers/cli.js';

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

    const password = new URL((await runCli(['local', 'url', '--show-password'], { env, cwd })).stdout.trim()).password;
    expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(password);
  });
});
