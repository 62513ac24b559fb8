import type { DatabaseUrl } from '../config/database-url.js';
import type { Environment } from '../config/settings.js';
import { connect } from '../db/connect.js';
import { type Migration, readMigrationsAlongside } from '../migrations/folder.js';
import { observeHistory } from '../migrations/history.js';
import { needsAttention, planMigrations } from '../migrations/plan.js';

const DEFAULT_HEALTH_TIMEOUT_MS = 5000;

export interface HealthReport {
  status: 'healthy' | 'unhealthy';
  database: 'connected' | 'unreachable';
  /** running: another migrator is applying a no-transaction migration right now; not a failure. */
  migration: 'up-to-date' | 'pending' | 'running' | 'failed' | 'unknown';
  /** Why it is not healthy, in words; null when healthy. */
  detail: string | null;
}

export interface HealthOptions {
  url: DatabaseUrl;
  migrationsDir: string;
  environment: Environment;
  timeoutMs?: number;
}

/**
 * Connection and migration state, within a deadline: health never hangs, whatever the network does. It never
 * throws for an unhealthy database; that is a report, not an error.
 */
export async function checkHealth({ url, migrationsDir, environment, timeoutMs = DEFAULT_HEALTH_TIMEOUT_MS }: HealthOptions): Promise<HealthReport> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  try {
    return await Promise.race([inspect(url, migrationsDir, environment, timeoutMs, deadline.signal), timedOut(deadline.signal, timeoutMs)]);
  } finally {
    clearTimeout(timer);
    deadline.abort();
  }
}

async function inspect(url: DatabaseUrl, migrationsDir: string, environment: Environment, timeoutMs: number, signal: AbortSignal): Promise<HealthReport> {
  // The connection opens while the folder is read, and the history is read as soon as it is open: the waits overlap.
  const connecting = connect(url, { environment, retries: 0, connectTimeoutMs: timeoutMs, timeoutMs, applicationName: 'todo-db health' });
  connecting.catch(() => {});
  // The deadline may pass while a query waits, or before the connection is used: ending the client makes that query fail instead of hang.
  signal.addEventListener(
    'abort',
    () =>
      void connecting
        .then(
          ({ client }) => client.end(),
          () => {},
        )
        .catch(() => {}),
    { once: true },
  );
  const observing = connecting.then(({ client }) => observeHistory(client));
  observing.catch(() => {});
  let migrations: Migration[];
  try {
    migrations = await readMigrationsAlongside(migrationsDir);
  } catch (error) {
    void connecting.then(
      ({ client }) => client.end(),
      () => {},
    );
    throw error;
  }
  let connection: Awaited<typeof connecting>;
  try {
    connection = await connecting;
  } catch (error) {
    return unhealthy('unreachable', 'unknown', (error as Error).message);
  }
  const { client } = connection;
  try {
    const { rows, migratorRunning } = await observing;
    const problems = planMigrations(migrations, rows, migratorRunning).filter(needsAttention);
    if (problems.length === 0) return { status: 'healthy', database: 'connected', migration: 'up-to-date', detail: null };
    const broken = problems.filter((entry) => entry.state === 'failed' || entry.state === 'edited' || entry.state === 'missing');
    const running = problems.filter((entry) => entry.state === 'running');
    const shown = broken.length > 0 ? broken : running.length > 0 ? running : problems;
    const listed = shown.map((entry) => `${entry.name} (${entry.state})`).join(', ');
    return unhealthy(
      'connected',
      broken.length > 0 ? 'failed' : running.length > 0 ? 'running' : 'pending',
      `migrations not applied as the folder says: ${listed}`,
    );
  } catch (error) {
    return unhealthy('connected', 'unknown', `the migration history could not be read: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

function unhealthy(database: HealthReport['database'], migration: HealthReport['migration'], detail: string): HealthReport {
  return { status: 'unhealthy', database, migration, detail };
}

function timedOut(signal: AbortSignal, timeoutMs: number): Promise<HealthReport> {
  return new Promise((resolve) => {
    signal.addEventListener('abort', () => resolve(unhealthy('unreachable', 'unknown', `no answer within the ${timeoutMs} ms deadline`)), { once: true });
  });
}
