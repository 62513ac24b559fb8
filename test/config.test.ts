import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

/** Distinctive, so that grepping the output for it proves it never leaked. */
const SECRET = 'Zq8-Unguessable-Pw';

let envDir: string;
beforeAll(async () => {
  envDir = await mkdtemp(join(tmpdir(), 'todo-db-env-'));
  await writeFile(join(envDir, '.env'), `ENVIRONMENT=staging\nDATABASE_URL=postgresql://app:${SECRET}@localhost:5432/todo\n`);
});

interface BadConfig {
  name: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: () => string;
  code: string;
  says: RegExp;
}

const url = (rest: string) => `postgresql://app:${SECRET}@${rest}`;

const MATRIX: BadConfig[] = [
  {
    name: 'no URL in production, where the local database is never used',
    env: { ENVIRONMENT: 'production' },
    code: 'DATABASE_URL_MISSING',
    says: /DATABASE_URL is not set/,
  },
  {
    name: 'no URL and a local directory that cannot exist',
    env: { TODO_DB_LOCAL_DIR: '/etc/hostname/todo-db' },
    code: 'TODO_DB_LOCAL_DIR_INVALID',
    says: /\/etc\/hostname/,
  },
  { name: 'an empty string', env: { DATABASE_URL: '' }, code: 'DATABASE_URL_INVALID', says: /DATABASE_URL is set but empty/ },
  { name: 'whitespace', env: { DATABASE_URL: '   \t ' }, code: 'DATABASE_URL_INVALID', says: /only whitespace/ },
  { name: 'a wrong scheme', env: { DATABASE_URL: `https://app:${SECRET}@localhost/todo` }, code: 'DATABASE_URL_INVALID', says: /scheme https:\/\// },
  { name: 'mysql://', env: { DATABASE_URL: `mysql://app:${SECRET}@localhost:3306/todo` }, code: 'DATABASE_URL_INVALID', says: /scheme mysql:\/\// },
  { name: 'not a URL at all', env: { DATABASE_URL: 'localhost:5432' }, code: 'DATABASE_URL_INVALID', says: /is not a URL/ },
  { name: 'a missing host', env: { DATABASE_URL: url('/todo') }, code: 'DATABASE_URL_INVALID', says: /has no host/ },
  {
    name: 'a non-numeric port',
    env: { DATABASE_URL: url('localhost:abc/todo') },
    code: 'DATABASE_URL_INVALID',
    says: /port \(the part after the host name's ":"\) that is not a number/,
  },
  { name: 'port 0', env: { DATABASE_URL: url('localhost:0/todo') }, code: 'DATABASE_URL_INVALID', says: /port 0, outside the range 1-65535/ },
  { name: 'port 70000', env: { DATABASE_URL: url('localhost:70000/todo') }, code: 'DATABASE_URL_INVALID', says: /port 70000, outside the range/ },
  {
    name: 'a bad percent-encoding',
    env: { DATABASE_URL: `postgresql://app:${SECRET}%zz@localhost/todo` },
    code: 'DATABASE_URL_INVALID',
    says: /malformed percent-encoding in the password/,
  },
  {
    name: 'an unknown sslmode',
    env: { DATABASE_URL: url('localhost/todo?sslmode=sometimes') },
    code: 'DATABASE_URL_INVALID',
    says: /unknown sslmode "sometimes"/,
  },
  {
    name: 'an unknown channel_binding',
    env: { DATABASE_URL: url('localhost/todo?channel_binding=maybe') },
    code: 'DATABASE_URL_INVALID',
    says: /channel_binding "maybe"/,
  },
  {
    name: 'a non-numeric connect_timeout',
    env: { DATABASE_URL: url('localhost/todo?connect_timeout=soon') },
    code: 'DATABASE_URL_INVALID',
    says: /connect_timeout "soon"/,
  },
  { name: 'several hosts', env: { DATABASE_URL: url('db1.example.com,db2.example.com/todo') }, code: 'DATABASE_URL_INVALID', says: /several hosts/ },
  { name: 'a newline inside the URL', env: { DATABASE_URL: `${url('localhost/todo')}\nextra` }, code: 'DATABASE_URL_INVALID', says: /newline or NUL/ },
  {
    name: 'sslmode=disable to a remote host',
    env: { DATABASE_URL: url('db.example.com/todo?sslmode=disable') },
    code: 'INSECURE_CONNECTION_REFUSED',
    says: /not a local host/,
  },
  {
    name: 'an invalid DIRECT_DATABASE_URL',
    env: { DATABASE_URL: url('localhost/todo'), DIRECT_DATABASE_URL: `mysql://app:${SECRET}@localhost/todo` },
    code: 'DATABASE_URL_INVALID',
    says: /DIRECT_DATABASE_URL uses the scheme mysql/,
  },
  { name: 'an empty --database-url', args: ['--database-url', ''], code: 'DATABASE_URL_INVALID', says: /--database-url is set but empty/ },
  {
    name: 'ENVIRONMENT=staging',
    env: { ENVIRONMENT: 'staging', DATABASE_URL: url('localhost/todo') },
    code: 'ENVIRONMENT_INVALID',
    says: /ENVIRONMENT must be one of development, test, production \(got "staging"\)/,
  },
  { name: 'ENVIRONMENT=staging from .env', cwd: () => envDir, code: 'ENVIRONMENT_INVALID', says: /got "staging"/ },
  { name: 'LOG_LEVEL=loud', env: { LOG_LEVEL: 'loud', DATABASE_URL: url('localhost/todo') }, code: 'LOG_LEVEL_INVALID', says: /LOG_LEVEL must be one of/ },
  {
    name: '--connect-timeout 0',
    args: ['--connect-timeout', '0'],
    env: { DATABASE_URL: url('localhost/todo') },
    code: 'USAGE_ERROR',
    says: /--connect-timeout must be a whole number/,
  },
  {
    name: 'a missing sslrootcert',
    env: { DATABASE_URL: url('localhost/todo?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem') },
    code: 'TLS_FILE_UNREADABLE',
    says: /sslrootcert=\/nonexistent\/ca.pem, which does not exist/,
  },
  {
    name: '--retries that is not a number',
    args: ['--retries', 'abc'],
    env: { DATABASE_URL: url('localhost/todo') },
    code: 'USAGE_ERROR',
    says: /--retries must be a whole number/,
  },
  {
    name: '--timeout 0',
    args: ['--timeout', '0'],
    env: { DATABASE_URL: url('localhost/todo') },
    code: 'USAGE_ERROR',
    says: /--timeout must be a whole number/,
  },
  { name: 'an unknown flag', args: ['--frobnicate'], env: { DATABASE_URL: url('localhost/todo') }, code: 'USAGE_ERROR', says: /unknown option '--frobnicate'/ },
];

describe('bad configuration', () => {
  it('has a matrix of at least 20 cases', () => expect(MATRIX.length).toBeGreaterThanOrEqual(20));

  it.concurrent.each(MATRIX)('$name: exit 2, one clear line, no stack, no password', async ({ args = [], env = {}, cwd, code, says }) => {
    const human = await runCli(['check-connection', ...args], { env, cwd: cwd?.() });
    expect(human.code).toBe(2);
    const errorLines = human.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(says);
    expect(human.stderr).not.toMatch(/^\s+at /m);
    expect(human.stdout + human.stderr).not.toContain(SECRET);

    const json = await runCli(['check-connection', '--json', ...args], { env, cwd: cwd?.() });
    expect(json.code).toBe(2);
    expect(json.json()).toMatchObject({ ok: false, command: 'check-connection', status_code: 400, data: null, error: { code } });
    expect(json.stdout + json.stderr).not.toContain(SECRET);
  });
});
