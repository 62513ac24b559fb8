import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { jwt } from 'better-auth/plugins';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database.js';
import { createTestDatabase } from './database.js';
import { migrateProject } from './migrations.js';

type PasswordOption = { hash: (password: string) => Promise<string>; verify: (input: { hash: string; password: string }) => Promise<boolean> };

/**
 * The real Better Auth as the Todo app configures it on its database: email and password, the JWT plugin, a pg
 * Pool. `password` replaces its default hashing (scrypt), as an app configured for bcrypt does.
 */
export function betterAuthConfig(url: string, password?: PasswordOption) {
  return {
    database: new pg.Pool({ connectionString: url, max: 2 }),
    secret: 'todo-db-test-secret-of-at-least-32-characters',
    baseURL: 'http://localhost:3000',
    emailAndPassword: { enabled: true, ...(password ? { password } : {}) },
    user: { deleteUser: { enabled: true } },
    plugins: [jwt()],
    logger: { disabled: true },
    telemetry: { enabled: false },
  };
}

function authOn(config: ReturnType<typeof betterAuthConfig>) {
  return betterAuth(config);
}

export interface TestAuth {
  auth: ReturnType<typeof authOn>;
  close: () => Promise<void>;
}

export function openAuth(url: string, password?: PasswordOption): TestAuth {
  const config = betterAuthConfig(url, password);
  return { auth: authOn(config), close: () => config.database.end() };
}

/** What Better Auth's own migration tool would still create or add on this database. */
export async function pendingBetterAuthMigrations(url: string): Promise<{ toBeCreated: string[]; toBeAdded: string[]; toBeAddedIndexes: string[] }> {
  const config = betterAuthConfig(url);
  try {
    const { toBeCreated, toBeAdded, toBeAddedIndexes } = await getMigrations(config);
    return { toBeCreated: toBeCreated.map((t) => t.table), toBeAdded: toBeAdded.map((t) => t.table), toBeAddedIndexes: toBeAddedIndexes.map((i) => i.name) };
  } finally {
    await config.database.end();
  }
}

/** signInEmail as the app's login form calls it; the session cookie for later requests. */
export async function signIn(auth: TestAuth['auth'], email: string, password: string): Promise<{ userId: string; cookie: string }> {
  const { headers, response } = await auth.api.signInEmail({ body: { email, password }, returnHeaders: true });
  return { userId: response.user.id, cookie: cookieOf(headers) };
}

export function cookieOf(headers: Headers): string {
  return headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
}

export interface AuthDatabase {
  url: string;
  ba: TestAuth;
  db: Database;
}

/** For one describe block: a database built by todo-db's migrations, the real Better Auth and openDatabase() on it. */
export function authDatabase(prefix: string): AuthDatabase {
  const fixture = {} as AuthDatabase;
  beforeAll(async () => {
    fixture.url = await createTestDatabase(prefix);
    await migrateProject(fixture.url);
    fixture.ba = openAuth(fixture.url);
    fixture.db = await openDatabase({ databaseUrl: fixture.url, poolSize: 2 });
  });
  afterAll(async () => {
    await fixture.ba?.close();
    await fixture.db?.close();
  });
  return fixture;
}
