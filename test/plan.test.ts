import { describe, expect, it } from 'vitest';
import type { Migration } from '../src/migrations/folder.js';
import type { HistoryRow } from '../src/migrations/history.js';
import { type MigrationState, pendingUpTo, planMigrations, revertible, verifyHistory } from '../src/migrations/plan.js';

/** The planning layer on plain data: no database, no files, milliseconds. */

const file = (name: string, { checksum = `sum-${name}`, down = true } = {}): Migration => ({
  name,
  path: `/m/${name}/migration.sql`,
  sql: `-- ${name}`,
  checksum,
  transactional: true,
  readDown: () => (down ? { sql: `-- undo ${name}` } : undefined),
});

let clock = 0;
const row = (name: string, { finished = true, rolledBack = false, checksum = `sum-${name}` } = {}): HistoryRow => ({
  id: `${name}-${++clock}`,
  checksum,
  migration_name: name,
  finished_at: finished ? new Date(clock * 1000) : null,
  rolled_back_at: rolledBack ? new Date(clock * 1000) : null,
  started_at: new Date(clock * 1000),
  logs: null,
  applied_steps_count: finished ? 1 : 0,
});

const A = '20260101000001_a';
const B = '20260101000002_b';
const C = '20260101000003_c';

describe('planMigrations: the state of each migration', () => {
  it.each<[string, Migration[], HistoryRow[], boolean, Record<string, MigrationState>]>([
    ['never applied', [file(A)], [], false, { [A]: 'pending' }],
    ['applied', [file(A)], [row(A)], false, { [A]: 'applied' }],
    ['applied, then the file changed', [file(A, { checksum: 'other' })], [row(A)], false, { [A]: 'edited' }],
    ['applied, then the folder went away', [], [row(A)], false, { [A]: 'missing' }],
    ['rolled back', [file(A)], [row(A), row(A, { rolledBack: true })], false, { [A]: 'rolled-back' }],
    ['rolled back and its folder removed: forgotten', [], [row(A, { rolledBack: true })], false, {}],
    ['unfinished, nobody holds the lock', [file(A)], [row(A, { finished: false })], false, { [A]: 'failed' }],
    ['unfinished, a migrator holds the lock', [file(A)], [row(A, { finished: false })], true, { [A]: 'running' }],
    [
      'an older unfinished row is failed even while a migrator runs',
      [file(A), file(B)],
      [row(A, { finished: false }), row(B, { finished: false })],
      true,
      { [A]: 'failed', [B]: 'running' },
    ],
    ['the latest attempt decides', [file(A)], [row(A, { finished: false }), row(A)], false, { [A]: 'applied' }],
  ])('%s', (_, migrations, rows, migratorRunning, expected) => {
    const states = Object.fromEntries(planMigrations(migrations, rows, migratorRunning).map((entry) => [entry.name, entry.state]));
    expect(states).toEqual(expected);
  });
});

describe('verifyHistory: what stops `up` before anything runs', () => {
  it.each<[string, HistoryRow[], Migration[], string | undefined]>([
    ['all applied or pending', [row(A)], [file(A), file(B)], undefined],
    ['a running migration is not an error', [row(A, { finished: false })], [file(A)], undefined],
    ['edited', [row(A)], [file(A, { checksum: 'x' })], 'MIGRATION_EDITED'],
    ['missing', [row(A)], [], 'MIGRATION_MISSING'],
    ['failed', [row(A, { finished: false })], [file(A)], 'MIGRATION_FAILED'],
  ])('%s', (name, rows, migrations, code) => {
    const entries = planMigrations(migrations, rows, name.includes('running'));
    if (code === undefined) expect(() => verifyHistory(entries)).not.toThrow();
    else expect(() => verifyHistory(entries)).toThrow(expect.objectContaining({ code }));
  });
});

describe('pendingUpTo: what `up` applies', () => {
  it.each<[string, HistoryRow[], string | undefined, boolean, string[] | string]>([
    ['everything pending, in order', [], undefined, false, [A, B, C]],
    ['up to a name', [], B, false, [A, B]],
    ['after the applied ones', [row(A)], undefined, false, [B, C]],
    ['a rolled-back one is pending again', [row(A), row(B), row(B, { rolledBack: true })], undefined, false, [B, C]],
    ['one that sorts before the last applied is refused', [row(B)], undefined, false, 'MIGRATION_OUT_OF_ORDER'],
    ['... unless allowed', [row(B)], undefined, true, [A, C]],
  ])('%s', (_, rows, to, allowOutOfOrder, expected) => {
    const entries = planMigrations([file(A), file(B), file(C)], rows);
    if (typeof expected === 'string') expect(() => pendingUpTo(entries, to, allowOutOfOrder)).toThrow(expect.objectContaining({ code: expected }));
    else expect(pendingUpTo(entries, to, allowOutOfOrder).map((entry) => entry.name)).toEqual(expected);
  });
});

describe('revertible: what `down` reverts', () => {
  const applied = [row(A), row(B), row(C)];
  it.each<[string, Migration[], { steps?: number; to?: string }, string[] | string]>([
    ['the last one by default', [file(A), file(B), file(C)], {}, [C]],
    ['--steps 2, newest first', [file(A), file(B), file(C)], { steps: 2 }, [C, B]],
    ['--to keeps that one applied', [file(A), file(B), file(C)], { to: A }, [C, B]],
    ['--to a migration that is not applied', [file(A), file(B), file(C), file('20260101000004_d')], { to: '20260101000004_d' }, 'MIGRATION_NOT_APPLIED'],
    ['no down.sql', [file(A), file(B), file(C, { down: false })], {}, 'MIGRATION_IRREVERSIBLE'],
    ['edited', [file(A), file(B), file(C, { checksum: 'x' })], {}, 'MIGRATION_EDITED'],
    ['missing', [file(A), file(B)], {}, 'MIGRATION_MISSING'],
  ])('%s', (_, migrations, options, expected) => {
    const entries = planMigrations(migrations, applied);
    if (typeof expected === 'string') expect(() => revertible(entries, options)).toThrow(expect.objectContaining({ code: expected }));
    else expect(revertible(entries, options).map((entry) => entry.name)).toEqual(expected);
  });
});
