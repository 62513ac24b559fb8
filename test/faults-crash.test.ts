import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyLocalServer, ensureLocalServer } from '../src/local/index.js';
import { runCli } from './helpers/cli.js';
import { addMigration, query } from './helpers/migrations.js';
import { killServer } from './helpers/server-kill.js';

/**
 * Migrations of one batch commit without waiting for their WAL flush but the last, whose flush covers them all
 * (src/migrations/migrator.ts, ASYNC_COMMIT). What `migrate up` reported must survive a crash of the server
 * itself (every postgres process killed with -9, so the WAL buffers in shared memory are lost) right after it
 * returns. A server of its own, with nothing else flushing the WAL meanwhile: its WAL writer waits 10 s, the
 * background writer and autovacuum write nothing, so only the commits themselves make WAL durable.
 */
let dir: string | undefined;
let url: string;
let dataDir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'todo-db-crash-'));
  ({ url, dataDir } = await ensureLocalServer({ dir }));
  await query(url, "alter system set wal_writer_delay = '10s'");
  await query(url, "alter system set wal_writer_flush_after = '1GB'");
  await query(url, 'alter system set bgwriter_lru_maxpages = 0');
  await query(url, 'alter system set autovacuum = off');
  await query(url, 'select pg_reload_conf()');
}, 120_000);
afterAll(async () => {
  if (dir) await destroyLocalServer({ dir });
});

/** kill -9 of the postmaster and all its children at once, then a start that recovers from the WAL on disk. */
async function crashAndRecover(): Promise<void> {
  await killServer(dataDir);
  await ensureLocalServer({ dir: dir as string });
}

async function folderOf(count: number, failing?: number): Promise<string> {
  const folder = join(await mkdtemp(join(tmpdir(), 'todo-db-crash-migrations-')), 'migrations');
  for (let i = 1; i <= count; i++) {
    const name = `2099010100${String(i).padStart(4, '0')}_crash_${i}`;
    await addMigration(folder, name, { up: i === failing ? 'select 1/0;\n' : `create table crash_${i} (id int);\n` });
  }
  return folder;
}

async function survivors(): Promise<{ tables: number; applied: number; failed: number }> {
  const [row] = await query(
    url,
    `select
    (select count(*)::int from pg_tables where tablename like 'crash\\_%') as tables,
    (select count(*)::int from _prisma_migrations where finished_at is not null) as applied,
    (select count(*)::int from _prisma_migrations where finished_at is null) as failed`,
  );
  return row;
}

describe('a crash of the server right after migrate up returns', () => {
  it('loses none of the migrations it reported applied', async () => {
    const result = await runCli(['migrate', 'up', '--json', '--migrations-dir', await folderOf(20)], { env: { DATABASE_URL: url } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().data.applied).toHaveLength(20);
    await crashAndRecover();
    expect(await survivors()).toEqual({ tables: 20, applied: 20, failed: 0 });
  }, 120_000);

  it('after a failure in the 15th of 20: keeps the 14 before it and the record of the failed attempt', async () => {
    await query(
      url,
      `do $$ declare t text; begin for t in select tablename from pg_tables where tablename like 'crash\\_%' loop execute format('drop table %I', t); end loop; end $$; drop table _prisma_migrations`,
    );
    const result = await runCli(['migrate', 'up', '--json', '--migrations-dir', await folderOf(20, 15)], { env: { DATABASE_URL: url } });
    expect(result.code, result.stdout).toBe(1);
    await crashAndRecover();
    expect(await survivors()).toEqual({ tables: 14, applied: 14, failed: 1 });
  }, 120_000);
});
