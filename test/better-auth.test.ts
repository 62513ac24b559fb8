import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { betterAuthPassword } from '../src/auth/password.js';
import { authDatabase, cookieOf, openAuth, pendingBetterAuthMigrations, signIn } from './helpers/auth.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { migrateProject, query } from './helpers/migrations.js';

/** The real Better Auth 1.7 on a database built only by todo-db's migrations. */
describe('Better Auth on the database todo-db builds', () => {
  const app = authDatabase('better_auth');

  it("leaves Better Auth's own migration tool nothing to create or add", async () => {
    expect(await pendingBetterAuthMigrations(app.url)).toEqual({ toBeCreated: [], toBeAdded: [], toBeAddedIndexes: [] });
  });

  it('signs a user up, gives them a task through openDatabase(), and deleteUser takes the task along', async () => {
    const { auth } = app.ba;
    const email = 'ada@example.com';
    const { headers, response } = await auth.api.signUpEmail({ body: { email, password: 'correct horse battery', name: 'Ada' }, returnHeaders: true });
    const userId = response.user.id;
    const cookie = cookieOf(headers);

    const task = await app.db.prisma.task.create({ data: { userId, title: 'Write the first program', tags: ['math'] } });
    expect(await app.db.prisma.task.findMany({ where: { userId }, include: { user: true } })).toMatchObject([{ id: task.id, user: { email, name: 'Ada' } }]);

    const session = await auth.api.getSession({ headers: new Headers({ cookie }) });
    expect(session?.user.id).toBe(userId);
    const jwks = await auth.handler(new Request('http://localhost:3000/api/auth/jwks'));
    expect(jwks.status).toBe(200);
    expect(((await jwks.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
    const token = await auth.handler(new Request('http://localhost:3000/api/auth/token', { headers: { cookie } }));
    expect(((await token.json()) as { token: string }).token.split('.')).toHaveLength(3);

    await auth.api.deleteUser({ body: { password: 'correct horse battery' }, headers: new Headers({ cookie }) });
    expect(await app.db.prisma.user.findUnique({ where: { id: userId } })).toBeNull();
    expect(await app.db.prisma.task.findUnique({ where: { id: task.id } })).toBeNull();
  });

  it('signs in the user seed-dev made, with Better Auth hashing as it does by default', async () => {
    const result = await runCli(['seed-dev'], { env: { DATABASE_URL: app.url } });
    expect(result.code, result.stderr).toBe(0);
    const { userId, cookie } = await signIn(app.ba.auth, 'test@example.com', 'Test123!@#');
    expect(await app.db.prisma.task.count({ where: { userId } })).toBe(5);
    expect((await app.ba.auth.api.getSession({ headers: new Headers({ cookie }) }))?.user.email).toBe('test@example.com');
    await expect(app.ba.auth.api.signInEmail({ body: { email: 'test@example.com', password: 'Test123!@' } })).rejects.toThrow(/Invalid email or password/i);
  });
});

describe('Better Auth configured to hash with bcrypt', () => {
  it('signs in the seeded user when seed-dev runs with TODO_DB_PASSWORD_HASH=bcrypt', async () => {
    const url = await createTestDatabase('better_auth_bcrypt');
    await migrateProject(url);
    const result = await runCli(['seed-dev', '--bcrypt-cost', '4'], { env: { DATABASE_URL: url, TODO_DB_PASSWORD_HASH: 'bcrypt' } });
    expect(result.code, result.stderr).toBe(0);
    const ba = openAuth(url, { hash: (password) => bcrypt.hash(password, 4), verify: ({ hash, password }) => bcrypt.compare(password, hash) });
    try {
      expect((await signIn(ba.auth, 'test@example.com', 'Test123!@#')).userId).toBeTruthy();
      // Better Auth's default scrypt verification would refuse this hash: the setting is what makes it work.
      const [{ password }] = (await query<{ password: string }>(url, `select password from "account"`)) as [{ password: string }];
      expect(password).toMatch(/^\$2[aby]\$04\$/);
    } finally {
      await ba.close();
    }
  });

  it("betterAuthPassword() verifies scrypt and bcrypt hashes alike, and hashes as Better Auth's default does", async () => {
    const url = await createTestDatabase('better_auth_mixed');
    await migrateProject(url);
    expect((await runCli(['seed-dev', '--bcrypt-cost', '4'], { env: { DATABASE_URL: url, TODO_DB_PASSWORD_HASH: 'bcrypt' } })).code).toBe(0);
    const ba = openAuth(url, betterAuthPassword());
    try {
      await ba.auth.api.signUpEmail({ body: { email: 'grace@example.com', password: 'compilers rule', name: 'Grace' } });
      expect((await signIn(ba.auth, 'test@example.com', 'Test123!@#')).userId).toBeTruthy();
      expect((await signIn(ba.auth, 'grace@example.com', 'compilers rule')).userId).toBeTruthy();
      const [{ password }] = (await query<{ password: string }>(
        url,
        `select a.password from "account" a join "user" u on u.id = a."userId" where u.email = 'grace@example.com'`,
      )) as [{ password: string }];
      expect(password).toMatch(/^[0-9a-f]{32}:[0-9a-f]{128}$/);
    } finally {
      await ba.close();
    }
  });
});
