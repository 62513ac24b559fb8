import type pg from 'pg';
import { withConnection } from '../db/connect.js';
import type { Migration } from '../migrations/folder.js';
import { Migrator } from '../migrations/migrator.js';
import { type Catalog, readCatalog } from '../schema/catalog-reader.js';
import { inShadow, type ShadowOptions, withScratchDatabase } from './shadow-database.js';

/**
 * The schema after each prefix of `migrations` (index i: after migrations[0..i]), built in one shadow database
 * by `migrate up`'s own engine, one migration at a time, so each is exactly what the history up to it builds.
 * The external tables the shadow was given first are left out, as they are of the live schema.
 */
export async function schemasAfterEachMigration(options: ShadowOptions, migrations: Migration[]): Promise<Catalog[]> {
  const readings = await afterEachMigration(options, migrations, (client) => readCatalog(client, { exclude: options.externalTables }));
  return readings.after;
}

/** What `read` finds in the shadow before any migration (what other tools own) and after each one. */
export async function afterEachMigration<T>(
  options: ShadowOptions,
  migrations: Migration[],
  read: (client: pg.Client) => Promise<T>,
): Promise<{ before: T; after: T[] }> {
  const { environment } = options;
  return withScratchDatabase(options, (shadowUrl) =>
    // One connection for every step, the migrator's and the reader's; and, as for any database this process
    // made or wipes, no pooler check.
    withConnection(shadowUrl, { environment, applicationName: 'todo-db migrate' }, async (client) => {
      const migrator = new Migrator({ url: shadowUrl, migrationsDir: options.migrationsDir, environment, unshared: true, connection: client });
      const before = await read(client);
      const after: T[] = [];
      for (const migration of migrations) {
        await inShadow(
          options,
          () => migrator.up({ to: migration.name }),
          async () => migration.name,
        );
        after.push(await read(client));
      }
      return { before, after };
    }),
  );
}
