import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyLocalServer } from '../src/local/index.js';
import { runCli } from './helpers/cli.js';

/**
 * The local database as a user meets it: through the CLI, with no DATABASE_URL, in its own directory (a
 * mkdtemp directory is mode 0700, which is exactly the case where the postgres user cannot reach it).
 */
let dir: string;
const env = () => ({ TODO_DB_LOCAL_DIR: dir });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'todo-db-local-cli-'));
});
afterAll(async () => {
  await destroyLocalServer({ dir });
});

async function postmasterPid(): Promise<number> {
  const status = await runCli(['local', 'status', '--json'], { env: env() });
  return status.json().data.pid;
}

describe('local database through the CLI', () => {
  it('two `local start` at once give one server and two exit codes 0', async () => {
    const [first, second] = await Promise.all([runCli(['local', 'start', '--json'], { env: env() }), runCli(['local', 'start', '--json'], { env: env() })]);
    expect([first.code, second.code]).toEqual([0, 0]);
    const servers = [first.json().data, second.json().data];
    expect(servers[0].port).toBe(servers[1].port);
    expect(servers.filter((server) => server.started)).toHaveLength(1);
    expect(first.stdout + second.stdout).not.toMatch(/password/i);
  });

  it('says once, on stderr, that a command uses the local database', async () => {
    const result = await runCli(['check-connection', '--json'], { env: env() });
    expect(result.code).toBe(0);
    expect(result.stderr.match(/Using the local database/g)).toHaveLength(1);
    expect(result.json().data.target).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('`local url` redacts the password unless --show-password is given', async () => {
    const redacted = await runCli(['local', 'url'], { env: env() });
    expect(redacted.stdout.trim()).toMatch(/^postgresql:\/\/todo:\*\*\*\*@127\.0\.0\.1:\d+\/todo$/);
    const shown = await runCli(['local', 'url', '--show-password'], { env: env() });
    const password = new URL(shown.stdout.trim()).password;
    expect(password.length).toBeGreaterThanOrEqual(16);
    for (const command of [
      ['local', 'status'],
      ['local', 'status', '--json'],
      ['check-connection', '--verbose'],
    ]) {
      const result = await runCli(command, { env: env() });
      expect(result.stdout + result.stderr, command.join(' ')).not.toContain(password);
    }
  });

  it('after `local stop`, a command that needs it starts it again', async () => {
    const stop = await runCli(['local', 'stop'], { env: env() });
    expect(stop.code).toBe(0);
    expect((await runCli(['local', 'status', '--json'], { env: env() })).json().data.running).toBe(false);
    const check = await runCli(['check-connection'], { env: env() });
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/Connected to PostgreSQL 18/);
  });

  it('after kill -9 of its postmaster, the next command works', async () => {
    const pid = await postmasterPid();
    process.kill(pid, 'SIGKILL');
    const check = await runCli(['check-connection', '--json'], { env: env() });
    expect(check.stderr).not.toMatch(/^\s+at /m);
    expect(check.code).toBe(0);
    expect(await postmasterPid()).not.toBe(pid);
  });
});
