import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultMigrationsDir } from '../src/config/package-root.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { addMigration, migrateProject, query } from './helpers/migrations.js';

const smoke = (url: string, ...args: string[]) => runCli(['smoke', ...args], { env: { DATABASE_URL: url } });
const STEP_NAMES = ['create', 'read', 'update', 'isolation', 'cascade'];

async function migratedDatabase(): Promise<string> {
  const url = await createTestDatabase('smoke');
  await migrateProject(url);
  return url;
}

async function rowCounts(url: string): Promise<{ users: number; tasks: number }> {
  const [row] = await query(url, 'select (select count(*) from "user")::int as users, (select count(*) from tasks)::int as tasks');
  return row;
}

/** Someone else's data, which smoke must leave exactly as it was. */
async function existingUserWithTask(url: string): Promise<void> {
  await query(
    url,
    `with u as (insert into "user" (id, email, name) values ('someone', 'someone@example.com', 'Someone') returning id) insert into tasks (user_id, title) select id, 'theirs' from u`,
  );
}

describe('smoke', () => {
  it('passes on a migrated database, step by step, and leaves nothing behind', async () => {
    const url = await migratedDatabase();
    await existingUserWithTask(url);
    const plain = await smoke(url);
    expect(plain.code).toBe(0);
    const [target, ...lines] = plain.stdout.trim().split('\n');
    // The database it changed comes first, without the password.
    expect(target).toBe(
      `Target: ${new URL(url).protocol}//${new URL(url).username}@${new URL(url).host}${new URL(url).pathname} (runtime, from DATABASE_URL (environment))`,
    );
    expect(lines.slice(0, 5).map((line) => line.match(/^ok\s+(\w+)\s.*\d ms$/)?.[1])).toEqual(STEP_NAMES);
    expect(lines[5]).toMatch(/^ok smoke passed: 5 steps in \d+ ms, 1 throwaway user removed$/);

    const json = await smoke(url, '--json');
    expect(json.code).toBe(0);
    const envelope = json.json();
    expect(envelope).toMatchObject({
      ok: true,
      command: 'smoke',
      status_code: 200,
      error: null,
      data: { passed: true, interrupted: false, cleanup: { removedUsers: 1, leftover: [], error: null } },
    });
    expect(envelope.data.steps.map((step: { name: string; status: string }) => [step.name, step.status])).toEqual(STEP_NAMES.map((name) => [name, 'passed']));
    expect(await rowCounts(url)).toEqual({ users: 1, tasks: 1 });
  });

  it('writes a JUnit report with a testcase per step', async () => {
    const url = await migratedDatabase();
    const file = join(await mkdtemp(join(tmpdir(), 'todo-db-smoke-')), 'reports', 'smoke.xml');
    const result = await smoke(url, '--junit', file);
    expect(result.code).toBe(0);
    const xml = await readFile(file, 'utf8');
    expect(xml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuite name="todo-db smoke" tests="5" failures="0" errors="0" skipped="0" time="\d+\.\d{3}"/,
    );
    expect(xml.match(/<testcase classname="todo-db.smoke" name="[^"]+" time="\d+\.\d{3}"\/>/g)).toHaveLength(5);
    expect(xml).not.toContain('<failure');
    expect(xml.trimEnd().endsWith('</testsuite>')).toBe(true);
  });

  it('refuses an unmigrated database with the hint, before creating anything', async () => {
    const url = await createTestDatabase('smoke');
    const result = await smoke(url);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('20261123000000_init (pending)');
    expect(result.stderr).toContain('hint: Run todo-db migrate up');
    expect(result.stdout).toMatch(/^Target: \S+ \(runtime, from DATABASE_URL \(environment\)\)\n$/);
  });

  it('refuses a pending migration, leaving the tables it could have written to empty', async () => {
    const url = await migratedDatabase();
    const dir = join(await mkdtemp(join(tmpdir(), 'todo-db-smoke-')), 'migrations');
    await cp(defaultMigrationsDir(), dir, { recursive: true });
    await addMigration(dir, '20991231000000_later', { up: 'select 1;\n' });
    const result = await smoke(url, '--json', '--migrations-dir', dir);
    expect(result.code).toBe(1);
    expect(result.json()).toMatchObject({
      ok: false,
      status_code: 503,
      data: null,
      error: { code: 'MIGRATIONS_PENDING', hint: 'Run todo-db migrate up, then smoke again.' },
    });
    expect(result.json().error.message).toContain('20991231000000_later (pending)');
    expect(await rowCounts(url)).toEqual({ users: 0, tasks: 0 });
  });

  it('reports the failing step, exits 1 and still removes its rows (completed_at trigger dropped)', async () => {
    const url = await migratedDatabase();
    await existingUserWithTask(url);
    await query(url, 'drop trigger tasks_sync_completed_at on tasks');
    const file = join(await mkdtemp(join(tmpdir(), 'todo-db-smoke-')), 'smoke.xml');
    const result = await smoke(url, '--json', '--junit', file);
    expect(result.code).toBe(1);
    const { data, error } = result.json();
    expect(data.steps.map((step: { name: string; status: string }) => `${step.name}:${step.status}`)).toEqual([
      'create:passed',
      'read:passed',
      'update:failed',
      'isolation:passed',
      'cascade:passed',
    ]);
    expect(data.steps[2].message).toContain('tasks_completed_at_check');
    expect(error).toMatchObject({ code: 'SMOKE_FAILED' });
    expect(error.message).toMatch(/^Smoke failed at update \(/);
    expect(await rowCounts(url)).toEqual({ users: 1, tasks: 1 });

    const xml = await readFile(file, 'utf8');
    expect(xml).toContain('tests="5" failures="1"');
    expect(xml.match(/<failure message="[^"]*tasks_completed_at_check[^"]*" type="SmokeStepFailed">/g)).toHaveLength(1);
    expect(xml).toContain('&quot;tasks_completed_at_check&quot;');
  });

  it('lists every field that is wrong when the read-back differs from what was written', async () => {
    const url = await migratedDatabase();
    await query(
      url,
      `create function meddle() returns trigger language plpgsql as $$ begin new.priority := 'low'; new.tags := new.tags || '{extra}'; return new; end $$;
      create trigger meddle before insert on tasks for each row execute function meddle()`,
    );
    const result = await smoke(url);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL read .*\n {4}priority is "low", expected "high"; tags is \["work","urgent","extra"\], expected \["work","urgent"\]$/m);
    expect(result.stderr).toContain('[SMOKE_FAILED]');
    expect(await rowCounts(url)).toEqual({ users: 0, tasks: 0 });
  });

  it('skips the later steps when the task cannot be created, and removes the user created before it', async () => {
    const url = await migratedDatabase();
    await query(url, "alter table tasks add constraint no_high_priority check (priority <> 'high')");
    const result = await smoke(url, '--json');
    expect(result.code).toBe(1);
    const { data } = result.json();
    expect(data.steps.map((step: { status: string }) => step.status)).toEqual(['failed', 'skipped', 'skipped', 'skipped', 'skipped']);
    expect(data.steps[0].message).toContain('no_high_priority');
    expect(data.cleanup).toEqual({ removedUsers: 1, leftover: [], error: null });
    expect(await rowCounts(url)).toEqual({ users: 0, tasks: 0 });
  });
});
