import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from './helpers/cli.js';
import { adminQuery, adminUrl } from './helpers/database.js';

/**
 * The password must never leave todo-db: not in any output, JSON document or report, whatever fails, whatever
 * characters it holds, and however it was given (the environment, --database-url, .env).
 */

/** Every character that has a meaning in a URL or a .env file, between two distinctive halves. */
const SPECIALS = ['/', '?', '#', '@', ':', '%', '&', '=', '+', ' ', "'"];
const HEAD = 'Kx7Wq';
const TAIL = 'Vb3Np';
const SECRET = `${HEAD}${SPECIALS.join('')}${TAIL}`;
type Channel = 'environment' | 'flag' | '.env';
const CHANNELS: Channel[] = ['environment', 'flag', '.env'];

let role: string;
let database: string;
let work: string;
beforeAll(async () => {
  const suffix = randomBytes(4).toString('hex');
  role = `secret_${suffix}`;
  database = `secrets_${suffix}`;
  work = await mkdtemp(join(tmpdir(), 'todo-db-secrets-'));
  // CREATEDB: migrate diff and inspect-indexes build their shadow databases with this role.
  await adminQuery(`create role ${role} login createdb password '${SECRET.replace(/'/g, "''")}'`);
  await adminQuery(`create database ${database} owner ${role}`);
});
afterAll(async () => {
  await adminQuery(`drop database if exists ${database} with (force)`);
  await adminQuery(`drop role if exists ${role}`);
});

type Mode = 'unreachable' | 'wrong password' | 'missing database' | 'success';

function urlFor(mode: Mode, password = encodeURIComponent(SECRET)): string {
  const server = adminUrl();
  const user = mode === 'wrong password' ? server.username : role;
  const port = mode === 'unreachable' ? '9' : server.port;
  return `postgresql://${user}:${password}@${server.hostname}:${port}/${mode === 'missing database' ? 'no_such_database_for_secrets' : database}`;
}

/** The same URL given three ways; a .env file gets a directory of its own. */
async function given(channel: Channel, url: string, args: string[]): Promise<{ args: string[]; env: Record<string, string>; cwd?: string }> {
  if (channel === 'environment') return { args, env: { DATABASE_URL: url } };
  if (channel === 'flag') return { args: [...args, '--database-url', url], env: {} };
  const cwd = await mkdtemp(join(work, 'env-'));
  await writeFile(join(cwd, '.env'), `DATABASE_URL=${url}\n`);
  return { args, env: {}, cwd };
}

/** Every command, with what it needs; the JUnit report goes to a file of its own per run. */
function commands(label: string): Array<{ name: string; args: string[]; files: string[] }> {
  const junit = join(work, `smoke-${label.replace(/\W+/g, '-')}.xml`);
  return [
    { name: 'check-connection', args: ['check-connection'], files: [] },
    { name: 'migrate up', args: ['migrate', 'up'], files: [] },
    { name: 'migrate status', args: ['migrate', 'status'], files: [] },
    { name: 'migrate diff', args: ['migrate', 'diff'], files: [] },
    { name: 'seed-dev', args: ['seed-dev'], files: [] },
    { name: 'smoke', args: ['smoke', '--junit', junit], files: [junit] },
    { name: 'health', args: ['health'], files: [] },
    { name: 'inspect-indexes', args: ['inspect-indexes'], files: [] },
    { name: 'migrate down', args: ['migrate', 'down', '--steps', '1'], files: [] },
    { name: 'migrate create', args: ['migrate', 'create', 'secret probe', '--migrations-dir', join(work, `created-${label.replace(/\W+/g, '-')}`)], files: [] },
    { name: 'setup', args: ['setup'], files: [] },
  ];
}

/** Neither half may appear, in any form: a password cut at a special character leaks only part of itself. */
async function expectNoSecret(label: string, result: CliResult, files: string[]): Promise<void> {
  for (const half of [HEAD, TAIL]) {
    expect(result.stdout, `${label} stdout`).not.toContain(half);
    expect(result.stderr, `${label} stderr`).not.toContain(half);
  }
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    expect(text, `${label} ${file}`).not.toContain(HEAD);
    expect(text, `${label} ${file}`).not.toContain(TAIL);
  }
}

async function limited<T>(tasks: Array<() => Promise<T>>, concurrency: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

describe('no command reveals the password', () => {
  it('in every failure mode (--json, verbose) and on success (human output, verbose)', async () => {
    const failures: Mode[] = ['unreachable', 'wrong password', 'missing database'];
    const runs = failures.flatMap((mode, m) =>
      commands(mode).map(({ name, args, files }, c) => async () => {
        const channel = CHANNELS[(m + c) % CHANNELS.length] as Channel;
        const run = await given(channel, urlFor(mode), [...args, '--json', '-v']);
        const result = await runCli(run.args, { env: run.env, cwd: run.cwd });
        const label = `${name} (${mode}, ${channel})`;
        await expectNoSecret(label, result, files);
        if (name !== 'migrate create') expect(result.code, `${label}: ${result.stderr}`).not.toBe(0);
        expect(() => result.json(), label).not.toThrow();
        return label;
      }),
    );
    const started = Date.now();
    expect(await limited(runs, 3)).toHaveLength(failures.length * 11);

    // Success, in order: each command finds the database as the one before left it.
    for (const [c, { name, args, files }] of commands('success').entries()) {
      const channel = CHANNELS[c % CHANNELS.length] as Channel;
      const run = await given(channel, urlFor('success'), [...args, '-v']);
      const result = await runCli(run.args, { env: run.env, cwd: run.cwd });
      await expectNoSecret(`${name} (success, ${channel})`, result, files);
      expect(result.code, `${name}: ${result.stderr}`).toBe(0);
      for (const file of files) expect(await readFile(file, 'utf8'), file).toMatch(/<testsuite/);
    }
    console.info(`secrets: ${failures.length * 11 + 11} runs in ${Date.now() - started} ms`);
  }, 120_000);
});

describe('a raw special character in the password', () => {
  it.each(SPECIALS)('%j: in the environment, a flag or .env, is used or refused, and never shown', async (special) => {
    const password = `${HEAD}${special}${TAIL}`;
    for (const channel of CHANNELS) {
      const run = await given(channel, urlFor('unreachable', password), ['check-connection', '--json', '-v']);
      const result = await runCli(run.args, { env: run.env, cwd: run.cwd });
      const label = `${JSON.stringify(special)} raw in ${channel}`;
      await expectNoSecret(label, result, []);
      expect(result.code, label).not.toBe(0);
      expect(result.json().error.code, label).not.toBe('INTERNAL_ERROR');
    }
  });

  it('with every special character at once, for every command', async () => {
    const runs = commands('raw').map(({ name, args, files }, c) => async () => {
      const channel = CHANNELS[c % CHANNELS.length] as Channel;
      const run = await given(channel, urlFor('success', SECRET), [...args, '--json', '-v']);
      const result = await runCli(run.args, { env: run.env, cwd: run.cwd });
      await expectNoSecret(`${name} (raw, ${channel})`, result, files);
      expect(result.json().error?.code, name).toMatch(/^(DATABASE_URL_INVALID|ENV_VALUE_CUT)$/);
      return name;
    });
    expect(await limited(runs, 3)).toHaveLength(11);
  }, 60_000);
});
