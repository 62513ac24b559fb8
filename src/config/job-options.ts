import type { DatabaseUrl } from './database-url.js';
import type { Environment } from './settings.js';

/**
 * What every job on a database and its migrations folder is given, from the settings resolved once at the edge
 * (resolveSettings, or createMigrator for code): jobs take the environment as given, never default it.
 */
export interface JobOptions {
  url: DatabaseUrl;
  migrationsDir: string;
  environment: Environment;
  /** Progress lines, as the CLI prints them; nothing is printed without it. */
  log?: (line: string) => void;
  /** Aborting stops before the next step. */
  signal?: AbortSignal;
}
