import { parseDatabaseUrl, type DatabaseUrl } from '../config/database-url.js';
import { registerSecret } from '../config/redact.js';
import type { Settings } from '../config/settings.js';
import { TodoDbError } from '../errors.js';

export interface TargetOptions {
  /** Migrations use DIRECT_DATABASE_URL: session advisory locks do not survive a transaction-mode pooler. */
  purpose?: 'app' | 'migrations';
  log?: (line: string) => void;
  /**
   * With no URL configured: 'start' (the CLI) starts the local server when it is not running, and it keeps
   * running afterwards; 'running' only uses one that already runs, for a library caller whose process should
   * not leave a server behind.
   */
  local?: 'start' | 'running';
}

/** The database a command talks to: the configured URL, or the local embedded server, started on demand. */
export async function databaseTarget(settings: Settings, { purpose = 'app', log, local = 'start' }: TargetOptions = {}): Promise<DatabaseUrl> {
  const configured = purpose === 'migrations' ? settings.directDatabase : settings.database;
  if (configured) return configured;
  const { ensureLocalServer, findRunningLocalServer, resolveLocalDir } = await import('../local/index.js');
  const dir = resolveLocalDir(settings.localDir);
  const server = local === 'start' ? await ensureLocalServer({ dir, log }) : await findRunningLocalServer(dir);
  if (!server) throw localNotRunning(dir);
  registerSecret(server.password);
  log?.(`Using the local database in ${server.dir} (127.0.0.1:${server.port}); set DATABASE_URL to use another.`);
  return parseDatabaseUrl(server.url, { variable: 'the local database' });
}

function localNotRunning(dir: string): TodoDbError {
  return new TodoDbError({
    code: 'LOCAL_DATABASE_NOT_RUNNING',
    message: `DATABASE_URL is not set, and the local database in ${dir} is not running. The library (openDatabase, createMigrator) does not start it by itself, because the server would keep running after your process ends.`,
    hint: "Start it with npx todo-db local start (or npx todo-db setup), pass { local: 'start' } to start it from code (it keeps running until npx todo-db local stop), or set DATABASE_URL.",
  });
}
