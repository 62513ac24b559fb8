import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from './helpers/cli.js';
import { adminQuery, adminUrl, createTestDatabase } from './helpers/database.js';
import { migrateProject, query } from './helpers/migrations.js';

/**
 * Errors PostgreSQL raises that a person can fix get their own code and hint, never INTERNAL_ERROR. Every row
 * runs a real command as a real role on the real server. Where the server state cannot be produced in a test
 * (a full disk, exhausted memory, a configured limit), a trigger raises that SQLSTATE from inside the server,
 * so the command still meets it exactly as PostgreSQL would send it; those rows say "(raised by a trigger)".
 */
const PASSWORD = 'Rr-7u8i9o0p';
const roles: string[] = [];
afterAll(async () => {
  for (const role of roles) await adminQuery(`drop role if exists ${role}`).catch(() => {});
});

/** A migrated database owned by the admin, and a login role that can connect and use schema public. */
async function restricted(prepare: (role: string) => string[]): Promise<{ url: string; adminOfDb: string; role: string }> {
  const adminOfDb = await createTestDatabase('roles');
  await migrateProject(adminOfDb);
  const role = `restricted_${randomBytes(4).toString('hex')}`;
  roles.push(role);
  const db = new URL(adminOfDb).pathname.slice(1);
  await adminQuery(`create role ${role} login password '${PASSWORD}'`);
  afterAll(() => adminQuery(`drop owned by ${role}`).catch(() => {}));
  const statements = [
    `grant connect on database ${db} to ${role}`,
    `grant usage on schema public to ${role}`,
    `grant select, insert, update, delete on all tables in schema public to ${role}`,
    ...prepare(role),
  ];
  for (const sql of statements) await query(adminOfDb, sql);
  const url = adminUrl();
  url.username = role;
  url.password = PASSWORD;
  url.pathname = `/${db}`;
  return { url: url.toString(), adminOfDb, role };
}

const raiseOnUserInsert = (errcode: string, message: string) => [
  `create function raise_${errcode}() returns trigger language plpgsql as $$ begin raise exception '${message}' using errcode = '${errcode}'; end $$`,
  `create trigger raise_${errcode} before insert on "user" for each row execute function raise_${errcode}()`,
];

interface Case {
  name: string;
  prepare: (role: string) => string[];
  args: string[];
  code: string;
  message: (role: string) => RegExp;
  hint: (role: string) => RegExp;
}

const CASES: Case[] = [
  {
    name: 'no INSERT on "user" (seed-dev)',
    prepare: (role) => [`revoke insert on "user" from ${role}`],
    args: ['seed-dev'],
    code: 'PERMISSION_DENIED',
    message: (role) => new RegExp(`Role "${role}" lacks INSERT on table user`),
    hint: (role) => new RegExp(`GRANT INSERT ON TABLE "user" TO "${role}";`),
  },
  {
    name: 'no SELECT on _prisma_migrations (migrate status)',
    prepare: (role) => [`revoke select on _prisma_migrations from ${role}`],
    args: ['migrate', 'status'],
    code: 'PERMISSION_DENIED',
    message: (role) => new RegExp(`Role "${role}" lacks SELECT on table _prisma_migrations`),
    hint: (role) => new RegExp(`GRANT SELECT ON TABLE "_prisma_migrations" TO "${role}";`),
  },
  {
    name: 'no SELECT on _prisma_migrations (smoke)',
    prepare: (role) => [`revoke select on _prisma_migrations from ${role}`],
    args: ['smoke'],
    code: 'PERMISSION_DENIED',
    message: (role) => new RegExp(`Role "${role}" lacks SELECT on table _prisma_migrations`),
    hint: () => /GRANT SELECT ON TABLE "_prisma_migrations"/,
  },
  {
    name: 'no CREATE on schema public (migrate up, history table not there yet)',
    prepare: () => ['drop table _prisma_migrations', 'revoke create on schema public from public'],
    args: ['migrate', 'up'],
    code: 'PERMISSION_DENIED',
    message: (role) => new RegExp(`Role "${role}" lacks CREATE on schema public`),
    hint: (role) => new RegExp(`GRANT CREATE ON SCHEMA "public" TO "${role}";`),
  },
  {
    name: 'default_transaction_read_only on the role (seed-dev)',
    prepare: (role) => [`alter role ${role} set default_transaction_read_only = on`],
    args: ['seed-dev'],
    code: 'READ_ONLY',
    message: () => /refused a write because default_transaction_read_only is on \(set on the role/,
    hint: (role) => new RegExp(`ALTER ROLE "${role}" RESET default_transaction_read_only;`),
  },
  {
    name: 'a full disk, 53100 (raised by a trigger)',
    prepare: () => raiseOnUserInsert('53100', 'could not extend file: No space left on device'),
    args: ['seed-dev'],
    code: 'DISK_FULL',
    message: () => /is out of disk space: could not extend file: No space left on device/,
    hint: () => /Free disk space/,
  },
  {
    name: 'out of memory, 53200 (raised by a trigger)',
    prepare: () => raiseOnUserInsert('53200', 'out of memory'),
    args: ['seed-dev'],
    code: 'OUT_OF_MEMORY',
    message: () => /ran out of memory/,
    hint: () => /work_mem/,
  },
  {
    name: 'a configuration limit, 53400 (raised by a trigger)',
    prepare: () => raiseOnUserInsert('53400', 'out of shared memory'),
    args: ['seed-dev'],
    code: 'CONFIGURATION_LIMIT_EXCEEDED',
    message: () => /hit a configured limit: out of shared memory/,
    hint: () => /max_locks_per_transaction/,
  },
  {
    name: 'class 53 in general, 53000 (raised by a trigger)',
    prepare: () => raiseOnUserInsert('53000', 'insufficient resources'),
    args: ['seed-dev'],
    code: 'INSUFFICIENT_RESOURCES',
    message: () => /is out of resources \(SQLSTATE 53000\)/,
    hint: () => /disk, memory, connection limits/,
  },
  {
    name: "any other SQLSTATE, P0001 (raised by a trigger): PostgreSQL's words, not INTERNAL_ERROR",
    prepare: () => raiseOnUserInsert('P0001', 'users are frozen for maintenance'),
    args: ['seed-dev'],
    code: 'DATABASE_ERROR',
    message: () => /refused the operation: users are frozen for maintenance \(SQLSTATE P0001\)/,
    hint: () => /--verbose/,
  },
  {
    name: 'too many connections for the role, 53300 (connection limit 0)',
    prepare: (role) => [`alter role ${role} connection limit 0`],
    args: ['check-connection'],
    code: 'TOO_MANY_CONNECTIONS',
    message: () => /has no free connection slots/,
    hint: () => /Close idle clients/,
  },
];

describe('a restricted role gets a code and a hint, never INTERNAL_ERROR', () => {
  it.each(CASES)('$name: $code', async ({ prepare, args, code, message, hint }) => {
    const { url, role } = await restricted(prepare);
    const result = await runCli([...args, '--json'], { env: { DATABASE_URL: url } });
    const { error } = result.json();
    expect(error.code, result.stdout).toBe(code);
    expect(error.message).toMatch(message(role));
    expect(error.hint).toMatch(hint(role));
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);

    const human = await runCli(args, { env: { DATABASE_URL: url } });
    expect(human.stderr).toMatch(new RegExp(`\\[${code}\\]`));
    expect(human.stderr).not.toMatch(/^\s+at /m);
  });

  it('a role-level statement_timeout (57014): STATEMENT_TIMEOUT naming the setting and where it is set', async () => {
    const { url, adminOfDb, role } = await restricted((name) => [`alter role ${name} set statement_timeout = '300ms'`]);
    const locker = new pg.Client({ connectionString: adminOfDb });
    await locker.connect();
    try {
      // Holding ACCESS EXCLUSIVE on "user" makes seed-dev's first read wait past the role's timeout, every time.
      await locker.query('begin; lock table "user" in access exclusive mode');
      const result = await runCli(['seed-dev', '--json'], { env: { DATABASE_URL: url } });
      const { error } = result.json();
      expect(error.code, result.stdout).toBe('STATEMENT_TIMEOUT');
      expect(error.message).toMatch(
        /ran longer than statement_timeout allows \(statement_timeout = 300ms, set on the role \(ALTER ROLE \.\.\. SET, in pg_db_role_setting\)\)/,
      );
      expect(error.hint).toContain(`ALTER ROLE "${role}" RESET statement_timeout;`);
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
  });

  it('a statement canceled by someone else (57014): QUERY_CANCELED', async () => {
    const { url, adminOfDb } = await restricted(() => []);
    const locker = new pg.Client({ connectionString: adminOfDb });
    await locker.connect();
    try {
      await locker.query('begin; lock table "user" in access exclusive mode');
      const running = startCli(['seed-dev', '--json'], { env: { DATABASE_URL: url } });
      const waiting = "select pid from pg_stat_activity where application_name = 'todo-db seed-dev' and wait_event_type = 'Lock'";
      for (let deadline = Date.now() + 30_000; (await query(adminOfDb, waiting)).length === 0; ) {
        if (Date.now() > deadline) throw new Error('seed-dev never waited on the lock');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await query(adminOfDb, `select pg_cancel_backend(pid) from (${waiting}) w`);
      const result = await running.exited;
      expect(result.json().error.code, result.stdout).toBe('QUERY_CANCELED');
      expect(result.code).toBe(1);
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
  });
});
