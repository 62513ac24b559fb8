import bcrypt from 'bcryptjs';
import { getMigrations } from 'better-auth/db/migration';
import { describe, expect, it } from 'vitest';
import { betterAuthPassword } from '../src/auth/password.js';
import { parseDatabaseUrl } from '../src/config/database-url.js';
import { defaultMigrationsDir } from '../src/config/package-root.js';
import { Migrator } from '../src/migrations/index.js';
import { betterAuthConfig, openAuth, pendingBetterAuthMigrations, signIn } from './helpers/auth.js';
import { catalogSnapshot } from './helpers/catalog.js';
import { createTestDatabase } from './helpers/database.js';
import { query } from './helpers/migrations.js';

const INIT = '20261123000000_init';
const MOVE = '20261203000000_better_auth_users';
const migrator = (url: string) => new Migrator({ url: parseDatabaseUrl(url), migrationsDir: defaultMigrationsDir(), environment: 'development' });

interface OldUser {
  id: string;
  email: string;
  password: string;
  name: string | null;
}

/** Users of todo-db's old users table, with bcrypt hashes as seed-dev wrote them, and their tasks. */
const OLD_USERS: OldUser[] = [
  { id: '0a000000-0000-4000-8000-000000000001', email: 'alice@example.com', password: 'alice in wonderland', name: 'Alice' },
  { id: '0a000000-0000-4000-8000-000000000002', email: 'bob@example.com', password: 'bob the builder', name: null },
  { id: '0a000000-0000-4000-8000-000000000003', email: 'carol@example.com', password: 'carol sings', name: 'Carol' },
];

async function oldDatabase(prefix: string): Promise<string> {
  const url = await createTestDatabase(prefix);
  await migrator(url).up({ to: INIT });
  for (const [n, user] of OLD_USERS.entries()) {
    await query(url, 'insert into users (id, email, password_hash, name, email_verified, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6)', [
      user.id,
      user.email,
      await bcrypt.hash(user.password, 4),
      user.name,
      n % 2 === 0,
      new Date(Date.UTC(2026, 0, n + 1)),
    ]);
    await query(
      url,
      `insert into tasks (user_id, title, status, tags, created_at) select $1, 'task ' || i || ' of ' || $2, case when i = 1 then 'completed' else 'pending' end::task_status, array['t' || i], now() - i * interval '1 day' from generate_series(1, $3::int) i`,
      [user.id, user.email, n + 1],
    );
  }
  return url;
}

/** The schema, column by column, and every row of users and tasks. */
async function everything(url: string) {
  return {
    catalog: await catalogSnapshot(url),
    columns: await query(
      url,
      `select table_name, column_name, ordinal_position, data_type, is_nullable, column_default from information_schema.columns where table_schema = 'public' and table_name <> '_prisma_migrations' order by 1, 3`,
    ),
    indexes: await query(url, `select indexdef from pg_indexes where schemaname = 'public' order by 1`),
    users: await query(url, 'select * from users order by email'),
    tasks: await query(url, 'select * from tasks order by id'),
  };
}

const ownersOf = (url: string, table: 'users' | '"user"') =>
  query(url, `select u.email, count(*)::int as tasks from tasks t join ${table} u on u.id::text = t.user_id::text group by u.email order by u.email`);

describe(`${MOVE}: todo-db's users become Better Auth's`, () => {
  it('moves every user with their password and every task with its owner; down restores the old schema and rows', async () => {
    const url = await oldDatabase('move_users');
    const before = await everything(url);
    const ownersBefore = await ownersOf(url, 'users');

    expect((await migrator(url).up()).applied.map((step) => step.name)).toEqual([MOVE]);
    expect(await pendingBetterAuthMigrations(url)).toEqual({ toBeCreated: [], toBeAdded: [], toBeAddedIndexes: [] });
    expect(await ownersOf(url, '"user"')).toEqual(ownersBefore);
    expect(await query(url, `select id, name, "emailVerified" from "user" order by email`)).toEqual(
      OLD_USERS.map((user, n) => ({ id: user.id, name: user.name ?? '', emailVerified: n % 2 === 0 })),
    );
    // The tasks themselves did not change: the owner moved, updated_at stayed.
    const tasksAfter = await query(url, 'select * from tasks order by id');
    expect(tasksAfter).toEqual(before.tasks);

    // Their old (bcrypt) passwords sign them in through Better Auth, configured to verify both kinds of hash.
    const ba = openAuth(url, betterAuthPassword());
    try {
      for (const user of OLD_USERS) expect((await signIn(ba.auth, user.email, user.password)).userId).toBe(user.id);
    } finally {
      await ba.close();
    }

    await migrator(url).down();
    expect(await everything(url)).toEqual(before);
  });

  it('adopts the tables Better Auth made itself: its users keep their ids, and a todo-db user with the same email is that user', async () => {
    const url = await oldDatabase('move_users_adopt');
    // Better Auth's own CLI migration, as the app ran it before todo-db owned these tables.
    const config = betterAuthConfig(url);
    await (await getMigrations(config)).runMigrations();
    await config.database.end();
    const ba = openAuth(url);
    try {
      const carol = await ba.auth.api.signUpEmail({ body: { email: 'carol@example.com', password: 'carol signed up later', name: 'Carol B' } });
      expect((await migrator(url).up()).applied.map((step) => step.name)).toEqual([MOVE]);
      expect(await pendingBetterAuthMigrations(url)).toEqual({ toBeCreated: [], toBeAdded: [], toBeAddedIndexes: [] });
      expect(await query(url, `select count(*)::int as tasks from tasks where user_id = $1`, [carol.user.id])).toEqual([{ tasks: 3 }]);
      // Carol's Better Auth account is left as it was: her Better Auth password signs her in.
      expect((await signIn(ba.auth, 'carol@example.com', 'carol signed up later')).userId).toBe(carol.user.id);
      expect(await query(url, `select count(*)::int as n from "user"`)).toEqual([{ n: 3 }]);
    } finally {
      await ba.close();
    }
  });

  it('stops, changing nothing, when a user is inactive, and says what to do', async () => {
    const url = await oldDatabase('move_users_inactive');
    await query(url, `update users set is_active = false where email = 'bob@example.com'`);
    const before = await everything(url);
    await expect(migrator(url).up()).rejects.toMatchObject({ code: 'MIGRATION_FAILED', message: expect.stringMatching(/1 inactive user/) });
    expect(await everything(url)).toEqual(before);
  });
});
