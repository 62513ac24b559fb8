import { expect } from 'vitest';
import { query } from './migrations.js';

/**
 * What a run of migrations left, checked against itself: no history row for a migration that did not fail
 * (every row is applied), and in the catalog a table for each applied migration and for no other (`tableOf`
 * names the table each migration creates). Returns the applied migrations' names, in order.
 */
export async function appliedAndConsistent(url: string, tableOf: (migration: string) => string, tablePattern: string, context = ''): Promise<string[]> {
  const rows = await query<{ migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }>(
    url,
    'select migration_name, finished_at, rolled_back_at from _prisma_migrations order by migration_name',
  ).catch(() => []);
  const tables = (await query<{ relname: string }>(url, "select relname from pg_class where relkind = 'r' and relname like $1", [tablePattern])).map(
    (row) => row.relname,
  );
  const applied = rows.filter((row) => row.finished_at !== null && row.rolled_back_at === null).map((row) => row.migration_name);
  expect(
    rows.map((row) => row.migration_name),
    context,
  ).toEqual(applied);
  expect(tables.sort(), context).toEqual(applied.map(tableOf).sort());
  return applied;
}

/** The result set a report read back from the history must carry, given what the history holds. */
export const fromHistory = (names: string[], applied: string[]) => ({
  verb: 'applied',
  source: 'history',
  done: applied,
  failed: null,
  notRun: names.filter((migration) => !applied.includes(migration)),
});

/**
 * Waits until `count` migrations of a running `migrate up` are committed (the history table has that many rows
 * matching `rows`: every row by default; for `migrate down`, those rolled back).
 */
export async function untilCommitted(
  url: string,
  count: number,
  running: { child: { exitCode: number | null }; exited: Promise<{ stderr: string }> },
  rows = 'true',
): Promise<void> {
  for (;;) {
    if (running.child.exitCode !== null) throw new Error(`the migrate command ended first: ${(await running.exited).stderr}`);
    // Not yet created: the count would fail at planning.
    const [table] = await query<{ exists: boolean }>(url, "select to_regclass('_prisma_migrations') is not null as exists");
    if (table?.exists && ((await query<{ n: number }>(url, `select count(*)::int as n from _prisma_migrations where ${rows}`))[0]?.n ?? 0) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * What a run of `migrate down` left, checked against itself: every row is applied or rolled back (down.sql runs
 * in one transaction with its history update, so none is left started), and in the catalog a table for each
 * applied migration and for no other. Returns the applied migrations' names, in order.
 */
export async function afterDownConsistent(url: string, tableOf: (migration: string) => string, tablePattern: string, context = ''): Promise<string[]> {
  const rows = await query<{ migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }>(
    url,
    'select migration_name, finished_at, rolled_back_at from _prisma_migrations order by migration_name',
  );
  const tables = (await query<{ relname: string }>(url, "select relname from pg_class where relkind = 'r' and relname like $1", [tablePattern])).map(
    (row) => row.relname,
  );
  expect(
    rows.filter((row) => row.finished_at === null).map((row) => row.migration_name),
    context,
  ).toEqual([]);
  const applied = rows.filter((row) => row.rolled_back_at === null).map((row) => row.migration_name);
  expect(tables.sort(), context).toEqual(applied.map(tableOf).sort());
  return applied;
}

/** The result set a report of `migrate down` read back from the history must carry: `chosen` newest first. */
export const rolledBackFromHistory = (chosen: string[], applied: string[]) => ({
  verb: 'rolled back',
  source: 'history',
  done: chosen.filter((migration) => !applied.includes(migration)),
  failed: null,
  notRun: chosen.filter((migration) => applied.includes(migration)),
});
