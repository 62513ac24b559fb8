import type pg from 'pg';
import type { DatabaseUrl } from '../config/database-url.js';
import type { Environment } from '../config/settings.js';
import { connect } from '../db/connect.js';
import { withMigrationLock } from './advisory-lock.js';
import { type Migration, readMigrationsAlongside } from './folder.js';
import { type ObservedHistory, type OpenedHistory, observeHistory, openHistory } from './history.js';
import { type MigrationEntry, planMigrations } from './plan.js';
import { openSecondConnection, refuseDetectedPooler, refusePooledUrl, type SecondConnection } from './pooler.js';

export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/** What every job that reads or writes the history is given: the database, the folder, and where progress goes. */
export interface JobOptions {
  url: DatabaseUrl;
  migrationsDir: string;
  /** Resolved once, with the settings (src/config/settings.ts). */
  environment: Environment;
  /** How long to wait for the migration lock held by another migrator. */
  lockTimeoutMs?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface SessionTarget extends JobOptions {
  /**
   * A database no other migrator reaches (a shadow database this process made or wipes): the behaviour check for
   * a transaction-mode pooler, and its second connection, are skipped.
   */
  unshared?: boolean;
  /**
   * An open connection to `url` that the caller owns (setup shares one across its steps): the session runs on it
   * instead of a new one, and leaves it open. The pooler check still opens its second connection.
   */
  connection?: pg.Client;
}

/** 'read' looks only (status, dry runs); 'write' may take the lock, so a transaction-mode pooler is refused. */
export type Access = 'read' | 'write';

/** The history under the migration lock: final, as nothing can change it but this session now. */
export interface LockedHistory extends OpenedHistory {
  entries: MigrationEntry[];
  waitedForLockMs: number;
}

/** One dedicated, direct connection and the folder, read while it opened. */
export interface Session {
  client: pg.Client;
  migrations: Migration[];
  /** The history as seen from outside the lock. */
  observe(): Promise<MigrationEntry[]>;
  /** Opens the pooler check's second connection now, so its connect overlaps the work before `locked`. */
  expectLock(): void;
  /** Refuses a transaction-mode pooler found by how it behaves (once; `locked` does it too). */
  checkPooler(): Promise<void>;
  /** The pooler check, the migration lock and the history read under it; the lock is released after, whatever happens. */
  locked<T>(history: { create: boolean }, work: (history: LockedHistory) => Promise<T>): Promise<T>;
}

/**
 * The one way a job reaches the history: connects (reading the folder meanwhile), and always closes what it
 * opened. Writers are refused through a pooler by URL before connecting, and by behaviour before the lock.
 */
export function withSession<T>(target: SessionTarget, access: Access, work: (session: Session) => Promise<T>): Promise<T> {
  if (access === 'write') refusePooledUrl(target.url);
  return runSession(target, access, undefined, work, undefined, true);
}

/**
 * withSession for the history jobs (resolve, baseline, reset), which write whatever they find: the pooler check's
 * connection opens beside the session's, and the check passes before `work` builds anything. `accept` judges the
 * folder as soon as it is read (a name that is not there), so a usage error needs no database.
 */
export function withLockedSession<T>(target: SessionTarget, work: (session: Session) => Promise<T>, accept?: (migrations: Migration[]) => void): Promise<T> {
  refusePooledUrl(target.url);
  const second = target.unshared ? undefined : openSecondConnection(() => connectForMigrations(target.url, target.environment));
  const checked = async (session: Session) => {
    await session.checkPooler();
    return work(session);
  };
  return runSession(target, 'write', second, checked, accept);
}

/**
 * The folder is read in slices while the connection opens, and with `observeEarly` (up, down, status) the history
 * is read as soon as it is open: a long history costs the longer of the folder and the round trips, not their sum.
 */
async function runSession<T>(
  target: SessionTarget,
  access: Access,
  second: SecondConnection | undefined,
  work: (session: Session) => Promise<T>,
  accept?: (migrations: Migration[]) => void,
  observeEarly = false,
): Promise<T> {
  const shared = target.connection;
  const connecting = shared ? Promise.resolve(shared) : connectForMigrations(target.url, target.environment);
  const observing = observeEarly ? connecting.then(observeHistory) : undefined;
  // Awaited by observe(); until then a failure must not count as unhandled (connecting's own is awaited below).
  observing?.catch(() => {});
  const close = async (client: pg.Client) => {
    if (client !== shared) await client.end();
  };
  let migrations: Migration[];
  let client: pg.Client;
  try {
    migrations = await readMigrationsAlongside(target.migrationsDir);
    accept?.(migrations);
    client = await connecting;
  } catch (error) {
    second?.close();
    await connecting.then(close, () => {});
    throw error;
  }
  const session = new LiveSession(target, access, client, migrations, second, observing);
  try {
    return await work(session);
  } finally {
    session.dispose();
    await close(client).catch(() => {});
  }
}

/** A migration job's own direct connection (as pg_stat_activity names it: todo-db migrate). */
async function connectForMigrations(url: DatabaseUrl, environment: Environment): Promise<pg.Client> {
  const { client } = await connect(url, { environment, applicationName: 'todo-db migrate' });
  return client;
}

class LiveSession implements Session {
  private poolerChecked: Promise<void> | undefined;

  constructor(
    private readonly target: SessionTarget,
    private readonly access: Access,
    readonly client: pg.Client,
    readonly migrations: Migration[],
    private second: SecondConnection | undefined,
    private observed: Promise<ObservedHistory> | undefined,
  ) {}

  async observe(): Promise<MigrationEntry[]> {
    const early = this.observed;
    this.observed = undefined;
    const { rows, migratorRunning } = await (early ?? observeHistory(this.client));
    return planMigrations(this.migrations, rows, migratorRunning);
  }

  expectLock(): void {
    if (this.access === 'write' && !this.target.unshared)
      this.second ??= openSecondConnection(() => connectForMigrations(this.target.url, this.target.environment));
  }

  checkPooler(): Promise<void> {
    if (this.access !== 'write') throw new Error('a read-only session takes no lock');
    this.expectLock();
    const second = this.second;
    this.poolerChecked ??= second ? refuseDetectedPooler(this.target.url, this.client, second.client) : Promise.resolve();
    return this.poolerChecked;
  }

  async locked<T>({ create }: { create: boolean }, work: (history: LockedHistory) => Promise<T>): Promise<T> {
    await this.checkPooler();
    const { lockTimeoutMs = DEFAULT_LOCK_TIMEOUT_MS, log } = this.target;
    return withMigrationLock(this.client, lockTimeoutMs, log, async (waitedForLockMs) => {
      const history = await openHistory(this.client, { create });
      return work({ ...history, entries: planMigrations(this.migrations, history.rows), waitedForLockMs });
    });
  }

  /** A second connection the pooler check never used. */
  dispose(): void {
    if (!this.poolerChecked) this.second?.close();
  }
}
