import { parseDatabaseUrl, type DatabaseUrl } from '../config/database-url.js';
import { registerSecret } from '../config/redact.js';
import type { Settings } from '../config/settings.js';

export interface TargetOptions {
  /** Migrations use DIRECT_DATABASE_URL: session advisory locks do not survive a transaction-mode pooler. */
  purpose?: 'app' | 'migrations';
  log?: (line: string) => void;
}

/** The database a command talks to: the configured URL, or the local embedded server, started on demand. */
export async function databaseTarget(settings: Settings, { purpose = 'app', log }: TargetOptions = {}): Promise<DatabaseUrl> {
  const configured = purpose === 'migrations' ? settings.directDatabase : settings.database;
  if (configured) return configured;
  const { ensureLocalServer, resolveLocalDir } = await import('../local/index.js');
  const server = await ensureLocalServer({ dir: resolveLocalDir(settings.localDir), log });
  registerSecret(server.password);
  log?.(`Using the local database in ${server.dir} (127.0.0.1:${server.port}); set DATABASE_URL to use another.`);
  return parseDatabaseUrl(server.url, { variable: 'the local database' });
}
