import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyLocalServer, ensureLocalServer, stopLocalServer } from '../src/local/index.js';
import { type CliResult, runCli } from './helpers/cli.js';
import { adminUrl, createTestDatabase } from './helpers/database.js';

const SECRET = 'Wr0ng-Distinctive-Pw';

let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await createTestDatabase('check');
});

function expectNoSecret(result: CliResult, secret: string) {
  expect(result.stdout + result.stderr).not.toContain(secret);
}

function attemptLines(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => /^attempt \d+\/\d+ failed/.test(line));
}

describe('check-connection against the test server', () => {
  it('reports version, database, user, TLS and latency', async () => {
    const result = await runCli(['check-connection'], { env: { DATABASE_URL: databaseUrl } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const database = new URL(databaseUrl).pathname.slice(1);
    expect(result.stdout).toMatch(/^ok Connected to PostgreSQL \d+\.\d+/);
    expect(result.stdout).toMatch(new RegExp(`database\\s+${database}`));
    expect(result.stdout).toMatch(/TLS\s+no/);
    expect(result.stdout).toMatch(/latency\s+\d+\.\d+ ms/);
    expectNoSecret(result, new URL(databaseUrl).password);
  });

  it('gives one JSON envelope with --json', async () => {
    const result = await runCli(['check-connection', '--json'], { env: { DATABASE_URL: databaseUrl } });
    expect(result.code).toBe(0);
    const envelope = result.json();
    expect(envelope).toMatchObject({ ok: true, command: 'check-connection', status_code: 200, error: null });
    expect(envelope.data).toMatchObject({ database: new URL(databaseUrl).pathname.slice(1), user: adminUrl().username, tls: false, attempts: 1 });
    expect(envelope.data.serverVersion).toMatch(/^\d+\.\d+/);
    expect(envelope.data.latencyMs).toBeGreaterThan(0);
    expectNoSecret(result, new URL(databaseUrl).password);
  });
});

describe('configuration files', () => {
  it('reads DATABASE_URL from the file named by --env-file, below the process environment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'todo-db-envfile-'));
    await writeFile(join(dir, 'ci.env'), `DATABASE_URL=${databaseUrl}\nENVIRONMENT=test\n`);
    const fromFile = await runCli(['check-connection', '--env-file', join(dir, 'ci.env'), '--json']);
    expect(fromFile.code).toBe(0);
    expect(fromFile.json().data.database).toBe(new URL(databaseUrl).pathname.slice(1));

    const overridden = await runCli(['check-connection', '--env-file', join(dir, 'ci.env')], { env: { DATABASE_URL: 'postgresql://nobody@127.0.0.1:9/none' } });
    expect(overridden.code).toBe(1);
    expect(overridden.stderr).toMatch(/127\.0\.0\.1:9/);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('check-connection failures: right code, clear message, no retry', () => {
  let garbage: Server;
  let garbagePort: number;
  const sockets = new Set<Socket>();
  let closedPort: number;

  beforeAll(async () => {
    garbage = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      socket.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      socket.end();
    });
    garbagePort = await listen(garbage);
    const probe = createServer();
    closedPort = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => garbage.close(resolve));
  });

  const withUrl = (mutate: (url: URL) => void) => {
    const url = new URL(databaseUrl);
    mutate(url);
    return url.toString();
  };

  const cases = [
    {
      name: 'a wrong password',
      url: () => withUrl((u) => (u.password = SECRET)),
      code: 'AUTH_FAILED',
      says: () => new RegExp(`rejected the password for user "${adminUrl().username}"`),
    },
    {
      name: 'a missing database',
      url: () => withUrl((u) => (u.pathname = '/no_such_database')),
      code: 'DATABASE_NOT_FOUND',
      says: () => /Database "no_such_database" does not exist.*createdb/s,
    },
    {
      name: 'a port with nothing listening',
      url: () =>
        withUrl((u) => {
          u.password = SECRET;
          u.port = String(closedPort);
        }),
      code: 'CONNECTION_REFUSED',
      transient: true,
      says: () => new RegExp(`127\\.0\\.0\\.1:${closedPort}\\. Is the server running\\?`),
    },
    {
      name: 'an unknown host',
      url: () => `postgresql://app:${SECRET}@db.todo-db-test.invalid:5432/todo`,
      code: 'HOST_NOT_FOUND',
      says: () => /"db\.todo-db-test\.invalid" could not be resolved/,
    },
    {
      name: 'a server that is not PostgreSQL',
      url: () =>
        withUrl((u) => {
          u.password = SECRET;
          u.port = String(garbagePort);
        }),
      code: 'NOT_POSTGRES',
      says: () => new RegExp(`127\\.0\\.0\\.1:${garbagePort} did not answer like PostgreSQL`),
    },
  ];

  // Fatal failures are never retried, even with --retries; a refused connection is transient, so it is
  // retried only on request (production, or --retries), and development fails at once.
  it.each(cases)('$name', async ({ url, code, says, transient }) => {
    const retries = transient ? [] : ['--retries', '3'];
    const human = await runCli(['check-connection', ...retries], { env: { DATABASE_URL: url() }, timeoutMs: 30_000 });
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(says());
    expect(human.stderr).not.toMatch(/^\s+at /m);
    expect(attemptLines(human)).toHaveLength(1);
    expect(attemptLines(human)[0]).toMatch(/no retry$/);
    expectNoSecret(human, SECRET);

    const json = await runCli(['check-connection', '--json'], { env: { DATABASE_URL: url() }, timeoutMs: 30_000 });
    expect(json.code).toBe(1);
    const envelope = json.json();
    expect(envelope).toMatchObject({ ok: false, status_code: 503, data: null });
    expect(envelope.error.code).toMatch(new RegExp(`^(${code})$`));
    expect(envelope.error.hint.length).toBeGreaterThan(10);
    expectNoSecret(json, SECRET);
  });
});

describe('check-connection with retries', () => {
  let dir: string;
  afterAll(async () => {
    await destroyLocalServer({ dir });
  });

  it('succeeds when the server only comes up 2 s after the command starts', async () => {
    dir = await mkdtemp(join(tmpdir(), 'todo-db-late-'));
    const server = await ensureLocalServer({ dir });
    await stopLocalServer({ dir });

    const started = Date.now();
    // Enough retries that no draw of the jitter uses them all up before the server is back (see retry.test.ts).
    const command = runCli(['check-connection', '--retries', '30', '--timeout', '45000'], { env: { DATABASE_URL: server.url } });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await ensureLocalServer({ dir });
    const result = await command;

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Connected to PostgreSQL/);
    const attempts = attemptLines(result);
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(attempts[0]).toMatch(/^attempt 1\/31 failed: CONNECTION_REFUSED .*retrying in \d+\.\d s$/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expectNoSecret(result, server.password);
  });

  it('fails fast in development without --retries', async () => {
    const url = new URL(databaseUrl);
    url.port = '9';
    const result = await runCli(['check-connection'], { env: { DATABASE_URL: url.toString() } });
    expect(result.code).toBe(1);
    expect(attemptLines(result)).toEqual([expect.stringMatching(/^attempt 1\/1 failed: CONNECTION_REFUSED/)]);
  });

  it('retries 5 attempts by default in production, within the deadline', async () => {
    const url = new URL(databaseUrl);
    url.port = '9';
    const result = await runCli(['check-connection', '--timeout', '3000'], { env: { DATABASE_URL: url.toString(), ENVIRONMENT: 'production' } });
    expect(result.code).toBe(1);
    const attempts = attemptLines(result);
    expect(attempts[0]).toMatch(/^attempt 1\/5 failed/);
    expect(result.stderr).toMatch(/Gave up|no retry/);
  });
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}
