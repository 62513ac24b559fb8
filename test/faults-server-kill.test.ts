import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyLocalServer, ensureLocalServer } from '../src/local/index.js';
import { startCli } from './helpers/cli.js';
import { migrationsFolder, query } from './helpers/migrations.js';
import { appliedAndConsistent, fromHistory, untilCommitted } from './helpers/run-report.js';
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
const folder = () =>
  migrationsFolder(Object.fromEntries(names.map((migration, i) => [migration, { up: `create table kill_${i + 1} (id int);\nselect pg_sleep(0.03);\n` }])));

async function databaseOf(label: string): Promise<string> {
  await query(serverUrl, `create database ${label}`);
  return Object.assign(new URL(serverUrl), { pathname: `/${label}` }).toString();
}

const tableOf = (migration: string) => `kill_${names.indexOf(migration) + 1}`;
const appliedOf = (url: string) => appliedAndConsistent(url, tableOf, 'kill\\_%');

/** Starts `migrate up` and kills the server once some of the migrations are committed. */
async function killMidRun(url: string, dir: string) {
  const running = startCli(['migrate', 'up', '--json', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
  await untilCommitted(url, 20, running);
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
    const applied = await appliedOf(url);
    console.info(`kill -9 of the server, back in time: ${applied.length} of ${COUNT} applied after recovery`);
    expect(report.error).toMatchObject({ code: 'CONNECTION_LOST', cause: 'connection_lost' });
    expect(report.data).toEqual(fromHistory(names, applied));
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
    const applied = await appliedOf(url);
    console.info(
      `kill -9 of the server, still down: ${done.length} reported applied, ${unknown.length} unknown, ${notRun.length} not run; ${applied.length} applied after recovery`,
    );
    for (const migration of done) expect(applied).toContain(migration);
    for (const migration of notRun) expect(applied).not.toContain(migration);
  }, 120_000);
});
