import { usageError } from '../core/errors.js';
import { inTransaction } from '../db/transaction.js';
import { insertMarkedApplied, openHistory } from '../migrations/history.js';
import { withLockedSession } from '../migrations/session.js';
import { readCatalog } from '../schema/catalog-reader.js';
import { compareCatalogs, type Difference } from '../schema/differences.js';
import { schemasAfterEachMigration } from '../shadow/prefix-schemas.js';
import type { HistoryJobOptions } from './resolve.js';

export interface BaselineReport {
  dryRun: boolean;
  /** The migrations recorded as applied (with --dry-run: that would be), in order. */
  recorded: string[];
  /** Left pending: migrate up applies them. */
  pending: string[];
  /** When no prefix matched: the prefix whose schema is closest to the live one (fewest differences). */
  closest: string | null;
  /** The live schema against the matched prefix, or against the closest one when none matched. */
  differences: Difference[];
  /** True when the live schema is exactly what the recorded prefix builds. */
  accountedFor: boolean;
}

/**
 * `migrate baseline`, for a database whose schema was built without todo-db: the live schema is compared with
 * the schema after each prefix of the migrations, and the longest prefix that matches exactly is recorded as
 * applied, with rows as `prisma migrate resolve --applied` writes them. Nothing is written when no prefix matches.
 */
export async function baseline(options: HistoryJobOptions, { dryRun = false } = {}): Promise<BaselineReport> {
  return withLockedSession(options, async (session) => {
    const { client, migrations } = session;
    const { rows } = await openHistory(client, { create: false });
    const recordedAlready = rows.filter((row) => row.rolled_back_at === null);
    if (recordedAlready.length > 0) {
      throw usageError(
        'BASELINE_HAS_HISTORY',
        `The database already has a migration history (${recordedAlready.length} row(s) in _prisma_migrations, the latest ${recordedAlready.at(-1)?.migration_name}): baseline is for a database built without todo-db.`,
        'See todo-db migrate status; a single migration applied by hand is recorded with todo-db migrate resolve --applied <name>.',
      );
    }
    const [live, schemas] = await Promise.all([readCatalog(client, { exclude: options.externalTables }), schemasAfterEachMigration(options, migrations)]);
    const differencesAfter = schemas.map((schema) => compareCatalogs(live, schema));
    const matched = differencesAfter.findLastIndex((differences) => differences.length === 0);
    if (matched === -1) {
      const closest = differencesAfter.reduce(
        (best, differences, index) => (differences.length < (differencesAfter[best]?.length ?? Infinity) ? index : best),
        0,
      );
      return {
        dryRun,
        recorded: [],
        pending: migrations.map((m) => m.name),
        closest: migrations[closest]?.name ?? null,
        differences: differencesAfter[closest] ?? [],
        accountedFor: false,
      };
    }
    const prefix = migrations.slice(0, matched + 1);
    if (!dryRun) {
      await session.locked({ create: true }, ({ table }) =>
        inTransaction(client, async () => {
          for (const migration of prefix) await insertMarkedApplied(client, table, migration.name, migration.checksum);
        }),
      );
    }
    return {
      dryRun,
      recorded: prefix.map((m) => m.name),
      pending: migrations.slice(matched + 1).map((m) => m.name),
      closest: null,
      differences: [],
      accountedFor: true,
    };
  });
}
