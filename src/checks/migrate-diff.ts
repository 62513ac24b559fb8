import type { DatabaseUrl } from '../config/database-url.js';
import type { Environment } from '../config/settings.js';
import { withConnection } from '../db/connect.js';
import { Migrator } from '../migrations/index.js';
import { readCatalog, readCatalogAt, readTableNames } from '../schema/catalog-reader.js';
import { compareCatalogs, type Difference, type Ignorable } from '../schema/differences.js';
import { type ShadowOptions, withShadowDatabase } from '../shadow/shadow-database.js';

export interface MigrateDiffOptions extends ShadowOptions {
  ignore?: Ignorable[];
  /** Compare comments too (--comments). */
  comments?: boolean;
  /** Tables other tools manage: left out of the comparison on both sides; the shadow gets their definitions first. */
  externalTables?: string[];
}

export interface MigrateDiffReport {
  differences: Difference[];
  /** In the folder, not applied live: the shadow has them, so their objects show up as differences. */
  pendingMigrations: string[];
  /** Applied live, but their folders are gone: the shadow cannot have their objects. */
  missingMigrations: string[];
  /** The external tables the live database has, left out of the comparison with everything on them. */
  leftOut: string[];
  durationMs: number;
}

/**
 * The live schema against the schema the whole migrations folder produces in a shadow database. The whole
 * folder, not just the applied part, because "what would migrate up leave me with" is the question a deploy
 * asks; pending and missing migrations are listed so a difference they explain is not mistaken for drift.
 */
export async function diffLiveWithMigrations(options: MigrateDiffOptions): Promise<MigrateDiffReport> {
  const started = performance.now();
  const { environment } = options;
  // The live side is read while the shadow is being built: the two waits overlap.
  const exclude = options.externalTables ?? [];
  const live = Promise.all([
    readLive(options.url, environment, exclude),
    new Migrator({ url: options.url, migrationsDir: options.migrationsDir, environment }).status(),
  ]);
  live.catch(() => {});
  const expected = await withShadowDatabase(options, (shadowUrl) => readCatalogAt(shadowUrl, { environment, exclude }));
  const [{ catalog: liveCatalog, leftOut }, status] = await live;
  return {
    differences: compareCatalogs(liveCatalog, expected, { ignore: options.ignore, comments: options.comments }),
    leftOut,
    pendingMigrations: status.migrations.filter((m) => m.state === 'pending').map((m) => m.name),
    missingMigrations: status.migrations.filter((m) => m.state === 'missing').map((m) => m.name),
    durationMs: Math.round(performance.now() - started),
  };
}

async function readLive(url: DatabaseUrl, environment: Environment, exclude: string[]) {
  return withConnection(url, { environment, applicationName: 'todo-db inspect' }, async (client) => {
    const names = await readTableNames(client);
    return { catalog: await readCatalog(client, { exclude }), leftOut: names.filter((name) => exclude.includes(name)) };
  });
}
