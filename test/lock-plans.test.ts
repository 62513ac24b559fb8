import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lintMigrations } from '../src/lint/lint.js';
import type { Migration } from '../src/migrations/folder.js';
import { LOCK_CORPUS } from './fixtures/lock-plans.js';
import { createTestDatabase } from './helpers/database.js';
import { type LockEntry, LockProbe, type LockTruth, planTruth, unobservedLocks } from './helpers/lock-probe.js';

/**
 * The lock plan proven against the server: each corpus statement runs on a database holding rows, and what
 * PostgreSQL does (pg_locks, relfilenode, rows read, whether another session's reads and writes wait) must be
 * what `migrate lint` planned for it, on the server the tests run on (embedded PostgreSQL 18, or
 * TEST_DATABASE_URL).
 */
let probe: LockProbe;
let live: pg.Client;

beforeAll(async () => {
  const url = await createTestDatabase('locks');
  probe = await LockProbe.start(url);
  live = new pg.Client(url);
  await live.connect();
});

afterAll(async () => {
  await live?.end();
  await probe?.end();
});

function memoryMigration(entry: LockEntry): Migration {
  const sql = entry.blockOn ? `-- todo-db: no-transaction\n${entry.sql};` : `${entry.sql};`;
  const name = '20990101000000_lock_probe';
  return { name, path: `/migrations/${name}/migration.sql`, sql, checksum: '', readDown: () => undefined, transactional: !entry.blockOn };
}

async function planned(entry: LockEntry): Promise<LockTruth> {
  const report = await lintMigrations([{ migration: memoryMigration(entry), pending: true }], { db: live, files: ['migration.sql'] });
  return planTruth(report.plan);
}

describe('lock plans against the server', () => {
  it('has a corpus of at least 80 statements', () => {
    expect(LOCK_CORPUS.length).toBeGreaterThanOrEqual(80);
  });

  it.for(LOCK_CORPUS)('$sql', async (entry, context) => {
    if (entry.needsTablespace && probe.tablespaceMissing) context.skip(probe.tablespaceMissing);
    const truth = await probe.observe(entry);
    const plan = entry.blockOn ? unobservedLocks(await planned(entry), truth) : await planned(entry);
    expect(plan).toEqual(truth);
  });
});
