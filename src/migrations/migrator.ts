import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { hostAndPort, type DatabaseUrl } from '../config/database-url.js';
import type { Environment } from '../config/settings.js';
import { connect } from '../db/connect.js';
import { TodoDbError, usageError } from '../errors.js';
import { migrationFailed } from './errors.js';
import { readMigrations, type Migration } from './folder.js';
import { ensureHistoryTable, insertStarted, insertStartedSql, markFailed, markFinished, markFinishedSql, markRolledBack, readHistory, recordRolledBackFailure, type HistoryRow } from './history.js';
import { acquireMigrationLock, describeHolder, releaseMigrationLock } from './lock.js';
import { CONNECTION_CHECK_INTERVAL, connectionCheckSupported } from './connection-check.js';
import { goesThroughTransactionPooler } from './pooler.js';
import { isApplied, isPending, needsAttention, planMigrations, type MigrationEntry, type MigrationState } from './plan.js';
import { eachStep } from './results.js';
import { findTransactionControl, splitStatements } from './sql.js';

export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;
export const DEFAULT_STATEMENT_LOCK_TIMEOUT_MS = 10_000;

export interface MigratorOptions {
  url: DatabaseUrl;
  migrationsDir: string;
  environment?: Environment;
  /** How long to wait for the migration lock held by another migrator. */
  lockTimeoutMs?: number;
  /** SET LOCAL lock_timeout inside each migration: a migration never queues application traffic for long. */
  statementLockTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface UpOptions {
  to?: string;
  dryRun?: boolean;
  allowOutOfOrder?: boolean;
}

export interface DownOptions {
  steps?: number;
  to?: string;
  dryRun?: boolean;
  /** Required in production. */
  yes?: boolean;
}

export interface PlannedStep {
  name: string;
  transactional: boolean;
  sql: string;
}

export interface StepResult {
  name: string;
  durationMs: number;
}

export interface UpReport {
  dryRun: boolean;
  applied: StepResult[];
  plan: PlannedStep[];
  waitedForLockMs: number;
}

export interface DownReport {
  dryRun: boolean;
  rolledBack: StepResult[];
  plan: PlannedStep[];
  waitedForLockMs: number;
}

export interface StatusEntry {
  name: string;
  state: MigrationState;
  startedAt: string | null;
  finishedAt: string | null;
  rolledBackAt: string | null;
  logs: string | null;
}

export interface StatusReport {
  migrations: StatusEntry[];
  counts: Record<MigrationState, number>;
  upToDate: boolean;
}

/**
 * Thin public methods over one private engine: every method reads the folder and the history the same way,
 * and up/down run under the migration lock on one dedicated, direct connection.
 */
export class Migrator {
  constructor(private readonly options: MigratorOptions) {}

  async status(): Promise<StatusReport> {
    return this.session(async (client, migrations) => statusReport(planMigrations(migrations, await readHistory(client))));
  }

  async up({ to, dryRun = false, allowOutOfOrder = false }: UpOptions = {}): Promise<UpReport> {
    if (!dryRun) this.refusePooled();
    return this.session(async (client, migrations) => {
      if (to !== undefined) requireKnown(migrations, to);
      rejectTransactionControl(migrations);
      const pending = pendingUpTo(await this.entries(client, migrations), to, allowOutOfOrder);
      // Nothing pending needs no lock: another migrator can only add to the history, never make this wrong.
      if (dryRun || pending.length === 0) return { dryRun, applied: [], plan: pending.map(plannedUp), waitedForLockMs: 0 };
      // Only where a lock is taken: the check costs a second connection, which a no-op up should not pay.
      await this.refuseDetectedPooler(client);
      return this.locked(client, async (waitedForLockMs) => {
        await ensureHistoryTable(client);
        const stillPending = pendingUpTo(await this.entries(client, migrations), to, allowOutOfOrder);
        const applied = await eachStep(stillPending, 'applied', (entry) => this.timed(entry.name, () => this.apply(client, entry.migration as Migration)));
        return { dryRun, applied, plan: stillPending.map(plannedUp), waitedForLockMs };
      });
    });
  }

  async down({ steps, to, dryRun = false, yes = false }: DownOptions = {}): Promise<DownReport> {
    if (this.options.environment === 'production' && !yes && !dryRun) {
      throw usageError('CONFIRMATION_REQUIRED', 'migrate down in production drops schema objects and their data.', 'Run it with --yes if you mean it, or with --dry-run to see what it would do.');
    }
    if (!dryRun) this.refusePooled();
    return this.session(async (client, migrations) => {
      if (to !== undefined) requireKnown(migrations, to);
      const choose = async () => revertible(planMigrations(migrations, await readHistory(client)), { steps, to });
      if (dryRun) return { dryRun, rolledBack: [], plan: (await choose()).map(plannedDown), waitedForLockMs: 0 };
      await this.refuseDetectedPooler(client);
      return this.locked(client, async (waitedForLockMs) => {
        const chosen = await choose();
        const rolledBack = await eachStep(chosen, 'rolled back', (entry) => this.timed(entry.name, () => this.revert(client, entry)));
        return { dryRun, rolledBack, plan: chosen.map(plannedDown), waitedForLockMs };
      });
    });
  }

  /** The history, verified against the folder before anything runs. */
  private async entries(client: pg.Client, migrations: Migration[]): Promise<MigrationEntry[]> {
    const entries = planMigrations(migrations, await readHistory(client));
    verifyHistory(entries);
    return entries;
  }

  private async apply(client: pg.Client, migration: Migration): Promise<void> {
    if (!migration.transactional) return this.applyOutsideTransaction(client, migration);
    const id = randomUUID();
    try {
      await client.query(`begin; ${(await this.guards(client)).local}; ${insertStartedSql(id, migration.name, migration.checksum)}`);
      // One simple query: the whole file, as Prisma sends it, but inside our explicit transaction.
      await client.query(migration.sql);
      await client.query(`${markFinishedSql(id)}; commit`);
    } catch (error) {
      await client.query('rollback').catch(() => {});
      const failure = migrationFailed(migration, 'migration.sql', error);
      await recordRolledBackFailure(client, migration.name, migration.checksum, failure.message).catch(() => {});
      throw failure;
    }
  }

  /** Statement by statement: PostgreSQL runs a multi-statement query as one implicit transaction. */
  private async applyOutsideTransaction(client: pg.Client, migration: Migration): Promise<void> {
    // Session-level, as there is no transaction to scope them to, and reset afterwards.
    const guards = await this.guards(client);
    await client.query(guards.session);
    const id = await insertStarted(client, migration.name, migration.checksum);
    for (const statement of splitStatements(migration.sql)) {
      try {
        await client.query(statement.sql);
      } catch (error) {
        const failure = migrationFailed(migration, 'migration.sql', error, { offset: statement.offset, rolledBack: false });
        await markFailed(client, id, failure.message).catch(() => {});
        throw failure;
      }
    }
    await markFinished(client, id);
    await client.query(guards.reset);
  }

  private async revert(client: pg.Client, entry: MigrationEntry): Promise<void> {
    const migration = entry.migration as Migration;
    const row = entry.row as HistoryRow;
    try {
      await client.query(`begin; ${(await this.guards(client)).local}`);
      await client.query(migration.readDown() ?? '');
      await markRolledBack(client, row.id);
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw migrationFailed(migration, 'down.sql', error);
    }
  }

  private async timed(name: string, step: () => Promise<void>): Promise<StepResult> {
    const started = performance.now();
    await step();
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    this.options.log?.(`${name} (${durationMs} ms)`);
    return { name, durationMs };
  }

  private async locked<T>(client: pg.Client, work: (waitedForLockMs: number) => Promise<T>): Promise<T> {
    const timeoutMs = this.options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    const wait = await acquireMigrationLock(client, timeoutMs, (holder) => this.options.log?.(`waiting for the migration lock held by ${describeHolder(holder)}`));
    if (wait.waitedMs > 0) this.options.log?.(`got the migration lock after waiting ${wait.waitedMs} ms`);
    try {
      return await work(wait.waitedMs);
    } finally {
      await releaseMigrationLock(client).catch(() => {});
    }
  }

  /** Reads the folder while the connection is being set up: the two waits overlap. */
  private async session<T>(work: (client: pg.Client, migrations: Migration[]) => Promise<T>): Promise<T> {
    const connecting = this.connect();
    let migrations: Migration[];
    try {
      migrations = readMigrations(this.options.migrationsDir);
    } catch (error) {
      await connecting.then((client) => client.end(), () => {});
      throw error;
    }
    const client = await connecting;
    try {
      return await work(client, migrations);
    } finally {
      await client.end().catch(() => {});
    }
  }

  /**
   * The settings every migration and rollback runs under: lock_timeout, so it never queues application traffic
   * behind it for long, and on PostgreSQL 14+ the connection check, so a killed migrator releases its locks within
   * a second instead of when its statement ends.
   */
  private async guards(client: pg.Client): Promise<{ local: string; session: string; reset: string }> {
    const lockTimeoutMs = Math.max(1, Math.round(this.options.statementLockTimeoutMs ?? DEFAULT_STATEMENT_LOCK_TIMEOUT_MS));
    const settings = [['lock_timeout', String(lockTimeoutMs)]];
    if (await connectionCheckSupported(client)) settings.push(['client_connection_check_interval', `'${CONNECTION_CHECK_INTERVAL}'`]);
    const statements = (verb: string) => settings.map(([name, value]) => `${verb} ${name} = ${value}`).join('; ');
    return { local: statements('set local'), session: statements('set'), reset: settings.map(([name]) => `reset ${name}`).join('; ') };
  }

  private async connect(): Promise<pg.Client> {
    const { client } = await connect(this.options.url, { environment: this.options.environment ?? 'development', applicationName: 'todo-db migrate' });
    return client;
  }

  /** A session lock through a transaction-mode pooler stays on whichever backend ran it. */
  private refusePooled(): void {
    const { url } = this.options;
    if (url.pooled) throw this.pooledError(`${url.variable} points at a transaction-mode pooler (${hostAndPort(url)}), where the migration lock cannot hold.`);
  }

  /** The URL rules only know Neon's -pooler hosts and port 6432; a PgBouncer elsewhere is found by how it behaves. */
  private async refuseDetectedPooler(client: pg.Client): Promise<void> {
    if (!(await goesThroughTransactionPooler(client, () => this.connect()))) return;
    const { url } = this.options;
    throw this.pooledError(`${url.variable} (${hostAndPort(url)}) goes through a transaction-mode pooler: two connections shared one server session, so the migration lock cannot hold.`);
  }

  private pooledError(message: string): TodoDbError {
    const { url } = this.options;
    return usageError(
      'POOLED_URL_FOR_MIGRATIONS',
      message,
      url.neon
        ? `Set DIRECT_DATABASE_URL to the direct host, ${url.host.replace(/-pooler(?=\.)/i, '')}, and keep DATABASE_URL pooled for the app.`
        : 'Set DIRECT_DATABASE_URL to the database server itself (not PgBouncer), and keep DATABASE_URL pooled for the app.',
    );
  }
}

function requireKnown(migrations: Migration[], name: string): void {
  if (migrations.some((migration) => migration.name === name)) return;
  throw usageError('MIGRATION_NOT_FOUND', `There is no migration named "${name}" in the migrations folder.`, 'Use a folder name exactly as todo-db migrate status lists it.');
}

function rejectTransactionControl(migrations: Migration[]): void {
  for (const migration of migrations.filter((m) => m.transactional)) {
    const statement = findTransactionControl(migration.sql);
    if (!statement) continue;
    throw usageError(
      'MIGRATION_INVALID',
      `${migration.path} contains "${statement.sql}", which would end the transaction todo-db runs each migration in.`,
      'Remove it: each migration already runs in its own transaction. For statements that cannot run in one (CREATE INDEX CONCURRENTLY), start the file with -- todo-db: no-transaction',
    );
  }
}

/** Tamper checks: nothing runs while an applied migration was edited or removed, or one failed half-way. */
function verifyHistory(entries: MigrationEntry[]): void {
  for (const entry of entries) {
    if (entry.state === 'edited') {
      throw new TodoDbError({ code: 'MIGRATION_EDITED', message: `${entry.migration?.path} was changed after it was applied (its checksum differs from the history).`, hint: 'Restore the applied version (git checkout) and put the change in a new migration: todo-db migrate create <name>.' });
    }
    if (entry.state === 'missing') {
      throw new TodoDbError({ code: 'MIGRATION_MISSING', message: `Migration ${entry.name} is applied but its folder is missing from the migrations folder.`, hint: 'Restore the folder (git checkout); applied migrations must stay in the folder.' });
    }
    if (entry.state === 'failed') {
      throw new TodoDbError({
        code: 'MIGRATION_FAILED',
        message: `Migration ${entry.name} failed earlier outside a transaction and may be half applied.`,
        hint: `Undo what it applied by hand, then mark it rolled back: todo-db migrate resolve --rolled-back ${entry.name}`,
      });
    }
  }
}

function pendingUpTo(entries: MigrationEntry[], to: string | undefined, allowOutOfOrder: boolean): MigrationEntry[] {
  const lastApplied = entries.filter(isApplied).at(-1)?.name;
  const pending = entries.filter((entry) => isPending(entry) && (to === undefined || entry.name <= to));
  const early = pending.find((entry) => lastApplied !== undefined && entry.name < lastApplied);
  if (early && !allowOutOfOrder) {
    throw new TodoDbError({
      code: 'MIGRATION_OUT_OF_ORDER',
      message: `Migration ${early.name} is pending but sorts before ${lastApplied}, which is already applied. Pending migrations must always have a name that comes alphabetically after the last applied migration.`,
      hint: 'Rename its folder with a newer timestamp (todo-db migrate create gives one), or pass --allow-out-of-order if applying it late is safe.',
    });
  }
  return pending;
}

function revertible(entries: MigrationEntry[], { steps, to }: { steps?: number; to?: string }): MigrationEntry[] {
  const applied = entries.filter(isApplied).reverse();
  if (to !== undefined && !applied.some((entry) => entry.name === to)) {
    throw usageError('MIGRATION_NOT_APPLIED', `Migration ${to} is not applied, so down cannot stop at it.`, 'Pick an applied migration from todo-db migrate status.');
  }
  const chosen = to !== undefined ? applied.slice(0, applied.findIndex((entry) => entry.name === to)) : applied.slice(0, steps ?? 1);
  for (const entry of chosen) {
    if (entry.state === 'missing') throw new TodoDbError({ code: 'MIGRATION_MISSING', message: `Migration ${entry.name} is applied but its folder is missing, so it cannot be rolled back.`, hint: 'Restore the folder (git checkout) first.' });
    if (entry.state === 'edited') throw new TodoDbError({ code: 'MIGRATION_EDITED', message: `${entry.migration?.path} was changed after it was applied; its down.sql may not match what the database holds.`, hint: 'Restore the applied version (git checkout) before rolling it back.' });
    if (entry.migration?.readDown() === undefined) {
      throw usageError('MIGRATION_IRREVERSIBLE', `Migration ${entry.name} has no down.sql, so it cannot be rolled back.`, `Write ${entry.name}/down.sql to undo it, then run migrate down again.`);
    }
  }
  return chosen;
}

const plannedUp = (entry: MigrationEntry): PlannedStep => ({ name: entry.name, transactional: entry.migration?.transactional ?? true, sql: entry.migration?.sql ?? '' });
const plannedDown = (entry: MigrationEntry): PlannedStep => ({ name: entry.name, transactional: true, sql: entry.migration?.readDown() ?? '' });

function statusReport(entries: MigrationEntry[]): StatusReport {
  const counts: Record<MigrationState, number> = { applied: 0, pending: 0, failed: 0, 'rolled-back': 0, edited: 0, missing: 0 };
  for (const entry of entries) counts[entry.state]++;
  const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);
  return {
    migrations: entries.map(({ name, state, row }) => ({
      name,
      state,
      startedAt: iso(row?.started_at),
      finishedAt: iso(row?.finished_at),
      rolledBackAt: iso(row?.rolled_back_at),
      logs: row?.logs ?? null,
    })),
    counts,
    upToDate: !entries.some(needsAttention),
  };
}
