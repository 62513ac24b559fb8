import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../src/config/database-url.js';
import { withConnection } from '../src/db/connect.js';
import { runCli } from './helpers/cli.js';
import { adminQuery, adminUrl } from './helpers/database.js';

/** A URL without a password is tried as such, then with PGPASSWORD, then the password file, as libpq does. */
const PASSWORD = 'Pp-no-url-4r5t6y';
let role: string;
let home: string;
let url: string;
beforeAll(async () => {
  role = `nopass_${randomBytes(4).toString('hex')}`;
  home = await mkdtemp(join(tmpdir(), 'todo-db-home-'));
  await adminQuery(`create role ${role} login password '${PASSWORD}'`);
  const server = adminUrl();
  url = `postgresql://${role}@${server.host}/postgres`;
});
afterAll(() => adminQuery(`drop role if exists ${role}`));

const check = (env: Record<string, string | undefined>) =>
  runCli(['check-connection', '--json'], { env: { DATABASE_URL: url, HOME: home, PGPASSWORD: undefined, PGPASSFILE: undefined, ...env } });

describe('a URL without a password', () => {
  it('fails with PASSWORD_MISSING saying where todo-db looked, when the server asks and none is found', async () => {
    const result = await check({});
    expect(result.code).toBe(1);
    const { error } = result.json();
    expect(error.code).toBe('PASSWORD_MISSING');
    expect(error.message).toMatch(
      new RegExp(
        `asks for a password for user "${role}", and todo-db found none: not in DATABASE_URL, not in PGPASSWORD, not in the password file \\(PGPASSFILE, default ~/.pgpass\\)`,
      ),
    );
    expect(error.hint).toMatch(/set PGPASSWORD, or add a line host:port:database:user:password to ~\/.pgpass/);
  });

  it('uses PGPASSWORD, and never prints it', async () => {
    const result = await check({ PGPASSWORD: PASSWORD });
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  });

  it('uses the password file (PGPASSFILE), but only when others cannot read it, as libpq', async () => {
    const server = adminUrl();
    const file = join(home, 'pgpass');
    await writeFile(file, `# comment\nother:1:*:*:wrong\n${server.hostname}:${server.port}:*:${role}:${PASSWORD.replace(/:/g, '\\:')}\n`);
    await chmod(file, 0o600);
    const ok = await check({ PGPASSFILE: file });
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout + ok.stderr).not.toContain(PASSWORD);
    await chmod(file, 0o644);
    expect((await check({ PGPASSFILE: file })).json().error.code).toBe('PASSWORD_MISSING');
  });

  it('reads ~/.pgpass by default', async () => {
    const server = adminUrl();
    const file = join(home, '.pgpass');
    await writeFile(file, `*:${server.port}:postgres:${role}:${PASSWORD}\n`, { mode: 0o600 });
    const result = await check({});
    expect(result.code, result.stdout).toBe(0);
  });
});

describe('PG* variables', () => {
  it('the URL decides host, port, user, database and TLS: PGHOST, PGPORT, PGUSER, PGDATABASE, PGSSLMODE and PGAPPNAME are ignored', async () => {
    const result = await check({
      PGPASSWORD: PASSWORD,
      PGHOST: 'no-such-host.invalid',
      PGPORT: '9',
      PGUSER: 'nobody',
      PGDATABASE: 'no_such_database',
      PGSSLMODE: 'verify-full',
      PGAPPNAME: 'not-todo-db',
      PGCONNECT_TIMEOUT: '1',
    });
    expect(result.code, result.stdout).toBe(0);
    expect(result.json().data).toMatchObject({ database: 'postgres', user: role });
  });
});

describe('PGOPTIONS', () => {
  const timeoutWith = async (url: string, pgoptions: string | undefined) => {
    const saved = process.env.PGOPTIONS;
    if (pgoptions === undefined) delete process.env.PGOPTIONS;
    else process.env.PGOPTIONS = pgoptions;
    try {
      return await withConnection(
        parseDatabaseUrl(url),
        { environment: 'test' },
        async (client) => (await client.query('show statement_timeout')).rows[0].statement_timeout,
      );
    } finally {
      if (saved === undefined) delete process.env.PGOPTIONS;
      else process.env.PGOPTIONS = saved;
    }
  };

  it("is sent as the startup options when the URL has none; the URL's options win", async () => {
    const url = adminUrl().toString();
    expect(await timeoutWith(url, '-c statement_timeout=1234')).toBe('1234ms');
    expect(await timeoutWith(`${url}?options=-c%20statement_timeout%3D4321`, '-c statement_timeout=1234')).toBe('4321ms');
  });
});
