import { withConnection } from '../db/connect.js';
import { readCatalog, type Catalog } from '../inspect/catalog.js';
import { withScratchDatabase, type ShadowOptions } from '../inspect/shadow.js';
import type { Migration } from './folder.js';
import { Migrator } from './migrator.js';

/**
 * The schema after each prefix of `migrations` (index i: after migrations[0..i]), built in one shadow database
 * by `migrate up`'s own engine, one migration at a time, so each is exactly what the history up to it builds.
 */
export async function schemasAfterEachMigration(options: ShadowOptions, migrations: Migration[]): Promise<Catalog[]> {
  const environment = options.environment ?? 'development';
  return withScratchDatabase({ ...options, environment }, (shadowUrl) =>
    // One connection for every step, the migrator's and the catalog reader's; and, as for any database this
    // process made or wipes, no pooler check.
    withConnection(shadowUrl, { environment, applicationName: 'todo-db migrate' }, async (client) => {
      const migrator = new Migrator({ url: shadowUrl, migrationsDir: options.migrationsDir, environment, unshared: true, connection: client });
      const catalogs: Catalog[] = [];
      for (const migration of migrations) {
        await migrator.up({ to: migration.name });
        catalogs.push(await readCatalog(client));
      }
      return catalogs;
    }),
  );
}
