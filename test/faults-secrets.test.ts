import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './helpers/cli.js';
import { adminQuery, adminUrl } from './helpers/database.js';

/** The password must never leave todo-db: not in any output, JSON document or report, whatever fails. */

const SECRET = 'S3cr3t-Pa55-XYZ';

let role: string;
let database: string;
let work: string;
beforeAll(async () => {
  const suffix = randomBytes(4).toString('hex');
  role = `secret_${suffix}`;
  database = `secrets_${suffix}`;
  work = await mkdtemp(join(tmpdir(), 'todo-db-secrets-'));
  // CREATEDB: migrate diff and inspect-indexes build their shadow databases with this role.
  await adminQuery(`create role ${role} login createdb password '${SECRET}'`);
  await adminQuery(`create database ${database} owner ${role}`);
});
afterAll(async () => {
  await adminQuery(`drop database if exists ${database} with (force)`);
  await adminQuery(`drop role if exists ${role}`);
});

type Mode = 'unreachable' | 'wrong password' | 'missing database' | 'success';

function urlFor(mode: Mode): string {
  const url = adminUrl();
  url.password = SECRET;
  url.username = mode === 'wrong password' ? url.username : role;
  url.pathname = `/${mode === 'missing database' ? 'no_such_database_for_secrets' : database}`;
  if (mode === 'unreachable') url.port = '9';
  return url.toString();
}

/** Every command, with what it needs; the JUnit report goes to a file of its own per run. */
function commands(label: string): Array<{ name: string; args: string[]; files: string[] }> {
  const junit = join(work, `smoke-${label.replace(/\W+/g, '-')}.xml`);
  return [
    { name: 'check-connection', args: ['check-connection'], files: [] },
    { name: 'migrate up', args: ['migrate', 'up'], files: [] },
    { name: 'migrate status', args: ['migrate', 'status'], files: [] },
    { name: 'migrate diff', args: ['migrate', 'diff'], files: [] },
    { name: 'seed-dev', args: ['seed-dev', '--bcrypt-cost', '4'], files: [] },
    { name: 'smoke', args: ['smoke', '--junit', junit], files: [junit] },
    { name: 'health', args: ['health'], files: [] },
    { name: 'inspect-indexes', args: ['inspect-indexes'], files: [] },
    { name: 'migrate down', args: ['migrate', 'down', '--steps', '1'], files: [] },
    { name: 'migrate create', args: ['migrate', 'create', 'secret probe', '--migrations-dir', join(work, `created-${label.replace(/\W+/g, '-')}`)], files: [] },
    { name: 'setup', args: ['setup'], files: [] },
  ];
}

async function expectNoSecret(label: string, result: CliResult, files: string[]): Promise<void> {
  expect(result.stdout, `${label} stdout`).not.toContain(SECRET);
  expect(result.stderr, `${label} stderr`).not.toContain(SECRET);
  // Also percent-encoded, in case a URL is echoed in another form.
  expect(result.stdout + result.stderr, label).not.toContain(encodeURIComponent(SECRET).replace(/-/g, '%2D'));
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    expect(text, `${label} ${file}`).not.toContain(SECRET);
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
    const runs = failures.flatMap((mode) =>
      commands(mode).map(({ name, args, files }) => async () => {
        const result = await runCli([...args, '--json', '-v'], { env: { DATABASE_URL: urlFor(mode) } });
        const label = `${name} (${mode})`;
        await expectNoSecret(label, result, files);
        if (name !== 'migrate create') expect(result.code, `${label}: ${result.stderr}`).not.toBe(0);
        expect(() => result.json(), label).not.toThrow();
        return label;
      }),
    );
    const started = Date.now();
    expect(await limited(runs, 3)).toHaveLength(failures.length * 11);

    // Success, in order: each command finds the database as the one before left it.
    for (const { name, args, files } of commands('success')) {
      const result = await runCli([...args, '-v'], { env: { DATABASE_URL: urlFor('success') } });
      await expectNoSecret(`${name} (success)`, result, files);
      expect(result.code, `${name}: ${result.stderr}`).toBe(0);
      for (const file of files) expect(await readFile(file, 'utf8'), file).toMatch(/<testsuite/);
    }
    console.info(`secrets: ${failures.length * 11 + 11} runs in ${Date.now() - started} ms`);
  }, 120_000);
});
