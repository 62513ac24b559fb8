import { TodoDbError, usageError } from '../core/errors.js';
import { equivalentChecksums, type Migration } from './folder.js';
import type { HistoryRow } from './history.js';
import { compareMigrationNames, sortMigrationNames } from './order.js';

/**
 * What the folder and the history say together, one entry per migration name, and every decision taken from
 * that alone: what is pending, edited, missing, out of order, what down would revert. Pure: no I/O, so every
 * state can be reasoned about (and tested) from its inputs.
 */
export type MigrationState = 'applied' | 'pending' | 'running' | 'failed' | 'rolled-back' | 'edited' | 'missing';

export const MIGRATION_STATES: readonly MigrationState[] = ['applied', 'pending', 'running', 'failed', 'rolled-back', 'edited', 'missing'];

/** Never applied, or rolled back: `up` applies its file. A rolled-back one keeps its latest row. */
export interface PendingEntry {
  name: string;
  state: 'pending' | 'rolled-back';
  migration: Migration;
  row?: HistoryRow;
}

/** Applied from this folder's file (edited: from another version of it). */
export interface AppliedEntry {
  name: string;
  state: 'applied' | 'edited';
  migration: Migration;
  /** The row that decides the state: the latest attempt. */
  row: HistoryRow;
}

/** Applied, and its folder is gone. */
export interface MissingEntry {
  name: string;
  state: 'missing';
  migration?: undefined;
  row: HistoryRow;
}

/** Started and neither finished nor rolled back; its folder may be gone. */
export interface UnfinishedEntry {
  name: string;
  state: 'failed' | 'running';
  migration?: Migration;
  row: HistoryRow;
}

/** A pending entry carries its migration, an applied one its row: the state says which. */
export type MigrationEntry = PendingEntry | AppliedEntry | MissingEntry | UnfinishedEntry;

/**
 * `migratorRunning`: another migrator holds the migration lock right now. Its latest row, unfinished, is then a
 * no-transaction migration being applied (a transactional one is invisible until it commits), not a failure.
 */
export function planMigrations(migrations: Migration[], rows: HistoryRow[], migratorRunning = false): MigrationEntry[] {
  // Array and Map methods, not for-of, spreads or tuples: in a process that has just started, iterating costs a
  // result object per element, and a no-op command walks a long history several times.
  const latest = new Map<string, HistoryRow>();
  rows.forEach((row) => {
    latest.set(row.migration_name, row);
  });
  const inProgress = migratorRunning ? rows.at(-1) : undefined;
  const files = new Map<string, Migration>();
  migrations.forEach((migration) => {
    files.set(migration.name, migration);
  });
  const names = migrations.map((migration) => migration.name);
  latest.forEach((_, name) => {
    if (!files.has(name)) names.push(name);
  });
  const entries: MigrationEntry[] = [];
  // The folder's names come sorted, which the sort confirms in one pass; names only in the history are sorted in.
  sortMigrationNames(names).forEach((name) => {
    const entry = entryOf(name, files.get(name), latest.get(name), inProgress);
    if (entry) entries.push(entry);
  });
  return entries;
}

function entryOf(name: string, migration: Migration | undefined, row: HistoryRow | undefined, inProgress: HistoryRow | undefined): MigrationEntry | undefined {
  if (!row) return migration && { name, state: 'pending', migration };
  if (row.rolled_back_at) return migration && { name, state: 'rolled-back', migration, row };
  if (!row.finished_at) return { name, state: row === inProgress ? 'running' : 'failed', migration, row };
  if (!migration) return { name, state: 'missing', row };
  return { name, state: matchesChecksum(migration, row.checksum) ? 'applied' : 'edited', migration, row };
}

/** Started, and neither finished nor rolled back: failed, or running when a migrator holds the lock. */
function matchesChecksum(migration: Migration, checksum: string): boolean {
  if (migration.checksum === checksum) return true;
  const checksums = equivalentChecksums(migration);
  if (checksum.length === SHA256_HEX_LENGTH) return checksums.includes(checksum);
  // Early schema engines wrote each byte of the hash without its leading zero (prisma-engines issue 1887); Prisma
  // still compares a row whose checksum is not 64 characters long that way (schema-connector/src/checksum.rs).
  return [migration.checksum, ...checksums].some((candidate) => unpadded(candidate) === checksum);
}

const SHA256_HEX_LENGTH = 64;

function unpadded(checksum: string): string {
  return (checksum.match(/../g) ?? []).map((byte) => parseInt(byte, 16).toString(16)).join('');
}

/** Migrations that `up` would apply: never applied, or rolled back. */
export function isPending(entry: MigrationEntry): entry is PendingEntry {
  return entry.state === 'pending' || entry.state === 'rolled-back';
}

export function isApplied(entry: MigrationEntry): entry is AppliedEntry | MissingEntry {
  return entry.state === 'applied' || entry.state === 'edited' || entry.state === 'missing';
}

/** Anything that makes `migrate status` exit 1. */
export function needsAttention(entry: MigrationEntry): boolean {
  return entry.state !== 'applied';
}

/** Tamper checks: nothing runs while an applied migration was edited or removed, or one failed half-way. */
export function verifyHistory(entries: MigrationEntry[]): void {
  for (const entry of entries) {
    if (entry.state === 'edited') {
      throw new TodoDbError({
        code: 'MIGRATION_EDITED',
        message: `${entry.migration.path} was changed after it was applied (its checksum differs from the history).`,
        hint: nextStep(entry) as string,
      });
    }
    if (entry.state === 'missing') {
      throw new TodoDbError({
        code: 'MIGRATION_MISSING',
        message: `Migration ${entry.name} is applied but its folder is missing from the migrations folder.`,
        hint: nextStep(entry) as string,
      });
    }
    if (entry.state === 'failed') {
      const logs = entry.row?.logs ? `\n  ${entry.row.logs.trim().split('\n').join('\n  ')}` : '';
      throw new TodoDbError({
        code: 'MIGRATION_FAILED',
        message: `Migration ${entry.name} failed earlier and may be half applied: its history row was never finished (a no-transaction migration, or Prisma's deploy, which commits what ran before the failure), and no migrator is running it now.${logs}`,
        hint: nextStep(entry) as string,
      });
    }
  }
}

/**
 * What resolves an entry that needs attention, naming the command; null for one that needs none (or is running).
 * No step ever asks to change an applied file without recording it: that would only turn it into MIGRATION_EDITED.
 */
export function nextStep(entry: Pick<MigrationEntry, 'name' | 'state'>): string | null {
  switch (entry.state) {
    case 'pending':
      return 'Apply it: todo-db migrate up';
    case 'rolled-back':
      return 'Apply it again: todo-db migrate up';
    case 'failed':
      return `Undo what it applied by hand, then mark it rolled back (todo-db migrate resolve --rolled-back ${entry.name}), so migrate up runs it again; or, if you completed it by hand, record it: todo-db migrate resolve --applied ${entry.name}`;
    case 'edited':
      return `Restore the applied version (git checkout) and put the change in a new migration (todo-db migrate create <name>); or, if the change is deliberate and the database holds what the file now says, record it: todo-db migrate resolve --edited ${entry.name}`;
    case 'missing':
      return 'Restore its folder (git checkout): applied migrations must stay in the folder.';
    default:
      return null;
  }
}

/** What `up` applies, in order, refusing one that sorts before the last applied migration unless allowed. */
export function pendingUpTo(entries: MigrationEntry[], to: string | undefined, allowOutOfOrder: boolean): PendingEntry[] {
  const lastApplied = entries.filter(isApplied).at(-1)?.name;
  const pending = entries.filter(isPending).filter((entry) => to === undefined || compareMigrationNames(entry.name, to) <= 0);
  const early = pending.find((entry) => lastApplied !== undefined && compareMigrationNames(entry.name, lastApplied) < 0);
  if (early && !allowOutOfOrder) {
    throw new TodoDbError({
      code: 'MIGRATION_OUT_OF_ORDER',
      message: `Migration ${early.name} is pending but sorts before ${lastApplied}, which is already applied. Pending migrations must always have a name that comes alphabetically after the last applied migration.`,
      hint: 'Rename its folder so it sorts after the applied ones, in the order Prisma uses (todo-db migrate create gives a newer timestamp), or pass --allow-out-of-order if applying it late is safe.',
    });
  }
  return pending;
}

/** What `down` reverts, newest first: the last `steps` applied ones (1 by default), or all applied after `to`. */
export function revertible(entries: MigrationEntry[], { steps, to }: { steps?: number; to?: string }): AppliedEntry[] {
  const applied = entries.filter(isApplied).reverse();
  if (to !== undefined && !applied.some((entry) => entry.name === to)) {
    throw usageError(
      'MIGRATION_NOT_APPLIED',
      `Migration ${to} is not applied, so down cannot stop at it.`,
      'Pick an applied migration from todo-db migrate status.',
    );
  }
  const chosen =
    to !== undefined
      ? applied.slice(
          0,
          applied.findIndex((entry) => entry.name === to),
        )
      : applied.slice(0, steps ?? 1);
  return chosen.map((entry) => {
    if (entry.state === 'missing')
      throw new TodoDbError({
        code: 'MIGRATION_MISSING',
        message: `Migration ${entry.name} is applied but its folder is missing, so it cannot be rolled back.`,
        hint: 'Restore the folder (git checkout) first.',
      });
    if (entry.state === 'edited')
      throw new TodoDbError({
        code: 'MIGRATION_EDITED',
        message: `${entry.migration.path} was changed after it was applied; its down.sql may not match what the database holds.`,
        hint: 'Restore the applied version (git checkout) before rolling it back.',
      });
    if (entry.migration.readDown() === undefined) {
      throw usageError(
        'MIGRATION_IRREVERSIBLE',
        `Migration ${entry.name} has no down.sql, so it cannot be rolled back.`,
        `Write ${entry.name}/down.sql to undo it, then run migrate down again.`,
      );
    }
    return entry;
  });
}

export function requireKnown(migrations: Migration[], name: string): void {
  if (migrations.some((migration) => migration.name === name)) return;
  throw usageError(
    'MIGRATION_NOT_FOUND',
    `There is no migration named "${name}" in the migrations folder.`,
    'Use a folder name exactly as todo-db migrate status lists it.',
  );
}
