import { equivalentChecksums, type Migration } from './folder.js';
import type { HistoryRow } from './history.js';

/**
 * What the folder and the history say together, one entry per migration name. Pure: no I/O, so every state can
 * be reasoned about (and tested) from its inputs.
 */
export type MigrationState = 'applied' | 'pending' | 'failed' | 'rolled-back' | 'edited' | 'missing';

export interface MigrationEntry {
  name: string;
  state: MigrationState;
  migration?: Migration;
  /** The row that decides the state: the latest attempt. */
  row?: HistoryRow;
}

export function planMigrations(migrations: Migration[], rows: HistoryRow[]): MigrationEntry[] {
  const latest = new Map<string, HistoryRow>();
  for (const row of rows) latest.set(row.migration_name, row);
  const files = new Map(migrations.map((migration) => [migration.name, migration]));
  const names = [...new Set([...files.keys(), ...latest.keys()])].sort();
  return names.flatMap((name) => {
    const migration = files.get(name);
    const row = latest.get(name);
    const state = stateOf(migration, row);
    if (state === undefined) return [];
    return [{ name, state, migration, row }];
  });
}

function stateOf(migration: Migration | undefined, row: HistoryRow | undefined): MigrationState | undefined {
  if (!row) return 'pending';
  if (row.rolled_back_at) return migration ? 'rolled-back' : undefined;
  if (!row.finished_at) return 'failed';
  if (!migration) return 'missing';
  return matchesChecksum(migration, row.checksum) ? 'applied' : 'edited';
}

export function matchesChecksum(migration: Migration, checksum: string): boolean {
  return migration.checksum === checksum || equivalentChecksums(migration).includes(checksum);
}

/** Migrations that `up` would apply: never applied, or rolled back. */
export function isPending(entry: MigrationEntry): boolean {
  return entry.state === 'pending' || entry.state === 'rolled-back';
}

export function isApplied(entry: MigrationEntry): boolean {
  return entry.state === 'applied' || entry.state === 'edited' || entry.state === 'missing';
}

/** Anything that makes `migrate status` exit 1. */
export function needsAttention(entry: MigrationEntry): boolean {
  return entry.state !== 'applied';
}
