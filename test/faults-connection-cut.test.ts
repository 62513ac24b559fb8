import { describe, expect, it } from 'vitest';
import { runCli, startCli } from './helpers/cli.js';
import { type Cut, type Direction, startCutProxy } from './helpers/cut-proxy.js';
import { adminQuery, createTestDatabase } from './helpers/database.js';
import { migrationsFolder, query, tableMigration } from './helpers/migrations.js';
import { afterDownConsistent, appliedAndConsistent, fromHistory, rolledBackFromHistory } from './helpers/run-report.js';

/**
 * Issue 22: after the connection is cut, anywhere in the byte stream of a run of 100 migrations and in either
 * direction, `migrate up --json` reports what the history says (read back on a new connection), and the history
 * agrees with the catalog: no row for a migration that did not fail, a table for every applied one and none for
 * the others. A rerun then applies the rest.
 */
const COUNT = 100;
const name = (n: number) => `20260101${String(n).padStart(6, '0')}_cut${n}`;
const names = Array.from({ length: COUNT }, (_, i) => name(i + 1));
/** Offsets as fractions of the bytes an uncut run carries each way: the start-up, the lock, the batch. */
const FRACTIONS = [0.03, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9, 0.99];

const up = (dir: string, url: string) => runCli(['migrate', 'up', '--migrations-dir', dir, '--json'], { env: { DATABASE_URL: url } });
const down = (dir: string, url: string) =>
  runCli(['migrate', 'down', '--steps', String(COUNT), '--migrations-dir', dir, '--json'], { env: { DATABASE_URL: url } });

const tableOf = (migration: string) => `cut_${names.indexOf(migration) + 1}`;
const hundredTables = () => migrationsFolder(Object.fromEntries(names.map((migration) => [migration, tableMigration(tableOf(migration))])));

/** Each direction cut at the leading offsets, at FRACTIONS of an uncut run's bytes, and 20 bytes before its end (after the batch: the lock's release, the goodbye). */
function cutsAcross(total: Record<Direction, number>, leading: number[] = []): Cut[] {
  const offsets = (direction: Direction) => [
    ...leading,
    ...FRACTIONS.map((fraction) => Math.max(1, Math.floor(total[direction] * fraction))),
    total[direction] - 20,
  ];
  return (['toServer', 'toClient'] as Direction[]).flatMap((direction) => offsets(direction).map((afterBytes) => ({ direction, afterBytes })));
}

describe('a connection cut during 100 migrations', () => {
  it('at many byte offsets in both directions: the report equals the history, and the history the catalog', { timeout: 600_000 }, async () => {
    const dir = await hundredTables();
    const uncut = await createTestDatabase('cutsize');
    const measured = await startCutProxy(uncut);
    const whole = await up(dir, measured.url(uncut));
    await measured.close();
    expect(whole.code, whole.stderr).toBe(0);
    const total = measured.bytes();

    const cuts = cutsAcross(total);
    const outcomes: string[] = [];
    for (const cut of cuts) {
      const url = await createTestDatabase('cut');
      const proxy = await startCutProxy(url, cut);
      const result = await up(dir, proxy.url(url));
      await proxy.close();
      const where = `${cut.direction} after ${cut.afterBytes} of ${total[cut.direction]} bytes: exit ${result.code}`;
      const applied = await appliedAndConsistent(url, tableOf, 'cut\\_%', where);
      const report = result.json();
      if (result.code === 0) {
        expect(applied, where).toEqual(names);
      } else if (report.data) {
        expect(report.error, where).toMatchObject({ code: 'CONNECTION_LOST', cause: 'connection_lost', sqlstate: null });
        expect(report.error.hint, where).not.toMatch(/Fix migration\.sql/);
        expect(report.data, where).toEqual(fromHistory(names, applied));
        expect(result.stderr, where).toContain(`${applied.length} of ${COUNT} applied`);
      } else {
        // Cut before the migrations were sent (connecting, the lock): nothing applied, and said as a connection failure.
        expect(applied, where).toEqual([]);
        expect(report.error.code, where).toMatch(/^CONNECT/);
      }
      outcomes.push(`${where}, ${applied.length} applied${report.data?.source ? `, reported from the ${report.data.source}` : ''}`);

      const rerun = await up(dir, url);
      expect(rerun.code, `${where}; rerun: ${rerun.stderr}`).toBe(0);
      expect(await appliedAndConsistent(url, tableOf, 'cut\\_%', where)).toEqual(names);
    }
    console.info(`bytes of an uncut run: ${total.toServer} to the server, ${total.toClient} to the client\n${outcomes.join('\n')}`);
  });
});

describe("a reply the driver cannot read during 100 migrations (not PostgreSQL's error, not a closed socket first)", () => {
  it('up and down: told as a lost connection, the report equals the history, and the history the catalog', { timeout: 600_000 }, async () => {
    const dir = await hundredTables();
    const outcomes: string[] = [];
    for (const command of ['up', 'down'] as const) {
      for (const afterBytes of [5_000, 15_000, 25_000, 45_000, 60_000]) {
        const url = await createTestDatabase('garble');
        if (command === 'down') expect((await up(dir, url)).code).toBe(0);
        const proxy = await startCutProxy(url, { direction: 'toClient', afterBytes, garble: true });
        const result = await (command === 'up' ? up : down)(dir, proxy.url(url));
        await proxy.close();
        const where = `${command}, garbled after ${afterBytes} bytes: exit ${result.code}`;
        const applied =
          command === 'up' ? await appliedAndConsistent(url, tableOf, 'cut\\_%', where) : await afterDownConsistent(url, tableOf, 'cut\\_%', where);
        const report = result.json();
        outcomes.push(`${where}, ${applied.length} applied${report.data?.source ? `, reported from the ${report.data.source}` : ''}`);
        if (result.code === 0) continue;
        expect(report.error, where).toMatchObject({ code: 'CONNECTION_LOST', cause: 'connection_lost', sqlstate: null });
        expect(report.error.hint, where).not.toMatch(/Fix (migration|down)\.sql/);
        // Garbled while the history was first read: nothing ran, and there is no result set to tell.
        if (!report.data) expect(applied, where).toEqual(command === 'up' ? [] : names);
        else expect(report.data, where).toEqual(command === 'up' ? fromHistory(names, applied) : rolledBackFromHistory([...names].reverse(), applied));
      }
    }
    console.info(outcomes.join('\n'));
  });
});

describe('a connection cut during `migrate down` of 100 migrations', () => {
  it('at many byte offsets in both directions: the report equals the history, and the history the catalog', { timeout: 600_000 }, async () => {
    const dir = await hundredTables();
    const newestFirst = [...names].reverse();
    const migrated = async (prefix: string) => {
      const url = await createTestDatabase(prefix);
      const applied = await up(dir, url);
      expect(applied.code, applied.stderr).toBe(0);
      return url;
    };
    const uncut = await migrated('cutdownsize');
    const measured = await startCutProxy(uncut);
    const whole = await down(dir, measured.url(uncut));
    await measured.close();
    expect(whole.code, whole.stderr).toBe(0);
    const total = measured.bytes();

    // Also 10 and 200 bytes in: while connecting (the start-up message, authentication).
    const cuts = cutsAcross(total, [10, 200]);
    const outcomes: string[] = [];
    for (const cut of cuts) {
      const url = await migrated('cutdown');
      const proxy = await startCutProxy(url, cut);
      const result = await down(dir, proxy.url(url));
      await proxy.close();
      const where = `${cut.direction} after ${cut.afterBytes} of ${total[cut.direction]} bytes: exit ${result.code}`;
      const applied = await afterDownConsistent(url, tableOf, 'cut\\_%', where);
      const report = result.json();
      if (result.code === 0) {
        expect(applied, where).toEqual([]);
      } else if (report.data) {
        expect(report.error, where).toMatchObject({ code: 'CONNECTION_LOST', cause: 'connection_lost', sqlstate: null });
        expect(report.error.hint, where).not.toMatch(/Fix down\.sql|migrate up/);
        expect(report.data, where).toEqual(rolledBackFromHistory(newestFirst, applied));
        expect(result.stderr, where).toContain(`${COUNT - applied.length} of ${COUNT} rolled back`);
      } else {
        // Cut before the first down.sql was sent (connecting, the lock): nothing rolled back, and said as a connection lost, not PostgreSQL's error.
        expect(applied, where).toEqual(names);
        expect(report.error, where).toMatchObject({ code: expect.stringMatching(/^CONNECT/), cause: 'connection_lost', sqlstate: null });
      }
      outcomes.push(`${where}, ${COUNT - applied.length} rolled back${report.data?.source ? `, reported from the ${report.data.source}` : ''}`);

      // What the report says is left is exactly what a rerun rolls back.
      if (applied.length === 0) continue;
      const rerun = await runCli(['migrate', 'down', '--steps', String(applied.length), '--migrations-dir', dir, '--json'], { env: { DATABASE_URL: url } });
      expect(rerun.code, `${where}; rerun: ${rerun.stderr}`).toBe(0);
      expect(await afterDownConsistent(url, tableOf, 'cut\\_%', where)).toEqual([]);
    }
    console.info(`bytes of an uncut down: ${total.toServer} to the server, ${total.toClient} to the client\n${outcomes.join('\n')}`);
  });
});

describe('a connection lost during a no-transaction migration', () => {
  it('reports it failed from the history, its row left unfinished and unwritten, the one before applied, the one after not run', async () => {
    const url = await createTestDatabase('cutnotx');
    const [before, during, after] = ['20260101000001_before', '20260101000002_during', '20260101000003_after'];
    const dir = await migrationsFolder({
      [before]: tableMigration('cutnotx_before'),
      [during]: { up: '-- todo-db: no-transaction\ncreate table cutnotx_made (id int);\nselect pg_sleep(30);\ncreate table cutnotx_after (id int);\n' },
      [after]: tableMigration('cutnotx_after_migration'),
    });
    const running = startCli(['migrate', 'up', '--json', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    const database = new URL(url).pathname.slice(1);
    for (;;) {
      const { rows } = await adminQuery(
        `select pid from pg_stat_activity where datname = '${database}' and application_name = 'todo-db migrate' and wait_event = 'PgSleep'`,
      );
      if (rows[0]) {
        await adminQuery(`select pg_terminate_backend(${rows[0].pid})`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const result = await running.exited;
    expect(result.code).toBe(1);
    const report = result.json();
    expect(report.error).toMatchObject({ code: 'CONNECTION_LOST', sqlstate: '57P01', cause: 'connection_lost' });
    expect(report.error.message).toContain(`${during}/migration.sql:3:1: terminating connection`);
    expect(report.error.hint).toContain(`migrate resolve --rolled-back ${during}`);
    expect(report.data).toEqual({ verb: 'applied', source: 'history', done: [before], failed: during, notRun: [after] });
    const rows = await query(url, 'select migration_name, finished_at, rolled_back_at, logs from _prisma_migrations order by started_at');
    expect(rows).toEqual([
      expect.objectContaining({ migration_name: before, finished_at: expect.any(Date), rolled_back_at: null }),
      { migration_name: during, finished_at: null, rolled_back_at: null, logs: null },
    ]);
    expect((await query(url, "select relname from pg_class where relname like 'cutnotx%' and relkind = 'r' order by 1")).map((row) => row.relname)).toEqual([
      'cutnotx_before',
      'cutnotx_made',
    ]);
  });
});
