// Helpers shared by the benchmarks: flags, the local server, timing whole processes, medians, scratch databases.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const cli = ['bin/todo-db.js'];

/** The value after `--name`, or `fallback` when the flag is absent. */
export function stringFlag(name, fallback = null, argv = process.argv) {
  const at = argv.indexOf(name);
  return at === -1 ? fallback : argv[at + 1];
}

/** The value after `--name` as a positive integer, or `fallback` when the flag is absent. */
export function intFlag(name, fallback, argv = process.argv) {
  const given = stringFlag(name, null, argv);
  if (given === null) return fallback;
  const value = Number(given);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} needs a positive integer, got ${given}`);
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

/** Samples by name as `{ name: { medianMs, samplesMs } }`, rounded to 0.1 ms. */
export const summarize = (samples) =>
  Object.fromEntries(Object.entries(samples).map(([name, ms]) => [name, { medianMs: +median(ms).toFixed(1), samplesMs: ms.map((v) => +v.toFixed(1)) }]));

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

/**
 * Times each pair's target and baseline processes, interleaved run by run so machine noise hits both alike,
 * after one warm-up of each. A pair without a baseline is reported alone.
 */
export function comparePairs(pairs, runs, env) {
  const timeNode = (args) => time(process.execPath, args, { env });
  return pairs.map((pair) => {
    const target = [];
    const baseline = [];
    pair.before?.();
    timeNode(pair.target);
    if (pair.baseline) timeNode(pair.baseline);
    for (let i = 0; i < runs; i++) {
      pair.before?.();
      target.push(timeNode(pair.target));
      if (pair.baseline) baseline.push(timeNode(pair.baseline));
    }
    const row = { command: `todo-db ${pair.name}`, medianMs: +median(target).toFixed(1) };
    if (!pair.baseline) return row;
    const ratio = median(target) / median(baseline);
    return {
      ...row,
      baseline: pair.baselineName,
      baselineMedianMs: +median(baseline).toFixed(1),
      ratio: +ratio.toFixed(2),
      target: pair.limit,
      met: ratio <= pair.limit,
    };
  });
}

export function printReport(header, report) {
  console.log(header);
  for (const r of report) {
    const side = r.baseline
      ? `   ${r.baseline.padEnd(24)} ${String(r.baselineMedianMs).padStart(7)} ms   ratio ${r.ratio.toFixed(2)} (target <= ${r.target}) ${r.met ? 'met' : 'MISSED'}`
      : '';
    console.log(`${r.command.padEnd(36)} ${String(r.medianMs).padStart(7)} ms${side}`);
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
}

/**
 * Builds todo-db as it was at a git revision, with today's node_modules, so a figure can show before and after
 * side by side in one run. The build lives under node_modules/.cache (ignored by git), where module resolution
 * still finds the project's node_modules. Returns the revision's CLI entry point and its commit.
 */
export function buildRevision(revision) {
  const commit = execFileSync('git', ['rev-parse', '--short', revision], { cwd: root }).toString().trim();
  const dir = join(root, 'node_modules', '.cache', 'todo-db-bench', commit);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // What its build reads; the type declarations' tsconfig came later (a revision without it builds without it).
  const paths = ['src', 'bin', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.types.json'].filter((path) => existsAt(commit, path));
  execFileSync('sh', ['-c', `git archive ${commit} ${paths.join(' ')} | tar -x -C "${dir}"`], { cwd: root });
  // The Prisma client is generated, not committed; the schema it comes from is the same.
  cpSync(join(root, 'src', 'generated'), join(dir, 'src', 'generated'), { recursive: true });
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: dir, stdio: 'inherit' });
  return { cli: [join(dir, 'bin', 'todo-db.js')], commit };
}

function existsAt(commit, path) {
  return spawnSync('git', ['cat-file', '-e', `${commit}:${path}`], { cwd: root }).status === 0;
}
