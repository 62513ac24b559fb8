import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../src/config/database-url.js';
import { createPool, DEFAULT_POOL_SIZE } from '../src/db/pool.js';
import { PrismaClient } from '../src/generated/prisma/client.js';
import { createTestDatabase } from './helpers/database.js';

let url: ReturnType<typeof parseDatabaseUrl>;
beforeAll(async () => {
  url = parseDatabaseUrl(await createTestDatabase('pool'));
});

describe('createPool', () => {
  it('has 10 connections by default, a finite connect timeout and an idle-error listener', async () => {
    const pool = createPool(url);
    expect(pool.options.max).toBe(DEFAULT_POOL_SIZE);
    expect(pool.options.connectionTimeoutMillis).toBeGreaterThan(0);
    expect(pool.listenerCount('error')).toBe(1);
    await pool.end();
  });

  it('survives an idle client being killed by the server and reports it', async () => {
    const errors: string[] = [];
    const pool = createPool(url, { max: 2, onIdleError: (message) => errors.push(message) });
    const client = await pool.connect();
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    client.release();
    const killer = createPool(url, { max: 1 });
    await killer.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
    await killer.end();
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toMatch(/an idle database connection failed/);
    await expect(pool.query('select 1 as one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await pool.end();
  });

  it('sends no startup parameter that a transaction-mode pooler rejects', async () => {
    const pool = createPool(url, { max: 1 });
    const { rows } = await pool.query<{ application_name: string }>('select application_name from pg_stat_activity where pid = pg_backend_pid()');
    expect(rows[0]?.application_name).toBe('todo-db');
    const config = pool.options as unknown as Record<string, unknown>;
    for (const name of ['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'query_timeout', 'options']) {
      expect(config[name], name).toBeUndefined();
    }
    await pool.end();
  });
});

describe('Prisma Client through @prisma/adapter-pg on our pool', () => {
  const pool = () => createPool(url, { max: 3 });
  let shared: ReturnType<typeof pool>;
  let prisma: InstanceType<typeof PrismaClient>;
  beforeAll(() => {
    shared = pool();
    prisma = new PrismaClient({ adapter: new PrismaPg(shared) });
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await shared.end();
  });

  it('runs queries on the same pool', async () => {
    const rows = await prisma.$queryRaw<Array<{ db: string }>>`select current_database() as db`;
    expect(rows[0]?.db).toBe(url.database);
    expect(shared.totalCount).toBeGreaterThan(0);
  });
});
