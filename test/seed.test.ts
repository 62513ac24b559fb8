import bcrypt from 'bcryptjs';
import { verifyPassword } from 'better-auth/crypto';
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

const seedTasks = (url: string) =>
  query<TaskRow>(url, `select t.* from tasks t join "user" u on u.id = t.user_id where u.email = 'test@example.com' order by t.id`);
const bcryptSeed = (url: string, ...args: string[]) =>
  runCli(['seed-dev', '--bcrypt-cost', '4', ...args], { env: { DATABASE_URL: url, TODO_DB_PASSWORD_HASH: 'bcrypt' } });

interface Credential {
  id: string;
  account_id: string;
  password: string;
}

/** The test user and its credential accounts, as Better Auth's signInEmail reads them. */
const credentials = (url: string) =>
  query<Credential>(
    url,
    `select u.id, a."accountId" as account_id, a.password from "user" u join "account" a on a."userId" = u.id and a."providerId" = 'credential' where u.email = 'test@example.com'`,
  );
const count = async (url: string, table: string) => (await query<{ n: number }>(url, `select count(*)::int as n from ${table}`))[0]!.n;
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
  it('creates the Better Auth user, its credential account and five varied tasks, then a rerun creates nothing', async () => {
    const url = await migratedDatabase();
    const first = await seed(url, '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(first.json().data).toMatchObject({ users: { created: 1, skipped: 0 }, accounts: { created: 1, skipped: 0 }, tasks: { created: 5, skipped: 0 } });

    const [credential, ...more] = await credentials(url);
    expect(more).toHaveLength(0);
    expect(credential!.account_id).toBe(credential!.id);
    // Better Auth's own default verification (scrypt) accepts it.
    expect(await verifyPassword({ hash: credential!.password, password: 'Test123!@#' })).toBe(true);
    expect(await verifyPassword({ hash: credential!.password, password: 'Test123!@' })).toBe(false);

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

    const second = await seed(url);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/Nothing to create/);
    expect(second.stdout).toMatch(/users\s+0 created, 1 already present/);
    expect(second.stdout).toMatch(/credential accounts\s+0 created, 1 already present/);
    expect(second.stdout).toMatch(/tasks\s+0 created, 5 already present/);
    expect(await count(url, '"user"')).toBe(1);
    expect(await count(url, '"account"')).toBe(1);
    expect(await count(url, 'tasks')).toBe(5);
  });

  it('restores exactly the deleted tasks, and all five when the user has none', async () => {
    const url = await migratedDatabase();
    expect((await seed(url)).code).toBe(0);
    const before = await credentials(url);
    const deleted = [SEED_TASKS[1]!.id, SEED_TASKS[3]!.id];
    await query(url, 'delete from tasks where id = any($1::uuid[])', [deleted]);

    const partial = await seed(url, '--json');
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.json().data).toMatchObject({
      users: { created: 0, skipped: 1 },
      accounts: { created: 0, skipped: 1 },
      tasks: { created: 2, skipped: 3 },
      createdTaskIds: deleted,
    });
    expect(ids(await seedTasks(url))).toEqual(SEED_TASKS.map((task) => task.id));

    await query(url, 'delete from tasks');
    const empty = await seed(url, '--json');
    expect(empty.json().data).toMatchObject({ users: { created: 0, skipped: 1 }, tasks: { created: 5, skipped: 0 } });
    expect(await seedTasks(url)).toHaveLength(5);
    // The existing user is kept as it was: same id, same account, same hash.
    expect(await credentials(url)).toEqual(before);
  });

  it('gives the credential account back to a user who has none, keeping the user', async () => {
    const url = await migratedDatabase();
    expect((await seed(url)).code).toBe(0);
    const [{ id }] = (await credentials(url)) as [Credential];
    await query(url, `delete from "account"`);
    const again = await seed(url, '--json');
    expect(again.json().data).toMatchObject({ user: { id }, users: { created: 0 }, accounts: { created: 1 }, tasks: { created: 0 } });
    const [credential] = await credentials(url);
    expect(await verifyPassword({ hash: credential!.password, password: 'Test123!@#' })).toBe(true);
  });

  it('leaves nothing behind when the task inserts fail, and a rerun completes', async () => {
    const url = await migratedDatabase();
    await query(url, "create function refuse() returns trigger language plpgsql as $$ begin raise exception 'disk on fire'; end $$");
    await query(url, 'create trigger refuse before insert on tasks for each row execute function refuse()');
    const failed = await seed(url);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/disk on fire/);
    expect(await count(url, '"user"')).toBe(0);
    expect(await count(url, '"account"')).toBe(0);

    await query(url, 'drop trigger refuse on tasks');
    const rerun = await seed(url, '--json');
    expect(rerun.json().data).toMatchObject({ users: { created: 1 }, accounts: { created: 1 }, tasks: { created: 5 } });
  });

  it('adds its tasks to the user a concurrent seed created after it looked', async () => {
    const url = await migratedDatabase();
    // The other seed's user, inserted but not committed: seed-dev does not see it, and its insert waits on it.
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query('begin');
      const { rows } = await other.query<{ id: string }>(
        `insert into "user" (id, email, name) values ('theirs', 'test@example.com', 'Test User') returning id`,
      );
      await other.query(
        `insert into "account" (id, "accountId", "providerId", "userId", password, "updatedAt") values ('theirs', 'theirs', 'credential', 'theirs', 'their-hash', now())`,
      );
      const running = startCli(['seed-dev', '--json'], { env: { DATABASE_URL: url } });
      await waitUntil(
        async () => (await query(url, "select 1 from pg_stat_activity where application_name = 'todo-db seed-dev' and wait_event_type = 'Lock'")).length === 1,
      );
      await other.query('commit');
      const result = await running.exited;
      expect(result.code, result.stderr).toBe(0);
      expect(result.json().data).toMatchObject({
        user: { id: rows[0]!.id },
        users: { created: 0, skipped: 1 },
        accounts: { created: 0, skipped: 1 },
        tasks: { created: 5, skipped: 0 },
      });
      expect(await credentials(url)).toEqual([{ id: 'theirs', account_id: 'theirs', password: 'their-hash' }]);
      expect(ids(await seedTasks(url))).toEqual(SEED_TASKS.map((task) => task.id));
    } finally {
      await other.end();
    }
  });

  it('hashes with bcrypt, cost 12 by default, when TODO_DB_PASSWORD_HASH is bcrypt, and --bcrypt-cost sets the cost', async () => {
    const url = await migratedDatabase();
    const result = await runCli(['seed-dev'], { env: { DATABASE_URL: url, TODO_DB_PASSWORD_HASH: 'bcrypt' } });
    expect(result.code, result.stderr).toBe(0);
    const [credential] = await credentials(url);
    expect(bcrypt.getRounds(credential!.password)).toBe(12);
    expect(await bcrypt.compare('Test123!@#', credential!.password)).toBe(true);

    await query(url, `delete from "account"`);
    expect((await bcryptSeed(url)).code).toBe(0);
    expect(bcrypt.getRounds((await credentials(url))[0]!.password)).toBe(4);
  });

  it('refuses --bcrypt-cost without bcrypt, and an unknown TODO_DB_PASSWORD_HASH, changing nothing', async () => {
    const url = await migratedDatabase();
    const cost = await seed(url, '--bcrypt-cost', '4', '--json');
    expect(cost.code).toBe(2);
    expect(cost.json()).toMatchObject({
      ok: false,
      error: { code: 'BCRYPT_COST_WITHOUT_BCRYPT', hint: expect.stringContaining('TODO_DB_PASSWORD_HASH=bcrypt') },
    });
    const unknown = await runCli(['seed-dev', '--json'], { env: { DATABASE_URL: url, TODO_DB_PASSWORD_HASH: 'argon2' } });
    expect(unknown.code).toBe(2);
    expect(unknown.json()).toMatchObject({ ok: false, error: { code: 'TODO_DB_PASSWORD_HASH_INVALID' } });
    expect(await count(url, '"user"')).toBe(0);
  });

  it('refuses to run in production, changing nothing', async () => {
    const url = await migratedDatabase();
    const result = await runCli(['seed-dev', '--json'], { env: { DATABASE_URL: url, ENVIRONMENT: 'production' } });
    expect(result.code).toBe(2);
    expect(result.json()).toMatchObject({ ok: false, status_code: 400, error: { code: 'PRODUCTION_REFUSED' } });
    expect(await count(url, '"user"')).toBe(0);
  });

  it('says to run migrate up on a database without the schema', async () => {
    const url = await createTestDatabase('seed_bare');
    const result = await seed(url);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/DATABASE_NOT_MIGRATED/);
    expect(result.stderr).toMatch(/todo-db migrate up/);
  });
});
