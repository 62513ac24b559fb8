import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startCutProxy, type Cut, type Direction } from './helpers/cut-proxy.js';
import { createTestDatabase } from './helpers/database.js';
import { migrationsFolder, tableMigration } from './helpers/migrations.js';
import { appliedAndConsistent, fromHistory } from './helpers/run-report.js';

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

const tableOf = (migration: string) => `cut_${names.indexOf(migration) + 1}`;

describe('a connection cut during 100 migrations', () => {
  it('at many byte offsets in both directions: the report equals the history, and the history the catalog', { timeout: 600_000 }, async () => {
    const dir = await migrationsFolder(Object.fromEntries(names.map((migration, i) => [migration, tableMigration(`cut_${i + 1}`)])));
    const uncut = await createTestDatabase('cutsize');
    const measured = await startCutProxy(uncut);
    const whole = await up(dir, measured.url(uncut));
    await measured.close();
    expect(whole.code, whole.stderr).toBe(0);
    const total = measured.bytes();

    // And 20 bytes before the end: after the batch (the lock's release, the goodbye).
    const cuts: Cut[] = (['toServer', 'toClient'] as Direction[]).flatMap((direction) => [...FRACTIONS.map((fraction) => Math.max(1, Math.floor(total[direction] * fraction))), total[direction] - 20].map((afterBytes) => ({ direction, afterBytes })));
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
