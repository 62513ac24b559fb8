import { describe, expect, it } from 'vitest';
import { runCli, startCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { migrationsFolder } from './helpers/migrations.js';
import { afterDownConsistent, appliedAndConsistent, fromHistory, rolledBackFromHistory, untilCommitted } from './helpers/run-report.js';

/**
 * Issue 22: a signal during a batch of 100 migrations. The batch in flight may have committed any number of
 * them; the report says what the history holds once the run's session is ended, read back before the exit.
 */
const COUNT = 100;
const name = (n: number) => `20260101${String(n).padStart(6, '0')}_sig${n}`;
const names = Array.from({ length: COUNT }, (_, i) => name(i + 1));
const tableOf = (migration: string) => `sig_${names.indexOf(migration) + 1}`;

describe.each([
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const)('%s during 100 migrations', (signal, exitCode) => {
  it('reports what the history holds: what is applied and what is not', async () => {
    const url = await createTestDatabase('sigreport');
    const dir = await migrationsFolder(
      Object.fromEntries(names.map((migration, i) => [migration, { up: `create table sig_${i + 1} (id int);\nselect pg_sleep(0.03);\n` }])),
    );
    const running = startCli(['migrate', 'up', '--json', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    await untilCommitted(url, 20, running);
    running.child.kill(signal);
    const result = await running.exited;
    expect(result.code, result.stderr).toBe(exitCode);
    const applied = await appliedAndConsistent(url, tableOf, 'sig\\_%');
    console.info(`${signal} during 100 migrations: ${applied.length} applied`);
    const report = result.json();
    expect(report.error.code).toBe('INTERRUPTED');
    expect(report.error.message).toContain(`The history, read back on a new connection: ${applied.length} of ${COUNT} applied`);
    expect(report.data).toEqual(fromHistory(names, applied));
  });
});

describe.each([
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const)('%s during `migrate down` of 100 migrations', (signal, exitCode) => {
  it('reports what the history holds: what is rolled back and what is not', async () => {
    const url = await createTestDatabase('sigdown');
    const dir = await migrationsFolder(
      Object.fromEntries(
        names.map((migration, i) => [migration, { up: `create table sig_${i + 1} (id int);\n`, down: `drop table sig_${i + 1};\nselect pg_sleep(0.03);\n` }]),
      ),
    );
    const up = await runCli(['migrate', 'up', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    expect(up.code, up.stderr).toBe(0);
    const running = startCli(['migrate', 'down', '--steps', String(COUNT), '--json', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    await untilCommitted(url, 20, running, 'rolled_back_at is not null');
    running.child.kill(signal);
    const result = await running.exited;
    expect(result.code, result.stderr).toBe(exitCode);
    const applied = await afterDownConsistent(url, tableOf, 'sig\\_%');
    console.info(`${signal} during migrate down of 100 migrations: ${COUNT - applied.length} rolled back`);
    const report = result.json();
    expect(report.error.code).toBe('INTERRUPTED');
    expect(report.error.message).toContain(`The history, read back on a new connection: ${COUNT - applied.length} of ${COUNT} rolled back`);
    expect(report.data).toEqual(rolledBackFromHistory([...names].reverse(), applied));
  });
});
