import type pg from 'pg';
import type { DatabaseUrl } from '../config/database-url.js';
import type { Environment } from '../config/settings.js';
import { connect } from '../db/connect.js';
import { inTransaction } from '../db/transaction.js';
import { TodoDbError, usageError } from '../errors.js';
import { validateTask, type TaskPriority, type TaskStatus, type ValidTask } from '../tasks/rules.js';

/**
 * The development seed: one known user and five sample tasks. Every record has a stable identity (the user's
 * email, the tasks' fixed ids), so a run creates exactly what is missing and a rerun creates nothing.
 *
 * The common case is a rerun on a seeded database, and it is meant to cost no more than connecting: one query
 * reads what exists, and bcrypt (deliberately slow) and the inserts run only when something is missing. Plain
 * pg, never Prisma Client, whose start-up alone costs more than the whole rerun.
 */
export const SEED_USER_EMAIL = 'test@example.com';
export const SEED_USER_PASSWORD = 'Test123!@#';
export const SEED_USER_NAME = 'Test User';
export const DEFAULT_BCRYPT_COST = 12;
export const BCRYPT_COST_MIN = 4;
export const BCRYPT_COST_MAX = 15;

export interface SeedTask {
  /** Fixed, so "does this seed task exist?" is a primary-key lookup and a rerun can never duplicate it. */
  id: string;
  title: string;
  description: string | null;
  status: TaskStatus;
  priority: TaskPriority;
  /** Days from today to the due date (UTC midnight), or null for no due date. */
  dueInDays: number | null;
  tags: string[];
}

/** The seed tasks. Their ids spell "5eed" and end in 1 to 5; never reuse or change them. */
export const SEED_TASKS: readonly SeedTask[] = [
  { id: '5eed0000-0000-4000-8000-000000000001', title: 'Set up the development environment', description: 'Run npx todo-db setup and open the app.', status: 'pending', priority: 'high', dueInDays: 1, tags: ['setup', 'dev'] },
  { id: '5eed0000-0000-4000-8000-000000000002', title: 'Write the first feature', description: null, status: 'pending', priority: 'medium', dueInDays: null, tags: [] },
  { id: '5eed0000-0000-4000-8000-000000000003', title: 'Read the project README', description: 'Configuration, commands and the data model.', status: 'completed', priority: 'low', dueInDays: null, tags: ['docs'] },
  { id: '5eed0000-0000-4000-8000-000000000004', title: 'Review the database schema', description: null, status: 'completed', priority: 'medium', dueInDays: 7, tags: [] },
  { id: '5eed0000-0000-4000-8000-000000000005', title: 'Run the smoke test', description: 'npx todo-db smoke checks a task round trip.', status: 'completed', priority: 'high', dueInDays: 3, tags: ['testing', 'ci'] },
];

export interface SeedOptions {
  url: DatabaseUrl;
  environment: Environment;
  bcryptCost?: number;
  /** The clock for due dates and their validation; tests may fix it. */
  now?: Date;
}

export interface SeedCounts {
  created: number;
  skipped: number;
}

export interface SeedReport {
  user: { id: string; email: string };
  users: SeedCounts;
  tasks: SeedCounts;
  /** Ids of the seed tasks this run inserted, in SEED_TASKS order. */
  createdTaskIds: string[];
}

interface Existing {
  userId: string | null;
  taskIds: Set<string>;
}

export function assertSeedAllowed(environment: Environment): void {
  if (environment !== 'production') return;
  throw usageError('PRODUCTION_REFUSED', 'seed-dev creates a test user with a published password, so it never runs when ENVIRONMENT is production.', 'Seed a development or test database: set ENVIRONMENT=development (or test) and point DATABASE_URL at it.');
}

export async function seedDev({ url, environment, bcryptCost = DEFAULT_BCRYPT_COST, now = new Date() }: SeedOptions): Promise<SeedReport> {
  assertSeedAllowed(environment);
  assertBcryptCost(bcryptCost);
  const { client } = await connect(url, { environment, applicationName: 'todo-db seed-dev' });
  try {
    const existing = await readExisting(client);
    const missing = SEED_TASKS.filter((task) => !existing.taskIds.has(task.id));
    if (existing.userId && missing.length === 0) return report(existing.userId, { users: 0, taskIds: [] });
    // Validated and hashed before the transaction opens, so it stays short.
    const rows = missing.map((task) => ({ id: task.id, task: validSeedTask(task, now) }));
    const passwordHash = existing.userId ? undefined : await hashPassword(bcryptCost);
    return await inTransaction(client, async () => {
      const user = existing.userId ? { id: existing.userId, created: false } : await insertUser(client, passwordHash!);
      const taskIds = await insertTasks(client, user.id, rows);
      return report(user.id, { users: user.created ? 1 : 0, taskIds });
    });
  } catch (error) {
    throw notMigrated(error) ?? error;
  } finally {
    await client.end().catch(() => {});
  }
}

function assertBcryptCost(cost: number): void {
  if (Number.isInteger(cost) && cost >= BCRYPT_COST_MIN && cost <= BCRYPT_COST_MAX) return;
  throw usageError('BCRYPT_COST_INVALID', `The bcrypt cost must be a whole number from ${BCRYPT_COST_MIN} to ${BCRYPT_COST_MAX} (got ${cost}).`, `Pass --bcrypt-cost between ${BCRYPT_COST_MIN} and ${BCRYPT_COST_MAX}, or leave it out for ${DEFAULT_BCRYPT_COST}.`);
}

/** The one query of a rerun: the user's id (if any) and which seed task ids exist. */
async function readExisting(client: pg.Client): Promise<Existing> {
  const { rows } = await client.query<{ user_id: string | null; task_ids: string[] }>(
    'select (select id from users where email = $1) as user_id, array(select id::text from tasks where id = any($2::uuid[])) as task_ids',
    [SEED_USER_EMAIL, SEED_TASKS.map((task) => task.id)],
  );
  return { userId: rows[0]?.user_id ?? null, taskIds: new Set(rows[0]?.task_ids ?? []) };
}

function validSeedTask(task: SeedTask, now: Date): ValidTask {
  const dueDate = task.dueInDays === null ? null : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + task.dueInDays));
  return validateTask({ title: task.title, description: task.description, status: task.status, priority: task.priority, dueDate, tags: task.tags }, { mode: 'create', now });
}

/** bcryptjs is loaded only here: a rerun on a seeded database never pays for it. */
async function hashPassword(cost: number): Promise<string> {
  const { default: bcrypt } = await import('bcryptjs');
  return bcrypt.hash(SEED_USER_PASSWORD, cost);
}

/** ON CONFLICT covers a concurrent seed that created the user after readExisting looked. */
async function insertUser(client: pg.Client, passwordHash: string): Promise<{ id: string; created: boolean }> {
  const inserted = await client.query<{ id: string }>(
    'insert into users (email, password_hash, name, email_verified) values ($1, $2, $3, true) on conflict (email) do nothing returning id',
    [SEED_USER_EMAIL, passwordHash, SEED_USER_NAME],
  );
  if (inserted.rows[0]) return { id: inserted.rows[0].id, created: true };
  const { rows } = await client.query<{ id: string }>('select id from users where email = $1', [SEED_USER_EMAIL]);
  return { id: rows[0]!.id, created: false };
}

/** One statement for all missing tasks; RETURNING tells which were really inserted (a concurrent seed may win). */
async function insertTasks(client: pg.Client, userId: string, rows: Array<{ id: string; task: ValidTask }>): Promise<string[]> {
  if (rows.length === 0) return [];
  const columns = ['id', 'user_id', 'title', 'description', 'status', 'priority', 'due_date', 'tags'];
  const values = rows.flatMap(({ id, task }) => [id, userId, task.title, task.description, task.status, task.priority, task.dueDate, task.tags]);
  const tuples = rows.map((_, row) => `(${columns.map((_, column) => `$${row * columns.length + column + 1}`).join(', ')})`);
  const { rows: inserted } = await client.query<{ id: string }>(
    `insert into tasks (${columns.join(', ')}) values ${tuples.join(', ')} on conflict (id) do nothing returning id::text`,
    values,
  );
  const ids = new Set(inserted.map((row) => row.id));
  return rows.map((row) => row.id).filter((id) => ids.has(id));
}

function report(userId: string, created: { users: number; taskIds: string[] }): SeedReport {
  return {
    user: { id: userId, email: SEED_USER_EMAIL },
    users: { created: created.users, skipped: 1 - created.users },
    tasks: { created: created.taskIds.length, skipped: SEED_TASKS.length - created.taskIds.length },
    createdTaskIds: created.taskIds,
  };
}

const UNDEFINED_TABLE = '42P01';
const UNDEFINED_COLUMN = '42703';
const UNDEFINED_OBJECT = '42704';

/** A database without our schema (or an older one) fails on its first query; say what to do instead of the SQL error. */
function notMigrated(error: unknown): TodoDbError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== UNDEFINED_TABLE && code !== UNDEFINED_COLUMN && code !== UNDEFINED_OBJECT) return undefined;
  return new TodoDbError({
    code: 'DATABASE_NOT_MIGRATED',
    message: `The database does not have todo-db's schema yet (${(error as Error).message}).`,
    hint: 'Run todo-db migrate up, then todo-db seed-dev again.',
    kind: 'check',
    cause: error,
  });
}
