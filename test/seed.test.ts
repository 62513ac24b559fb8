import bcrypt from 'bcryptjs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { SEED_TASKS } from '../src/seed/dev.js';
import { runCli, startCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { migrateProject, query } from './helpers/migrations.js';

const seed = (url: string, ...args: string[]) => runCli(['seed-dev', ...args], { env: { DATABASE_URL: url } });

interface TaskRow {
  id: string;
  status: string;
  priority: string;
  due_date: Date | null;
  tags: string[];
  completed_at: Date | null;
}

const seedTasks = (url: string) => query<TaskRow>(url, "select t.* from tasks t join users u on u.id = t.user_id where u.email = 'test@example.com' order by t.id");
const ids = (rows: Array<{ id: string }>) => rows.map((row) => row.id);

async function migratedDatabase(): Promise<string> {
  const url = await createTestDatabase('seed');
  await migrateProject(url);
  return url;
}

/** Polls a condition on the database (a state to reach, not a time to wait). */
async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('seed-dev', () => {
  it('creates the user and five varied tasks, then a rerun creates nothing', async () => {
    const url = await migratedDatabase();
    const first = await seed(url, '--bcrypt-cost', '4', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(first.json().data).toMatchObject({ users: { created: 1, skipped: 0 }, tasks: { created: 5, skipped: 0 } });

    const users = await query<{ id: string; password_hash: string }>(url, "select id, password_hash from users where email = 'test@example.com'");
    expect(users).toHaveLength(1);
    expect(bcrypt.getRounds(users[0]!.password_hash)).toBe(4);
    expect(await bcrypt.compare('Test123!@#', users[0]!.password_hash)).toBe(true);

    const tasks = await seedTasks(url);
    expect(ids(tasks)).toEqual(SEED_TASKS.map((task) => task.id));
    expect(tasks.filter((task) => task.status === 'pending')).toHaveLength(2);
    const completed = tasks.filter((task) => task.status === 'completed');
    expect(completed).toHaveLength(3);
    expect(completed.every((task) => task.completed_at instanceof Date)).toBe(true);
    expect(new Set(tasks.map((task) => task.priority))).toEqual(new Set(['low', 'medium', 'high']));
    const dueDates = tasks.flatMap((task) => (task.due_date ? [task.due_date] : []));
    expect(dueDates.length).toBeGreaterThan(0);
    expect(dueDates.length).toBeLessThan(5);
    // UTC midnight, in the future.
    expect(dueDates.every((date) => date.toISOString().endsWith('T00:00:00.000Z') && date.getTime() > Date.now())).toBe(true);
    const tagged = tasks.filter((task) => task.tags.length > 0).length;
    expect(tagged).toBeGreaterThan(0);
    expect(tagged).toBeLessThan(5);

    const second = await seed(url, '--bcrypt-cost', '4');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/Nothing to create/);
    expect(second.stdout).toMatch(/users\s+0 created, 1 already present/);
    expect(second.stdout).toMatch(/tasks\s+0 created, 5 already present/);
    expect(await query(url, 'select count(*)::int as n from users')).toEqual([{ n: 1 }]);
    expect(await query(url, 'select count(*)::int as n from tasks')).toEqual([{ n: 5 }]);
  });

  it('restores exactly the deleted tasks, and all five when the user has none', async () => {
    const url = await migratedDatabase();
    expect((await seed(url, '--bcrypt-cost', '4')).code).toBe(0);
    const before = await query<{ id: string; password_hash: string }>(url, 'select id, password_hash from users');
    const deleted = [SEED_TASKS[1]!.id, SEED_TASKS[3]!.id];
    await query(url, 'delete from tasks where id = any($1::uuid[])', [deleted]);

    const partial = await seed(url, '--bcrypt-cost', '4', '--json');
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.json().data).toMatchObject({ users: { created: 0, skipped: 1 }, tasks: { created: 2, skipped: 3 }, createdTaskIds: deleted });
    expect(ids(await seedTasks(url))).toEqual(SEED_TASKS.map((task) => task.id));

    await query(url, 'delete from tasks');
    const empty = await seed(url, '--bcrypt-cost', '4', '--json');
    expect(empty.json().data).toMatchObject({ users: { created: 0, skipped: 1 }, tasks: { created: 5, skipped: 0 } });
    expect(await seedTasks(url)).toHaveLength(5);
    // The existing user is kept as it was: same id, same hash.
    expect(await query(url, 'select id, password_hash from users')).toEqual(before);
  });

  it('leaves nothing behind when the task inserts fail, and a rerun completes', async () => {
    const url = await migratedDatabase();
    await query(url, "create function refuse() returns trigger language plpgsql as $$ begin raise exception 'disk on fire'; end $$");
    await query(url, 'create trigger refuse before insert on tasks for each row execute function refuse()');
    const failed = await seed(url, '--bcrypt-cost', '4');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/disk on fire/);
    expect(await query(url, 'select count(*)::int as n from users')).toEqual([{ n: 0 }]);

    await query(url, 'drop trigger refuse on tasks');
    const rerun = await seed(url, '--bcrypt-cost', '4', '--json');
    expect(rerun.json().data).toMatchObject({ users: { created: 1 }, tasks: { created: 5 } });
  });

  it('adds its tasks to the user a concurrent seed created after it looked', async () => {
    const url = await migratedDatabase();
    // The other seed's user, inserted but not committed: seed-dev does not see it, and its insert waits on it.
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query('begin');
      const { rows } = await other.query<{ id: string }>("insert into users (email, password_hash, name) values ('test@example.com', 'theirs', 'Test User') returning id");
      const running = startCli(['seed-dev', '--bcrypt-cost', '4', '--json'], { env: { DATABASE_URL: url } });
      await waitUntil(async () => (await query(url, "select 1 from pg_stat_activity where application_name = 'todo-db seed-dev' and wait_event_type = 'Lock'")).length === 1);
      await other.query('commit');
      const result = await running.exited;
      expect(result.code, result.stderr).toBe(0);
      expect(result.json().data).toMatchObject({ user: { id: rows[0]!.id }, users: { created: 0, skipped: 1 }, tasks: { created: 5, skipped: 0 } });
      expect(await query(url, 'select password_hash from users')).toEqual([{ password_hash: 'theirs' }]);
      expect(ids(await seedTasks(url))).toEqual(SEED_TASKS.map((task) => task.id));
    } finally {
      await other.end();
    }
  });

  it('hashes with cost 12 by default', async () => {
    const url = await migratedDatabase();
    const result = await seed(url);
    expect(result.code, result.stderr).toBe(0);
    const [user] = await query<{ password_hash: string }>(url, 'select password_hash from users');
    expect(bcrypt.getRounds(user!.password_hash)).toBe(12);
    expect(await bcrypt.compare('Test123!@#', user!.password_hash)).toBe(true);
  });

  it('refuses to run in production, changing nothing', async () => {
    const url = await migratedDatabase();
    const result = await runCli(['seed-dev', '--bcrypt-cost', '4', '--json'], { env: { DATABASE_URL: url, ENVIRONMENT: 'production' } });
    expect(result.code).toBe(2);
    expect(result.json()).toMatchObject({ ok: false, status_code: 400, error: { code: 'PRODUCTION_REFUSED' } });
    expect(await query(url, 'select count(*)::int as n from users')).toEqual([{ n: 0 }]);
  });

  it('says to run migrate up on a database without the schema', async () => {
    const url = await createTestDatabase('seed_bare');
    const result = await seed(url, '--bcrypt-cost', '4');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/DATABASE_NOT_MIGRATED/);
    expect(result.stderr).toMatch(/todo-db migrate up/);
  });
});
