import type { DatabaseUrl } from '../config/database-url.js';
import type { Environment } from '../config/settings.js';
import { usageError } from '../core/errors.js';
import { withConnection } from '../db/connect.js';
import { type Migration, readMigrations } from '../migrations/folder.js';
import { observeHistory } from '../migrations/history.js';
import { isApplied, isPending, planMigrations } from '../migrations/plan.js';
import { type LintReport, type LintTarget, lintMigrations } from './lint.js';

/**
 * The `migrate lint` job: which migrations of the folder to lint (the named ones, all, or the pending ones),
 * and, unless offline, the database whose history says what is pending and whose catalog gives the sizes.
 */
export interface LintFolderOptions {
  migrationsDir: string;
  names: string[];
  all: boolean;
  maxBlockingRows?: number;
  /** Absent with --offline: static rules only, and every migration counts as applied before it. */
  database?: { url: DatabaseUrl; environment: Environment };
}

export type LintSelection = 'named' | 'all' | 'pending';

export interface FolderLintReport extends LintReport {
  selection: LintSelection;
}

export async function lintFolder(options: LintFolderOptions): Promise<FolderLintReport> {
  const migrations = readMigrations(options.migrationsDir);
  const named = chooseNamed(migrations, options.names);
  // Offline nothing says what is pending, so everything is linted.
  const selection: LintSelection = named ? 'named' : options.all || !options.database ? 'all' : 'pending';
  const { database } = options;
  if (!database) return { selection, ...(await lintMigrations(targetsOf(named ?? migrations, new Set()), { maxBlockingRows: options.maxBlockingRows })) };
  return withConnection(database.url, { environment: database.environment, applicationName: 'todo-db migrate lint' }, async (client) => {
    const entries = planMigrations(migrations, (await observeHistory(client)).rows);
    const pending = new Set(entries.filter(isPending).map((entry) => entry.name));
    const applied = new Set(entries.filter(isApplied).map((entry) => entry.name));
    const chosen = named ?? (selection === 'all' ? migrations : migrations.filter((migration) => pending.has(migration.name)));
    return { selection, ...(await lintMigrations(targetsOf(chosen, pending, applied), { db: client, maxBlockingRows: options.maxBlockingRows })) };
  });
}

function chooseNamed(migrations: Migration[], names: string[]): Migration[] | undefined {
  if (names.length === 0) return undefined;
  const unknown = names.find((name) => !migrations.some((migration) => migration.name === name));
  if (unknown !== undefined)
    throw usageError(
      'MIGRATION_NOT_FOUND',
      `There is no migration named "${unknown}" in the migrations folder.`,
      'Use a folder name exactly as todo-db migrate status lists it.',
    );
  // Folder order, whatever order they were named in: that is the order they run in.
  return migrations.filter((migration) => names.includes(migration.name));
}

const targetsOf = (migrations: Migration[], pending: Set<string>, applied = new Set<string>()): LintTarget[] =>
  migrations.map((migration) => ({ migration, pending: pending.has(migration.name), applied: applied.has(migration.name) }));
