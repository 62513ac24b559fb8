import type pg from 'pg';
import type { DatabaseUrl } from '../config/database-url.js';
import type { JobOptions } from '../config/job-options.js';
import { redact } from '../config/redact.js';
import type { Environment } from '../config/settings.js';
import { type InterruptSignal, TodoDbError } from '../core/errors.js';
import { cooperatively, signalOf } from '../core/interruption.js';
import { compiledBaselineOnly } from '../core/wasm-tier.js';
import { connectPool, withConnection } from '../db/connect.js';
import type { Database } from '../db/database.js';
import { createPool } from '../db/pool.js';
import { migrationStatus, readMigrations, type StatusReport } from '../migrations/index.js';
import { SmokeCheckFailed } from './checks.js';
import { type SmokeState, type SmokeStepDefinition, STEPS } from './steps.js';

export type StepStatus = 'passed' | 'failed' | 'skipped';

export interface SmokeStep {
  name: string;
  description: string;
  status: StepStatus;
  durationMs: number;
  /** Why it failed or was skipped; null when it passed. */
  message: string | null;
}

export interface SmokeCleanup {
  /** Throwaway users deleted, by the cascade step or at the end (their tasks go with them). */
  removedUsers: number;
  /** Ids that could not be deleted; empty unless cleanup itself failed. */
  leftover: string[];
  error: string | null;
}

export interface SmokeReport {
  passed: boolean;
  interrupted: boolean;
  /** Which signal stopped it, when one did. */
  interruptedBy: InterruptSignal | null;
  steps: SmokeStep[];
  cleanup: SmokeCleanup;
  durationMs: number;
}

/** Aborting (signal) stops the run after the current step; cleanup still runs, and the report says it was interrupted. */
export interface SmokeOptions extends JobOptions {
  /** Each step as it ends, for progressive output. */
  onStep?: (step: SmokeStep) => void;
  /**
   * Smoke's database, opened ahead (openSmokeDatabase without a folder) by a caller that has just migrated it:
   * setup opens it while it migrates and seeds. The migration check is skipped.
   */
  opened?: Promise<Database>;
}

/**
 * Creates rows through Prisma Client as the app does, checks what comes back, and removes every row it created,
 * whatever happens. Throws only before anything is created (pending migrations, no connection).
 */
export async function runSmoke({ url, migrationsDir, environment, signal, onStep, opened }: SmokeOptions): Promise<SmokeReport> {
  const started = performance.now();
  const database = await (opened ?? openSmokeDatabase({ url, environment, migrationsDir }));
  const state: SmokeState = { prisma: database.prisma, throwaway: new Set(), deleted: 0 };
  const steps: SmokeStep[] = [];
  const finish = async () => {
    try {
      return await removeThrowaways(state, url, environment);
    } finally {
      await database.close().catch(() => {});
    }
  };
  // Cooperatively: the rows are Prisma's, committed step by step, so only this run knows what to remove.
  const cleanup = await cooperatively(async () => {
    await runSteps(steps, state, signal, onStep).catch(async (error: unknown) => {
      await finish();
      throw error;
    });
    return finish();
  });
  for (const step of STEPS.slice(steps.length)) steps.push(skipped(step, 'interrupted'));
  const passed = steps.every((step) => step.status === 'passed') && cleanup.error === null;
  const interruptedBy = signal?.aborted ? signalOf(signal) : null;
  return { passed, interrupted: interruptedBy !== null, interruptedBy, steps, cleanup, durationMs: elapsed(started) };
}

async function runSteps(steps: SmokeStep[], state: SmokeState, signal: AbortSignal | undefined, onStep: SmokeOptions['onStep']): Promise<void> {
  for (const step of STEPS) {
    if (signal?.aborted) return;
    const result = await runStep(step, state);
    steps.push(result);
    onStep?.(result);
  }
}

/**
 * Prisma Client on a pool of one connection, opened while Prisma Client loads (most of the run's time) and used
 * first for the check that the database is up to date with `migrationsDir` (left out by a caller that has just
 * migrated it): one connection, its set-up off the critical path.
 */
export async function openSmokeDatabase({
  url,
  environment,
  migrationsDir,
}: Pick<JobOptions, 'url' | 'environment'> & { migrationsDir?: string }): Promise<Database> {
  const loading = import('../db/database.js');
  loading.catch(() => {});
  const pool = createPool(url, { max: 1, applicationName: 'todo-db smoke' });
  try {
    await openFirstConnection(pool, url, environment, migrationsDir);
    return await connectPrisma((await loading).openDatabaseOn(pool));
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
}

/** The pool's connection, with connect()'s retries and messages, and the migration check on it; kept by the pool. */
async function openFirstConnection(pool: pg.Pool, url: DatabaseUrl, environment: Environment, migrationsDir: string | undefined): Promise<void> {
  const connecting = connectPool(pool, url, { environment });
  connecting.catch(() => {});
  const migrations = migrationsDir === undefined ? null : readMigrations(migrationsDir);
  const client = await connecting;
  try {
    if (migrations) requireMigrated(await migrationStatus(client, migrations));
  } finally {
    client.release();
  }
}

/**
 * Connecting loads Prisma's query compiler, WebAssembly: compiled baseline-only, the run does not wait at exit
 * for V8 to optimise code that compiles a few queries (about 0.7 s, more than the steps take).
 */
async function connectPrisma(database: Database): Promise<Database> {
  try {
    await compiledBaselineOnly(() => database.prisma.$connect());
    return database;
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
}

function requireMigrated(status: StatusReport): void {
  if (status.upToDate) return;
  const notApplied = status.migrations.filter((entry) => entry.state !== 'applied');
  const listed = notApplied.map((entry) => `${entry.name} (${entry.state})`).join(', ');
  if (notApplied.every((entry) => entry.state === 'pending' || entry.state === 'rolled-back')) {
    throw new TodoDbError({
      code: 'MIGRATIONS_PENDING',
      message: `The database is not migrated: ${listed}. smoke created nothing.`,
      hint: 'Run todo-db migrate up, then smoke again.',
    });
  }
  throw new TodoDbError({
    code: 'MIGRATIONS_NOT_UP_TO_DATE',
    message: `The migration history does not match the folder: ${listed}. smoke created nothing.`,
    hint: 'Run todo-db migrate status to see what changed.',
  });
}

async function runStep(step: SmokeStepDefinition, state: SmokeState): Promise<SmokeStep> {
  if (step.needsTask && !state.task) return skipped(step, 'no task: the create step failed');
  const started = performance.now();
  try {
    await step.run(state);
    return { name: step.name, description: step.description, status: 'passed', durationMs: elapsed(started), message: null };
  } catch (error) {
    return { name: step.name, description: step.description, status: 'failed', durationMs: elapsed(started), message: describe(error) };
  }
}

function skipped(step: SmokeStepDefinition, reason: string): SmokeStep {
  return { name: step.name, description: step.description, status: 'skipped', durationMs: 0, message: reason };
}

/**
 * One delete; tasks go by ON DELETE CASCADE. Prisma's own connection is tried first; if it is what broke, a fresh
 * connection is the last resort, so a failed step does not also leave rows behind.
 */
async function removeThrowaways(state: SmokeState, url: DatabaseUrl, environment: Environment): Promise<SmokeCleanup> {
  const ids = [...state.throwaway];
  const removed = (count: number | null): SmokeCleanup => ({ removedUsers: state.deleted + (count ?? 0), leftover: [], error: null });
  if (ids.length === 0) return removed(0);
  try {
    // Raw SQL: Prisma would compile a deleteMany it uses nowhere else, for one statement.
    return removed(await state.prisma.$executeRaw`delete from "user" where id = any(${ids}::text[])`);
  } catch {
    try {
      const { rowCount } = await withConnection(url, { environment, applicationName: 'todo-db smoke cleanup' }, (client) =>
        client.query('delete from "user" where id = any($1::text[])', [ids]),
      );
      return removed(rowCount);
    } catch (error) {
      return { removedUsers: state.deleted, leftover: ids, error: describe(error) };
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof SmokeCheckFailed) return error.message;
  const lines = (error instanceof Error ? error.message : String(error))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  // Prisma's messages open with "Invalid `prisma.task.update()` invocation:" and, run from source, an excerpt of
  // the calling code; the report wants the line that says what failed.
  const preamble = lines.findIndex((line) => /^Invalid `.*` invocation/.test(line));
  const body = preamble === -1 ? lines : lines.slice(preamble + 1).filter((line) => !/^→?\s*\d+\s/.test(line));
  return redact(body.join(' ') || 'failed without a message');
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
