import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';

/** Parts of the test server's URL, for tests that build their own URLs (wrong password, missing database). */
export function adminUrl(): URL {
  return new URL(inject('adminUrl'));
}

/**
 * Creates a database for the calling test file, so files can run in parallel, and drops it after the file.
 * Returns its URL.
 */
export async function createTestDatabase(prefix = 'test'): Promise<string> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create database "${name}"`);
  afterAll(() => adminQuery(`drop database if exists "${name}" with (force)`));
  const url = adminUrl();
  url.pathname = `/${name}`;
  return url.toString();
}

export async function adminQuery(sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: inject('adminUrl'), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}
