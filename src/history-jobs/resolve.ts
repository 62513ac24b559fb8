import type pg from 'pg';
import type { DatabaseUrl } from '../config/database-url.js';
import type { ShadowInit } from '../config/external-tables.js';
import { TodoDbError, usageError } from '../core/errors.js';
import { inTransaction } from '../db/transaction.js';
import type { Migration } from '../migrations/folder.js';
import { insertMarkedApplied, markFailedRolledBack, recordEditedChecksum } from '../migrations/history.js';
import { type AppliedEntry, isApplied, type MigrationEntry, type MigrationState } from '../migrations/plan.js';
import { type JobOptions, withLockedSession } from '../migrations/session.js';
import { type Catalog, readCatalog } from '../schema/catalog-reader.js';
import { compareCatalogs, type Difference } from '../schema/differences.js';
import { schemasAfterEachMigration } from '../shadow/prefix-schemas.js';

export interface HistoryJobOptions extends JobOptions {
  shadowDatabaseUrl?: DatabaseUrl;
  /** Tables other tools manage (the external-tables setting): left out of the live schema's comparison, copied into the shadow. */
  externalTables?: string[];
  /** Run in the shadow first instead of copying the external tables. */
  shadowInit?: ShadowInit;
}

export interface ResolveReport {
  name: string;
  resolution: 'applied' | 'rolled-back' | 'edited';
  /** --applied, --edited: whether the live schema was compared with the shadow (false with --force). */
  verified: boolean;
  /** --applied over a failed attempt: its rows were marked rolled back first, as Prisma does. */
  failedAttemptsRolledBack: number;
  /** --rolled-back of a no-transaction migration: what its failed run may have left applied. */
  mayRemain: string | null;
  /** --edited: the checksum the history held, the file's that replaced it, and when the migration was applied. */
  checksum: { previous: string; recorded: string; appliedAt: string | null } | null;
}

/**
 * `migrate resolve --applied <name>`: records the migration as applied without running it, for a change made by
 * hand. Unless `force`, the live schema must be exactly what the history up to and including it builds.
 */
export async function resolveApplied(options: HistoryJobOptions, name: string, { force = false } = {}): Promise<ResolveReport> {
  return withLockedSession(
    options,
    async (session) => {
      const { client, migrations } = session;
      const migration = requireMigration(migrations, name);
      const state = stateOf(await session.observe(), name);
      if (state === 'applied' || state === 'edited') {
        throw usageError(
          'MIGRATION_ALREADY_APPLIED',
          `Migration ${name} is already recorded as applied.`,
          'Nothing to resolve: todo-db migrate status shows every migration with its state.',
        );
      }
      if (!force)
        await requireLiveMatches(options, client, migrations.slice(0, migrations.indexOf(migration) + 1), `the migrations up to and including ${name} build`);
      return session.locked({ create: true }, async ({ table }) => {
        // Prisma's order: the failed attempts are marked rolled back, then the applied row is added; both or neither.
        const rolledBack = await inTransaction(client, async () => {
          const count = await markFailedRolledBack(client, table, name);
          await insertMarkedApplied(client, table, name, migration.checksum);
          return count;
        });
        return { name, resolution: 'applied' as const, verified: !force, failedAttemptsRolledBack: rolledBack, mayRemain: null, checksum: null };
      });
    },
    (migrations) => void requireMigration(migrations, name),
  );
}

/** `migrate resolve --rolled-back <name>`: a failed migration, cleaned up by hand, becomes pending again. */
export async function resolveRolledBack(options: HistoryJobOptions, name: string): Promise<ResolveReport> {
  return withLockedSession(options, async (session) => {
    const entry = (await session.observe()).find((candidate) => candidate.name === name);
    // A running one is failed to this command: the lock waits for its migrator, and the update below tells.
    if (entry?.state !== 'failed' && entry?.state !== 'running') throw notFailed(name, entry?.state ?? 'pending');
    return session.locked({ create: false }, async ({ table, entries }) => {
      // Inside the lock: a migrator that was still running it may have finished meanwhile.
      const rolledBack = await markFailedRolledBack(session.client, table, name);
      if (rolledBack === 0) throw notFailed(name, stateOf(entries, name));
      return { name, resolution: 'rolled-back' as const, verified: false, failedAttemptsRolledBack: rolledBack, mayRemain: leftovers(entry), checksum: null };
    });
  });
}

/**
 * `migrate resolve --edited <name>`: an applied migration changed on purpose (a comment, Prisma's BEGIN and COMMIT
 * taken out, a fix the database already holds) gets the file's checksum in its history rows, so the tamper check
 * passes again. Unless `force`, the live schema must be what the applied migrations build with this one as it
 * reads now. In production it needs `yes`: without it the refusal shows both checksums and changes nothing.
 */
export async function resolveEdited(options: HistoryJobOptions, name: string, { force = false, yes = false } = {}): Promise<ResolveReport> {
  return withLockedSession(
    options,
    async (session) => {
      const { client, migrations } = session;
      const migration = requireMigration(migrations, name);
      const entries = await session.observe();
      const entry = requireEdited(entries, name);
      const change = { previous: entry.row.checksum, recorded: migration.checksum, appliedAt: entry.row.finished_at?.toISOString() ?? null };
      if (options.environment === 'production' && !yes) {
        throw usageError(
          'CONFIRMATION_REQUIRED',
          `migrate resolve --edited in production records ${name} as it reads now (checksum ${change.previous} becomes ${change.recorded}), so the history stops telling that it changed after it was applied.`,
          'Run it again with --yes if the change is deliberate (git diff shows it); otherwise restore the applied file (git checkout).',
        );
      }
      const applied = entries.filter(isApplied).flatMap((candidate) => (candidate.migration ? [candidate.migration] : []));
      if (!force) await requireLiveMatches(options, client, applied, `the applied migrations build with ${name} as it reads now`);
      return session.locked({ create: false }, async ({ table, entries: now }) => {
        // Inside the lock: the history may have moved while the shadow was built.
        requireEdited(now, name);
        await recordEditedChecksum(client, table, name, migration.checksum);
        return { name, resolution: 'edited' as const, verified: !force, failedAttemptsRolledBack: 0, mayRemain: null, checksum: change };
      });
    },
    (migrations) => void requireMigration(migrations, name),
  );
}

function requireEdited(entries: MigrationEntry[], name: string): AppliedEntry {
  const entry = entries.find((candidate) => candidate.name === name);
  if (entry?.state === 'edited') return entry;
  const state = entry?.state ?? 'pending';
  const advice =
    state === 'applied'
      ? 'Its file matches the history: there is nothing to record.'
      : 'Only an applied migration whose file changed can be recorded as edited: todo-db migrate status shows each state.';
  throw usageError('MIGRATION_NOT_EDITED', `Migration ${name} is not edited (it is ${state}).`, advice);
}

/** The live schema against the shadow of `prefix`: the check that keeps --applied and --edited honest. */
async function requireLiveMatches(options: HistoryJobOptions, client: pg.Client, prefix: Migration[], what: string): Promise<void> {
  // The prefix ends with the migration itself, so there is always a last catalog.
  const [live, expected] = await Promise.all([
    readCatalog(client, { exclude: options.externalTables }),
    schemasAfterEachMigration(options, prefix).then((catalogs) => catalogs.at(-1) as Catalog),
  ]);
  const differences = compareCatalogs(live, expected);
  if (differences.length === 0) return;
  throw new TodoDbError({
    code: 'RESOLVE_SCHEMA_MISMATCH',
    message: `The live schema is not what ${what}, so recording it would hide the difference:\n${listDifferences(differences)}`,
    hint: `Finish the change by hand until todo-db migrate diff agrees, or apply it with todo-db migrate up; --force records it anyway.`,
  });
}

function listDifferences(differences: Difference[]): string {
  return differences.map((difference) => `  ${difference.message}`).join('\n');
}

function leftovers({ migration, row }: MigrationEntry): string | null {
  if (!migration || migration.transactional) return null;
  const failure = row?.logs ? ` Its failure was: ${row.logs}` : '';
  return `${migration.name} ran outside a transaction, so the statements before the one that failed stayed applied, and marking it rolled back does not undo them.${failure} Undo them by hand (todo-db migrate diff shows what the live schema holds) before todo-db migrate up runs it again.`;
}

function notFailed(name: string, state: MigrationState): TodoDbError {
  const advice =
    state === 'applied' || state === 'edited'
      ? 'It is applied: todo-db migrate down rolls it back with its down.sql.'
      : state === 'missing'
        ? 'Its folder is missing: restore it (git checkout) first.'
        : 'It is not applied, so there is nothing to roll back: todo-db migrate up applies it.';
  return usageError(
    'MIGRATION_NOT_FAILED',
    `Migration ${name} is not in a failed state (it is ${state}), and only a failed migration can be marked rolled back.`,
    advice,
  );
}

function requireMigration(migrations: Migration[], name: string): Migration {
  const migration = migrations.find((candidate) => candidate.name === name);
  if (migration) return migration;
  throw usageError(
    'MIGRATION_NOT_FOUND',
    `There is no migration named "${name}" in the migrations folder.`,
    'Use a folder name exactly as todo-db migrate status lists it.',
  );
}

/** A name neither the folder nor the history knows is pending to these checks, as it always was. */
function stateOf(entries: MigrationEntry[], name: string): MigrationState {
  return entries.find((entry) => entry.name === name)?.state ?? 'pending';
}
