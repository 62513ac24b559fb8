// Helpers shared by the benchmarks: flags, the local server, timing whole processes, medians, scratch databases.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const cli = ['bin/todo-db.js'];

/** The value after `--name` as a positive integer, or `fallback` when the flag is absent. */
export function intFlag(name, fallback, argv = process.argv) {
  const at = argv.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} needs a positive integer, got ${argv[at + 1]}`);
  return value;
}

/** This process's environment without DATABASE_URL, so that no command picks up a URL by accident. */
export function cleanEnv() {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  return env;
}

/** Starts the embedded local PostgreSQL (a no-op when it runs already) and returns its URL, password included. */
export function startLocal(env = cleanEnv()) {
  execFileSync(process.execPath, [...cli, 'local', 'start', '--quiet'], { cwd: root, env, stdio: 'inherit' });
  const local = JSON.parse(execFileSync(process.execPath, [...cli, 'local', 'url', '--show-password', '--json'], { cwd: root, env }).toString());
  return local.data.url;
}

/** Runs a whole process to its end; returns spawnSync's result plus its wall time in ms. */
export function run(command, args, { env, cwd = root, stdout = 'pipe' } = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd, env, stdio: ['ignore', stdout, 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.error) throw result.error;
  return { ...result, ms };
}

/** Wall time in ms of a whole process, which must exit 0; its stdout is discarded. */
export function time(command, args, options = {}) {
  const result = run(command, args, { ...options, stdout: 'ignore' });
  if (result.status !== 0) throw new Error(`${[command, ...args].join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.ms;
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** The same URL pointing at another database on the same server. */
export function databaseUrl(url, database) {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Runs `fn(client)` on one connection to `url`, then closes it. */
export async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const ident = (name) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe database name: ${name}`);
  return `"${name}"`;
};

/** Creates an empty database on the server of `url` (dropping a leftover of the same name first); returns its URL. */
export async function createDatabase(url, name) {
  await withClient(url, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${ident(name)}`);
  });
  return databaseUrl(url, name);
}

export async function dropDatabases(url, names) {
  await withClient(url, async (client) => {
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
  });
}
