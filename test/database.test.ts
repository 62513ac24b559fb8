import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TodoDbError } from '../src/core/errors.js';
import { type Database, openDatabase, TaskPriority, TaskStatus } from '../src/db/database.js';
import { createTestDatabase } from './helpers/database.js';
import { migrateProject } from './helpers/migrations.js';
import { newUser } from './helpers/users.js';

let url: string;
let observer: pg.Client;
let database: Database;

/** A URL whose connections are recognisable in pg_stat_activity. */
function urlNamed(applicationName: string): string {
  const named = new URL(url);
  named.searchParams.set('application_name', applicationName);
  return named.toString();
}

async function connectionsOf(applicationName: string): Promise<number> {
  const { rows } = await observer.query<{ count: number }>(
    'select count(*)::int as count from pg_stat_activity where datname = current_database() and application_name = $1',
    [applicationName],
  );
  return rows[0]?.count ?? -1;
}

const uniqueName = () => `todo_db_test_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  url = await createTestDatabase('database');
  await migrateProject(url);
  observer = new pg.Client({ connectionString: url });
  await observer.connect();
  database = await openDatabase({ databaseUrl: url });
});

afterAll(async () => {
  await database?.close();
  await observer?.end();
});

let emails = 0;
const email = () => `person${++emails}@example.com`;

describe('Prisma Client on the pool', () => {
  it("writes and reads every column of Better Auth's user", async () => {
    // Better Auth's ids are its own random strings, not uuids.
    const id = randomBytes(16).toString('base64url');
    const written = { id, email: email(), name: 'Ada Lovelace', emailVerified: true, image: 'https://example.com/ada.png' };
    const created = await database.prisma.user.create({ data: written });
    expect(created).toMatchObject(written);
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(created.updatedAt).toBeInstanceOf(Date);

    const changes = { email: email(), name: 'Ada King', emailVerified: false, image: null };
    const updated = await database.prisma.user.update({ where: { id }, data: changes });
    expect(updated).toMatchObject(changes);
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
    expect(await database.prisma.user.findUniqueOrThrow({ where: { id } })).toEqual(updated);
  });

  it('lets the database generate ids and defaults', async () => {
    const user = await database.prisma.user.create({ data: newUser() });
    const task = await database.prisma.task.create({ data: { userId: user.id, title: 'Defaults' } });
    expect(user).toMatchObject({ image: null, emailVerified: false });
    expect(task.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(task).toMatchObject({ status: TaskStatus.pending, priority: TaskPriority.medium, tags: [], description: null, dueDate: null, completedAt: null });
  });

  it('writes and reads every column of tasks', async () => {
    const user = await database.prisma.user.create({ data: newUser() });
    const written = {
      id: randomUUID(),
      userId: user.id,
      title: 'Write the report',
      description: 'Quarterly numbers',
      status: TaskStatus.completed,
      priority: TaskPriority.high,
      dueDate: new Date('2026-12-01T09:30:00.123Z'),
      tags: ['work', 'q4'],
      completedAt: new Date('2026-11-20T17:00:00.456Z'),
      createdAt: new Date('2026-11-01T08:00:00.000Z'),
    };
    const created = await database.prisma.task.create({ data: written });
    expect(created).toMatchObject(written);

    const changes = { title: 'Rewrite the report', description: null, status: TaskStatus.pending, priority: TaskPriority.low, dueDate: null, tags: [] };
    const updated = await database.prisma.task.update({ where: { id: written.id }, data: changes });
    // The trigger clears completed_at when the task goes back to pending; Prisma returns the row as stored.
    expect(updated).toMatchObject({ ...changes, completedAt: null });
    const completed = await database.prisma.task.update({ where: { id: written.id }, data: { status: TaskStatus.completed } });
    expect(completed.completedAt).toBeInstanceOf(Date);
    expect(await database.prisma.task.findFirstOrThrow({ where: { id: written.id, user: { email: user.email } }, include: { user: true } })).toMatchObject({
      ...completed,
      user: { id: user.id },
    });
  });

  it('surfaces the CHECK constraints as errors', async () => {
    const user = await database.prisma.user.create({ data: newUser() });
    await expect(database.prisma.task.create({ data: { userId: user.id, title: '   ' } })).rejects.toThrow(/tasks_title_length_check/);
  });
});

describe('transaction', () => {
  it('commits when fn resolves and returns its value', async () => {
    const address = email();
    const id = await database.transaction(async (tx) => (await tx.user.create({ data: newUser(address) })).id);
    expect(await database.prisma.user.findUnique({ where: { email: address } })).toMatchObject({ id });
  });

  it('rolls back when fn throws, and rethrows the same error', async () => {
    const address = email();
    const boom = new Error('boom');
    const attempt = database.transaction(async (tx) => {
      const user = await tx.user.create({ data: newUser(address) });
      await tx.task.create({ data: { userId: user.id, title: 'Never saved' } });
      throw boom;
    });
    await expect(attempt).rejects.toBe(boom);
    expect(await database.prisma.user.count({ where: { email: address } })).toBe(0);
    expect(await database.prisma.task.count({ where: { title: 'Never saved' } })).toBe(0);
  });

  it('runs 10 at once on a pool of 10, each on its own connection, and all commit', async () => {
    const user = await database.prisma.user.create({ data: newUser() });
    const pids = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        database.transaction(async (tx) => {
          await tx.task.create({ data: { userId: user.id, title: `Concurrent ${i}` } });
          // Holding each transaction open a moment makes them overlap, so each needs its own connection.
          const [row] = await tx.$queryRaw<Array<{ pid: number }>>`select pg_backend_pid() as pid, pg_sleep(0.2)::text`;
          return row?.pid;
        }),
      ),
    );
    expect(new Set(pids).size).toBe(10);
    expect(await database.prisma.task.count({ where: { userId: user.id } })).toBe(10);
  });
});

describe('openDatabase and close', () => {
  it('connects only on first use, and close() leaves no connection behind, twice over', async () => {
    const name = uniqueName();
    const own = await openDatabase({ databaseUrl: urlNamed(name), poolSize: 3 });
    expect(await connectionsOf(name)).toBe(0);
    await Promise.all([own.prisma.user.count(), own.transaction((tx) => tx.task.count())]);
    expect(await connectionsOf(name)).toBeGreaterThan(0);
    await own.close();
    // A backend exits just after its client says goodbye, so give it a moment.
    await expect.poll(() => connectionsOf(name)).toBe(0);
    await expect(own.close()).resolves.toBeUndefined();
  });

  it('names its connections after the applicationName option when the URL does not', async () => {
    const name = uniqueName();
    const own = await openDatabase({ databaseUrl: url, applicationName: name, poolSize: 1 });
    await own.prisma.user.count();
    expect(await connectionsOf(name)).toBe(1);
    await own.close();
  });

  // PrismaPg adopts only a pool of its own pg; the bundle must ship the adapter with the pg it bundles.
  it('works from the published bundle (dist/index.js, built by npm run build) on our pool', async () => {
    const bundle = new URL('../dist/index.js', import.meta.url).href;
    const { openDatabase: openFromBundle } = (await import(bundle)) as { openDatabase: typeof openDatabase };
    const name = uniqueName();
    const own = await openFromBundle({ databaseUrl: url, applicationName: name, poolSize: 2 });
    try {
      expect(await own.transaction((tx) => tx.user.count())).toBeGreaterThanOrEqual(0);
      expect(await connectionsOf(name)).toBe(1);
    } finally {
      await own.close();
    }
  });

  it.each([0, 11, 2.5, -1, Number.NaN])('refuses pool size %s as a usage error', async (poolSize) => {
    const error = await openDatabase({ databaseUrl: url, poolSize }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TodoDbError);
    expect(error).toMatchObject({ code: 'POOL_SIZE_INVALID', kind: 'usage' });
  });

  it('refuses a connect timeout of 0, which pg reads as waiting forever', async () => {
    await expect(openDatabase({ databaseUrl: url, connectTimeoutMs: 0 })).rejects.toMatchObject({ code: 'CONNECT_TIMEOUT_INVALID', kind: 'usage' });
  });
});
