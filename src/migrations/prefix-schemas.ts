import { readCatalogAt, type Catalog } from '../inspect/catalog.js';
import { withScratchDatabase, type ShadowOptions } from '../inspect/shadow.js';
import type { Migration } from './folder.js';
import { Migrator } from './migrator.js';

/**
 * The schema after each prefix of `migrations` (index i: after migrations[0..i]), built in one shadow database
 * by `migrate up`'s own engine, one migration at a time, so each is exactly what the history up to it builds.
 */
export async function schemasAfterEachMigration(options: ShadowOptions, migrations: Migration[]): Promise<Catalog[]> {
  const environment = options.environment ?? 'development';
  return withScratchDatabase({ ...options, environment }, async (shadowUrl) => {
    const migrator = new Migrator({ url: shadowUrl, migrationsDir: options.migrationsDir, environment });
    const catalogs: Catalog[] = [];
    for (const migration of migrations) {
      await migrator.up({ to: migration.name });
      catalogs.push(await readCatalogAt(shadowUrl, { environment }));
    }
    return catalogs;
  });
}
