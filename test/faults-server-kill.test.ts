import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyLocalServer, ensureLocalServer } from '../src/local/index.js';
import { startCli } from './helpers/cli.js';
import { migrationsFolder, query } from './helpers/migrations.js';
import { killServer } from './helpers/server-kill.js';

/**
 * Issue 22: kill -9 of the server (every postgres process at once, WAL buffers lost) while `migrate up` runs 100
 * migrations. The report is what the history says after crash recovery, read back on a new connection: when the
 * server comes back within the bound, and when it does not (then what could not be known is said to be unknown).
 * A server of its own, never the shared test server.
 */
let dir: string | undefined;
let dataDir: string;
let serverUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'todo-db-kill-'));
  ({ url: serverUrl, dataDir } = await ensureLocalServer({ dir }));
}, 120_000);
afterAll(async () => {
  if (dir) await destroyLocalServer({ dir });
});

const COUNT = 100;
const name = (n: number) => `20260101${String(n).padStart(6, '0')}_kill${n}`;
const names = Array.from({ length: COUNT }, (_, i) => name(i + 1));
/** Each migration takes about 30 ms, so the kill lands in the middle of the batch. */
const folder = () => migrationsFolder(Object.fromEntries(names.map((migration, i) => [migration, { up: `create table kill_${i + 1} (id int);\nselect pg_sleep(0.03);\n` }])));

async function databaseOf(label: string): Promise<string> {
  await query(serverUrl, `create database ${label}`);
  return Object.assign(new URL(serverUrl), { pathname: `/${label}` }).toString();
}

async function historyAndCatalog(url: string) {
  const rows = await query<{ migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }>(url, 'select migration_name, finished_at, rolled_back_at from _prisma_migrations order by migration_name');
  const tables = (await query<{ relname: string }>(url, "select relname from pg_class where relkind = 'r' and relname like 'kill\\_%'")).map((row) => row.relname);
  const applied = rows.filter((row) => row.finished_at !== null && row.rolled_back_at === null).map((row) => row.migration_name);
  // Never a row for a migration that did not fail; a table for each applied migration and for no other.
  expect(rows.map((row) => row.migration_name)).toEqual(applied);
  expect(tables.sort()).toEqual(applied.map((migration) => `kill_${names.indexOf(migration) + 1}`).sort());
  return applied;
}

/** Starts `migrate up` and kills the server once some of the migrations are committed. */
async function killMidRun(url: string, dir: string) {
  const running = startCli(['migrate', 'up', '--json', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
  for (;;) {
    if (running.child.exitCode !== null) throw new Error(`migrate up ended before the kill: ${(await running.exited).stderr}`);
    const [row] = await query<{ n: number }>(url, "select count(*)::int as n from pg_tables where tablename = '_prisma_migrations'");
    if (row?.n && (await query<{ n: number }>(url, 'select count(*)::int as n from _prisma_migrations'))[0]!.n >= 20) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await killServer(dataDir);
  return running;
}

describe('kill -9 of the server during 100 migrations', () => {
  it('the server back within the bound: the report is the history after recovery, and the history the catalog', async () => {
    const url = await databaseOf('kill_back');
    const running = await killMidRun(url, await folder());
    await ensureLocalServer({ dir: dir as string });
    const result = await running.exited;
    expect(result.code, result.stderr).toBe(1);
    const report = result.json();
    const applied = await historyAndCatalog(url);
    console.info(`kill -9 of the server, back in time: ${applied.length} of ${COUNT} applied after recovery`);
    expect(report.error).toMatchObject({ code: 'CONNECTION_LOST', cause: 'connection_lost' });
    expect(report.data).toEqual({ verb: 'applied', source: 'history', done: applied, failed: null, notRun: names.filter((migration) => !applied.includes(migration)) });
  }, 120_000);

  it('the server still down at the bound: the report says which migrations are unknown, and guesses none', async () => {
    // connect_timeout=1: the read-back gives up after 4 s.
    const url = `${await databaseOf('kill_down')}?connect_timeout=1`;
    const running = await killMidRun(url, await folder());
    const result = await running.exited;
    await ensureLocalServer({ dir: dir as string });
    expect(result.code, result.stderr).toBe(1);
    const report = result.json();
    expect(report.error).toMatchObject({ code: 'CONNECTION_LOST', cause: 'connection_lost' });
    expect(report.error.message).toMatch(/could not be read back/);
    expect(report.data.source).toBe('unknown');
    const { done, failed, notRun, unknown } = report.data;
    expect([...done, ...unknown, ...notRun]).toEqual(names);
    expect(failed).toBeNull();
    const applied = await historyAndCatalog(url);
    console.info(`kill -9 of the server, still down: ${done.length} reported applied, ${unknown.length} unknown, ${notRun.length} not run; ${applied.length} applied after recovery`);
    for (const migration of done) expect(applied).toContain(migration);
    for (const migration of notRun) expect(applied).not.toContain(migration);
  }, 120_000);
});
