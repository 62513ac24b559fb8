import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers/database.js';
import { migrateProject } from './helpers/migrations.js';

let url: string;
let db: pg.Client;

beforeAll(async () => {
  url = await createTestDatabase('data_model');
  db = new pg.Client({ connectionString: url });
  await db.connect();
  await migrateProject(url);
});

afterAll(async () => {
  await db?.end();
});

type Row = Record<string, unknown>;

async function insert(table: '"user"' | 'tasks', row: Row): Promise<Row> {
  const columns = Object.keys(row);
  const placeholders = columns.map((_, i) => `$${i + 1}`);
  const { rows } = await db.query(`insert into ${table} (${columns.join(', ')}) values (${placeholders.join(', ')}) returning *`, Object.values(row));
  return rows[0] as Row;
}

let emails = 0;
/** A Better Auth user, as its signUpEmail writes one (it makes the id). */
function newUser(overrides: Row = {}): Promise<Row> {
  return insert('"user"', { id: `user-${++emails}`, email: `user${emails}@example.com`, name: 'Test User', ...overrides });
}

async function newTask(overrides: Row = {}): Promise<Row> {
  const user = overrides.user_id === undefined ? await newUser() : undefined;
  return insert('tasks', { user_id: user?.id, title: 'Buy milk', ...overrides });
}

/** The database's own error, so tests can assert on the constraint PostgreSQL names. */
async function rejection(promise: Promise<unknown>): Promise<pg.DatabaseError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'expected the database to refuse the write').toBeInstanceOf(pg.DatabaseError);
  return error as pg.DatabaseError;
}

async function expectViolation(promise: Promise<unknown>, constraint: string): Promise<void> {
  const error = await rejection(promise);
  expect({ constraint: error.constraint, code: error.code }).toMatchObject({ constraint, code: expect.stringMatching(/^23/) });
}

describe('the migrations create', () => {
  it('the indexes with Prisma default names', async () => {
    const { rows } = await db.query<{ indexname: string; indexdef: string }>(
      `select indexname, indexdef from pg_indexes where schemaname = 'public' and tablename <> '_prisma_migrations' order by 1`,
    );
    expect(rows.map((row) => row.indexname)).toEqual([
      'account_pkey',
      'account_userId_idx',
      'jwks_pkey',
      'session_pkey',
      'session_token_key',
      'session_userId_idx',
      'tasks_created_at_idx',
      'tasks_due_date_idx',
      'tasks_pkey',
      'tasks_priority_idx',
      'tasks_status_idx',
      'tasks_tags_idx',
      'tasks_user_id_created_at_idx',
      'tasks_user_id_status_idx',
      'user_email_key',
      'user_pkey',
      'verification_identifier_idx',
      'verification_pkey',
    ]);
    const definition = (name: string) => rows.find((row) => row.indexname === name)?.indexdef;
    expect(definition('tasks_user_id_created_at_idx')).toMatch(/\(user_id, created_at DESC\)$/);
    expect(definition('tasks_tags_idx')).toMatch(/USING gin \(tags\)$/);
    expect(definition('user_email_key')).toMatch(/^CREATE UNIQUE INDEX/);
    expect(definition('session_token_key')).toMatch(/^CREATE UNIQUE INDEX/);
  });

  // contype n: PostgreSQL 18 also lists NOT NULL constraints, which are not ours to name.
  it('the named constraints', async () => {
    const { rows } = await db.query<{ conname: string }>(
      `select conname from pg_constraint where connamespace = 'public'::regnamespace and contype <> 'n' and conrelid in ('"user"'::regclass, 'tasks'::regclass, 'session'::regclass, 'account'::regclass) order by 1`,
    );
    expect(rows.map((row) => row.conname)).toEqual([
      'account_pkey',
      'account_userId_fkey',
      'session_pkey',
      'session_userId_fkey',
      'tasks_completed_at_check',
      'tasks_description_length_check',
      'tasks_pkey',
      'tasks_tags_count_check',
      'tasks_tags_valid_check',
      'tasks_title_length_check',
      'tasks_user_id_fkey',
      'user_pkey',
    ]);
  });

  it('the defaults: database-generated task ids, empty tags, pending, medium; users unverified', async () => {
    const user = await newUser();
    const task = await newTask({ user_id: user.id });
    expect(user).toMatchObject({ image: null, emailVerified: false });
    expect(user.createdAt).toBeInstanceOf(Date);
    expect(task).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      tags: [],
      status: 'pending',
      priority: 'medium',
      description: null,
      due_date: null,
      completed_at: null,
    });
  });
});

describe('titles', () => {
  it('accepts 200 characters', async () => {
    await expect(newTask({ title: 'x'.repeat(200) })).resolves.toMatchObject({ title: 'x'.repeat(200) });
  });

  it('refuses 201 characters: VARCHAR(200) stops it before any CHECK runs', async () => {
    const error = await rejection(newTask({ title: 'x'.repeat(201) }));
    expect(error.code).toBe('22001');
  });

  it('refuses an empty or whitespace-only title', async () => {
    await expectViolation(newTask({ title: '' }), 'tasks_title_length_check');
    await expectViolation(newTask({ title: '   ' }), 'tasks_title_length_check');
  });
});

describe('descriptions', () => {
  it('accept 1000 characters and refuse 1001', async () => {
    await expect(newTask({ description: 'd'.repeat(1000) })).resolves.toMatchObject({ description: 'd'.repeat(1000) });
    const error = await rejection(newTask({ description: 'd'.repeat(1001) }));
    expect(error.code).toBe('22001');
  });

  it('are also capped by a named CHECK, should the column ever be widened', async () => {
    const { rows } = await db.query<{ definition: string }>(
      `select pg_get_constraintdef(oid) as definition from pg_constraint where conname = 'tasks_description_length_check'`,
    );
    expect(rows[0]?.definition).toMatch(/char_length\(\(?description\)?(::text)?\) <= 1000/);
  });
});

describe('tags', () => {
  const tenChars = (i: number) => `tag${String(i).padStart(7, '0')}`;

  it('accept 20 tags of 10 characters', async () => {
    const tags = Array.from({ length: 20 }, (_, i) => tenChars(i));
    await expect(newTask({ tags })).resolves.toMatchObject({ tags });
  });

  it('refuse 21 tags', async () => {
    await expectViolation(newTask({ tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }), 'tasks_tags_count_check');
  });

  it.each([
    ['an uppercase tag', 'Work'],
    ['an 11-character tag', 'a'.repeat(11)],
    ['a tag with surrounding spaces', ' work '],
    ['a tag with a trailing tab', 'work\t'],
    ['an empty tag', ''],
    ['a NULL tag', null],
  ])('refuse %s', async (_, tag) => {
    await expectViolation(newTask({ tags: ['home', tag] }), 'tasks_tags_valid_check');
  });

  it('refuse a two-dimensional array', async () => {
    await expectViolation(newTask({ tags: [['a'], ['b']] }), 'tasks_tags_valid_check');
  });

  it('allow inner spaces and digits', async () => {
    await expect(newTask({ tags: ['to do', '2026'] })).resolves.toMatchObject({ tags: ['to do', '2026'] });
  });
});

describe('completed_at', () => {
  it('is refused without completed status', async () => {
    await expectViolation(newTask({ completed_at: new Date() }), 'tasks_completed_at_check');
  });

  it('is filled by the trigger on an insert with status completed', async () => {
    const task = await newTask({ status: 'completed' });
    expect(task.completed_at).toBeInstanceOf(Date);
  });

  it('keeps a value the client gave', async () => {
    const given = new Date('2026-01-02T03:04:05.678Z');
    const task = await newTask({ status: 'completed', completed_at: given });
    expect(task.completed_at).toEqual(given);
  });

  it('follows status: set when completed, cleared when pending again', async () => {
    const task = await newTask();
    const update = async (set: string) => (await db.query(`update tasks set ${set} where id = $1 returning status, completed_at`, [task.id])).rows[0];
    expect(await update(`status = 'completed'`)).toMatchObject({ status: 'completed', completed_at: expect.any(Date) });
    const completedAt = async () => (await db.query(`select completed_at::text from tasks where id = $1`, [task.id])).rows[0]?.completed_at;
    const first = await completedAt();
    // Another update of a completed task leaves the time it was completed alone.
    await update(`title = 'Buy oat milk', status = 'completed'`);
    expect(await completedAt()).toBe(first);
    expect(await update(`status = 'pending'`)).toMatchObject({ status: 'pending', completed_at: null });
  });

  it('refuses a contradiction instead of silently dropping it', async () => {
    const task = await newTask({ status: 'completed' });
    await expectViolation(
      db.query(`update tasks set status = 'pending', completed_at = now() - interval '1 day' where id = $1`, [task.id]),
      'tasks_completed_at_check',
    );
    await expectViolation(db.query(`update tasks set completed_at = null where id = $1`, [task.id]), 'tasks_completed_at_check');
  });
});

describe('updated_at', () => {
  it.each(['tasks'] as const)('moves on every update of %s, even when the client sends an old value', async (table) => {
    const row = await newTask();
    const { rows: before } = await db.query<{ updated_at: string }>(`select updated_at::text from ${table} where id = $1`, [row.id]);
    await db.query(`update ${table} set title = 'Renamed', updated_at = '2000-01-01' where id = $1`, [row.id]);
    const { rows } = await db.query<{ moved: boolean }>(
      `select updated_at > $2::timestamptz and updated_at > created_at as moved from ${table} where id = $1`,
      [row.id, before[0]?.updated_at],
    );
    expect(rows[0]?.moved).toBe(true);
  });
});

describe("Better Auth's users", () => {
  it('refuse a duplicate email', async () => {
    await newUser({ email: 'grace@example.com' });
    await expectViolation(newUser({ email: 'grace@example.com' }), 'user_email_key');
  });

  it('own only tasks of a user that exists', async () => {
    await expectViolation(newTask({ user_id: 'no-such-user' }), 'tasks_user_id_fkey');
  });

  it('take their tasks with them when deleted', async () => {
    const user = await newUser();
    await newTask({ user_id: user.id });
    await newTask({ user_id: user.id, title: 'Second' });
    await db.query('delete from "user" where id = $1', [user.id]);
    const { rows } = await db.query<{ count: string }>('select count(*) from tasks where user_id = $1', [user.id]);
    expect(rows[0]?.count).toBe('0');
  });
});
