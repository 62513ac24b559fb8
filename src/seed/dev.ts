import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { DEFAULT_BCRYPT_COST, hashPassword, type PasswordHashAlgorithm } from '../auth/password.js';
import type { DatabaseUrl } from '../config/database-url.js';
import type { Environment } from '../config/settings.js';
import { TodoDbError, usageError } from '../core/errors.js';
import { connect } from '../db/connect.js';
import { inTransactionFrom } from '../db/transaction.js';
import { type TaskPriority, type TaskStatus, type ValidTask, validateTask } from '../tasks/rules.js';

/**
 * The development seed: one known Better Auth user, with the credential account signInEmail checks, and five
 * sample tasks. Every record has a stable identity (the user's email, its credential account, the tasks' fixed
 * ids), so a run creates exactly what is missing and a rerun creates nothing.
 *
 * The common case is a rerun on a seeded database, and it is meant to cost no more than connecting: one query
 * reads what exists, and the hashing (deliberately slow) and the inserts run only when something is missing.
 * Plain pg, never Prisma Client, whose start-up alone costs more than the whole rerun.
 */
export const SEED_USER_EMAIL = 'test@example.com';
const SEED_USER_PASSWORD = 'Test123!@#';
const SEED_USER_NAME = 'Test User';
const BCRYPT_COST_MIN = 4;
const BCRYPT_COST_MAX = 15;

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
  {
    id: '5eed0000-0000-4000-8000-000000000001',
    title: 'Set up the development environment',
    description: 'Run npx todo-db setup and open the app.',
    status: 'pending',
    priority: 'high',
    dueInDays: 1,
    tags: ['setup', 'dev'],
  },
  {
    id: '5eed0000-0000-4000-8000-000000000002',
    title: 'Write the first feature',
    description: null,
    status: 'pending',
    priority: 'medium',
    dueInDays: null,
    tags: [],
  },
  {
    id: '5eed0000-0000-4000-8000-000000000003',
    title: 'Read the project README',
    description: 'Configuration, commands and the data model.',
    status: 'completed',
    priority: 'low',
    dueInDays: null,
    tags: ['docs'],
  },
  {
    id: '5eed0000-0000-4000-8000-000000000004',
    title: 'Review the database schema',
    description: null,
    status: 'completed',
    priority: 'medium',
    dueInDays: 7,
    tags: [],
  },
  {
    id: '5eed0000-0000-4000-8000-000000000005',
    title: 'Run the smoke test',
    description: 'npx todo-db smoke checks a task round trip.',
    status: 'completed',
    priority: 'high',
    dueInDays: 3,
    tags: ['testing', 'ci'],
  },
];

export interface SeedOptions {
  url: DatabaseUrl;
  environment: Environment;
  /** As the app's Better Auth verifies: scrypt (its default) unless it is configured for bcrypt. */
  passwordHash?: PasswordHashAlgorithm;
  /** Only with bcrypt. */
  bcryptCost?: number;
  /** The clock for due dates and their validation; tests may fix it. */
  now?: Date;
  /** An open connection to `url` the caller owns (setup shares one across its steps); left open. */
  client?: pg.Client;
}

export interface SeedCounts {
  created: number;
  skipped: number;
}

export interface SeedReport {
  user: { id: string; email: string };
  users: SeedCounts;
  /** The user's credential account, which holds the password hash. */
  accounts: SeedCounts;
  tasks: SeedCounts;
  /** Ids of the seed tasks this run inserted, in SEED_TASKS order. */
  createdTaskIds: string[];
}

interface Existing {
  userId: string | null;
  hasAccount: boolean;
  taskIds: Set<string>;
}

export function assertSeedAllowed(environment: Environment): void {
  if (environment !== 'production') return;
  throw usageError(
    'PRODUCTION_REFUSED',
    'seed-dev creates a test user with a published password, so it never runs when ENVIRONMENT is production.',
    'Seed a development or test database: set ENVIRONMENT=development (or test) and point DATABASE_URL at it.',
  );
}

export async function seedDev({ url, environment, passwordHash = 'scrypt', bcryptCost, now = new Date(), client: shared }: SeedOptions): Promise<SeedReport> {
  assertSeedAllowed(environment);
  assertBcryptCost(passwordHash, bcryptCost);
  const client = shared ?? (await connect(url, { environment, applicationName: 'todo-db seed-dev' })).client;
  try {
    const existing = await readExisting(client);
    const missing = SEED_TASKS.filter((task) => !existing.taskIds.has(task.id));
    if (existing.userId && existing.hasAccount && missing.length === 0) return report(existing.userId, { users: 0, accounts: 0, taskIds: [] });
    // Validated and hashed before the transaction opens, so it stays short.
    const rows = missing.map((task) => ({ id: task.id, task: validSeedTask(task, now) }));
    const hash = existing.hasAccount ? null : await hashPassword(SEED_USER_PASSWORD, { algorithm: passwordHash, bcryptCost });
    const statement = existing.userId ? forUser(client, existing.userId, hash, rows) : userWithTasks(client, hash!, rows);
    return await inTransactionFrom(client, statement, async ([seeded]: Seeded[]) => {
      if (seeded?.user_id)
        return report(seeded.user_id, { users: existing.userId ? 0 : 1, accounts: seeded.accounts, taskIds: inSeedOrder(rows, seeded.task_ids) });
      // A concurrent seed created the user (and its account) after readExisting looked; committed, so a new statement sees it.
      const userId = (await readExisting(client)).userId!;
      const {
        rows: [again],
      } = await client.query<Seeded>(forUser(client, userId, null, rows));
      return report(userId, { users: 0, accounts: 0, taskIds: inSeedOrder(rows, again!.task_ids) });
    });
  } catch (error) {
    throw notMigrated(error) ?? error;
  } finally {
    if (!shared) await client.end().catch(() => {});
  }
}

function assertBcryptCost(algorithm: PasswordHashAlgorithm, cost: number | undefined): void {
  if (cost === undefined) return;
  if (algorithm !== 'bcrypt') {
    throw usageError(
      'BCRYPT_COST_WITHOUT_BCRYPT',
      `--bcrypt-cost was given, but the seed hashes the password with ${algorithm}, as Better Auth does by default.`,
      'Set TODO_DB_PASSWORD_HASH=bcrypt when the app configures Better Auth to hash with bcrypt, or leave out --bcrypt-cost.',
    );
  }
  if (Number.isInteger(cost) && cost >= BCRYPT_COST_MIN && cost <= BCRYPT_COST_MAX) return;
  throw usageError(
    'BCRYPT_COST_INVALID',
    `The bcrypt cost must be a whole number from ${BCRYPT_COST_MIN} to ${BCRYPT_COST_MAX} (got ${cost}).`,
    `Pass --bcrypt-cost between ${BCRYPT_COST_MIN} and ${BCRYPT_COST_MAX}, or leave it out for ${DEFAULT_BCRYPT_COST}.`,
  );
}

/** The one query of a rerun: the user's id (if any), whether it has a credential account, which seed task ids exist. */
async function readExisting(client: pg.Client): Promise<Existing> {
  const { rows } = await client.query<{ user_id: string | null; has_account: boolean; task_ids: string[] }>(
    `select u.id as user_id,
            exists (select 1 from "account" a where a."userId" = u.id and a."providerId" = 'credential') as has_account,
            array(select id::text from tasks where id = any($2::uuid[])) as task_ids
       from (select 1) as one left join "user" u on u.email = $1`,
    [SEED_USER_EMAIL, SEED_TASKS.map((task) => task.id)],
  );
  return { userId: rows[0]?.user_id ?? null, hasAccount: rows[0]?.has_account ?? false, taskIds: new Set(rows[0]?.task_ids ?? []) };
}

function validSeedTask(task: SeedTask, now: Date): ValidTask {
  const dueDate = task.dueInDays === null ? null : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + task.dueInDays));
  return validateTask(
    { title: task.title, description: task.description, status: task.status, priority: task.priority, dueDate, tags: task.tags },
    { mode: 'create', now },
  );
}

/** What a seed statement did: the user's id (null when another seed's user got in first), accounts and tasks it inserted. */
interface Seeded {
  user_id: string | null;
  accounts: number;
  task_ids: string[];
}

/**
 * The credential account (when `hash` is given) and the missing tasks for the user `owner` names, as one
 * statement: the tasks as one JSON literal read into rows of the tasks table's own types (no casts to keep in
 * step with the schema); ON CONFLICT and RETURNING tell which were really inserted. The account is as Better
 * Auth's signUpEmail writes it: providerId 'credential', accountId the user's id. Literals, not parameters: the
 * statement travels with BEGIN (inTransactionFrom).
 */
function seedStatement(client: pg.Client, owner: string, hash: string | null, rows: SeedRow[]): string {
  const account =
    hash === null
      ? 'select null::text as id where false'
      : `insert into "account" ("id", "accountId", "providerId", "userId", "password", "updatedAt")
        select ${client.escapeLiteral(randomUUID())}, owner.id, 'credential', owner.id, ${client.escapeLiteral(hash)}, now() from owner returning "id"`;
  return `with owner as (${owner}),
    account as (${account}),
    inserted as (insert into tasks (id, user_id, title, description, status, priority, due_date, tags)
      select t.id, owner.id, t.title, t.description, t.status, t.priority, t.due_date, t.tags
        from owner cross join json_populate_recordset(null::tasks, ${client.escapeLiteral(tasksJson(rows))}::json) t
      on conflict (id) do nothing returning id::text)
    select (select id from owner) as user_id, (select count(*)::int from account) as accounts, array(select id from inserted) as task_ids`;
}

/** ON CONFLICT DO NOTHING: when another seed's user got in first, no user and so no account or task is inserted. */
function userWithTasks(client: pg.Client, hash: string, rows: SeedRow[]): string {
  const values = [randomUUID(), SEED_USER_NAME, SEED_USER_EMAIL].map((value) => client.escapeLiteral(value)).join(', ');
  return seedStatement(
    client,
    `insert into "user" ("id", "name", "email", "emailVerified") values (${values}, true) on conflict (email) do nothing returning id`,
    hash,
    rows,
  );
}

function forUser(client: pg.Client, userId: string, hash: string | null, rows: SeedRow[]): string {
  return seedStatement(client, `select ${client.escapeLiteral(userId)}::text as id`, hash, rows);
}

type SeedRow = { id: string; task: ValidTask };

function tasksJson(rows: SeedRow[]): string {
  return JSON.stringify(
    rows.map(({ id, task }) => ({
      id,
      title: task.title,
      description: task.description,
      status: task.status,
      priority: task.priority,
      due_date: task.dueDate,
      tags: task.tags,
    })),
  );
}

function inSeedOrder(rows: SeedRow[], insertedIds: string[]): string[] {
  const ids = new Set(insertedIds);
  return rows.map((row) => row.id).filter((id) => ids.has(id));
}

function report(userId: string, created: { users: number; accounts: number; taskIds: string[] }): SeedReport {
  return {
    user: { id: userId, email: SEED_USER_EMAIL },
    users: { created: created.users, skipped: 1 - created.users },
    accounts: { created: created.accounts, skipped: 1 - created.accounts },
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
