import { type DatabaseUrl, describeTarget, parseDatabaseUrl } from '../config/database-url.js';
import { registerSecret } from '../config/redact.js';
import type { DatabaseSource, Settings } from '../config/settings.js';
import { TodoDbError } from '../core/errors.js';

/** Runtime: the app's URL (may be pooled). Migrations: DIRECT_DATABASE_URL, as session advisory locks do not survive a transaction-mode pooler. */
export type Purpose = 'runtime' | 'migrations';

export interface TargetOptions {
  purpose?: Purpose;
  log?: (line: string) => void;
  /**
   * With no URL configured: 'start' (the CLI) starts the local server when it is not running, and it keeps
   * running afterwards; 'running' only uses one that already runs, for a library caller whose process should
   * not leave a server behind.
   */
  local?: 'start' | 'running';
}

/** The database a command touches, and why that one. */
export type Target = DatabaseUrl & { purpose: Purpose; source: DatabaseSource | 'local' };

/** What output may say about a target: everything but the password. */
export interface TargetSummary {
  url: string;
  host: string;
  port: number;
  database: string;
  user: string;
  purpose: Purpose;
  /** The flag or variable it came from, and where that was set. */
  from: string;
}

/**
 * The one place settings become the database a command touches: the configured URL for the purpose, or the
 * local embedded server, started on demand (or, for the library, only used when it runs).
 */
export async function databaseTarget(settings: Settings, { purpose = 'runtime', log, local = 'start' }: TargetOptions = {}): Promise<Target> {
  const configured = purpose === 'migrations' ? settings.directDatabase : settings.database;
  if (configured) return { ...configured, purpose };
  const { ensureLocalServer, findRunningLocalServer, resolveLocalDir } = await import('../local/index.js');
  const dir = resolveLocalDir(settings.localDir);
  const server = local === 'start' ? await ensureLocalServer({ dir, log }) : await findRunningLocalServer(dir);
  if (!server) throw localNotRunning(dir);
  registerSecret(server.password);
  log?.(`Using the local database in ${server.dir} (127.0.0.1:${server.port}); set DATABASE_URL to use another.`);
  return { ...parseDatabaseUrl(server.url, { variable: 'the local database' }), purpose, source: 'local' };
}

const WHERE: Record<Target['source'], string> = { flag: '', environment: ' (environment)', 'env-file': ' (.env)', local: '' };

export function summarizeTarget(target: Target): TargetSummary {
  return {
    url: describeTarget(target),
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    purpose: target.purpose,
    from: `${target.variable}${WHERE[target.source]}`,
  };
}

/** "postgresql://app@db.example.com:5432/todo (migrations, from DIRECT_DATABASE_URL (.env))" */
export function targetLine(summary: TargetSummary): string {
  return `${summary.url} (${summary.purpose}, from ${summary.from})`;
}

function localNotRunning(dir: string): TodoDbError {
  return new TodoDbError({
    code: 'LOCAL_DATABASE_NOT_RUNNING',
    message: `DATABASE_URL is not set, and the local database in ${dir} is not running. The library (openDatabase, createMigrator) does not start it by itself, because the server would keep running after your process ends.`,
    hint: "Start it with npx todo-db local start (or npx todo-db setup), pass { local: 'start' } to start it from code (it keeps running until npx todo-db local stop), or set DATABASE_URL.",
  });
}
