import type { DatabaseUrl } from '../config/database-url.js';
import { defaultMigrationsDir } from '../config/package-root.js';
import { resolveSettings, type SettingsFlags } from '../config/settings.js';
import { databaseTarget } from '../db/target.js';
import { type DownOptions, type DownReport, Migrator, type StatusReport, type UpOptions, type UpReport } from './migrator.js';

export interface CreateMigratorOptions extends SettingsFlags {
  /** How long to wait for the migration lock held by another migrator (--lock-timeout); default 30 000. */
  lockTimeoutMs?: number;
  /** lock_timeout inside each migration (--statement-lock-timeout); default 10 000. */
  statementLockTimeoutMs?: number;
  /** With no URL configured: 'running' (default) uses the local database only if it runs; 'start' starts it. */
  local?: 'running' | 'start';
  /** Progress lines, as the CLI prints them; nothing is printed without it. */
  log?: (line: string) => void;
}

/** `todo-db migrate up|down|status` from code: the same options and reports as the CLI's --json. */
export interface TodoDbMigrator {
  up(options?: UpOptions): Promise<UpReport>;
  down(options?: DownOptions): Promise<DownReport>;
  status(): Promise<StatusReport>;
}

/**
 * The CLI's migration engine (Migrator, with its lock and history) behind the CLI's own settings: flags here,
 * then the environment, then .env, resolved once, now, so a bad setting fails at the call site. The database
 * (DIRECT_DATABASE_URL, else DATABASE_URL, else the local one) is found on the first call and kept.
 */
export function createMigrator(options: CreateMigratorOptions = {}): TodoDbMigrator {
  const { lockTimeoutMs, statementLockTimeoutMs, local = 'running', log, ...flags } = options;
  const settings = resolveSettings(flags);
  let migrator: Promise<Migrator> | undefined;
  const engine = () =>
    (migrator ??= databaseTarget(settings, { purpose: 'migrations', local, log }).then(
      (url: DatabaseUrl) =>
        new Migrator({
          url,
          migrationsDir: settings.migrationsDir ?? defaultMigrationsDir(),
          environment: settings.environment,
          lockTimeoutMs,
          statementLockTimeoutMs,
          log,
        }),
      (error: unknown) => {
        migrator = undefined; // a local server started later, or a fixed .env, is found on the next call
        throw error;
      },
    ));
  return {
    up: async (upOptions) => (await engine()).up(upOptions),
    down: async (downOptions) => (await engine()).down(downOptions),
    status: async () => (await engine()).status(),
  };
}
