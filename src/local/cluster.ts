/**
 * Creating the cluster: where its data goes (somewhere the server user can reach), initdb with a generated
 * password, and the `todo` database once the server runs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Binaries } from './binaries.js';
import { errnoCode, localFailed } from './errors.js';
import { dataDirIn, dirHash, logFileIn } from './paths.js';
import { run } from './process.js';
import type { LocalState } from './state.js';
import { type RunAs, unreachableReason } from './user.js';

const DB_USER = 'todo';
const DB_NAME = 'todo';

/**
 * The local dir itself when the server user can enter it; otherwise a per-local-dir folder under /var/lib/todo-db
 * (or the temp dir), because a clone under a 0700 directory cannot host a cluster owned by another user.
 */
export async function chooseClusterDir(dir: string, as: RunAs | undefined): Promise<string> {
  const here = unreachableReason(dir, as, { exec: true });
  if (!here) return dir;
  const reasons = [here];
  const name = dirHash(dir).slice(0, 16);
  for (const root of ['/var/lib/todo-db', path.join(os.tmpdir(), 'todo-db-data')]) {
    const candidate = path.join(root, name);
    try {
      await mkdir(candidate, { recursive: true, mode: 0o755 });
      await chmod(root, 0o755);
      await chmod(candidate, 0o755);
    } catch (error) {
      reasons.push(`cannot create ${candidate}: ${errnoCode(error) ?? (error as Error).message}`);
      continue;
    }
    const why = unreachableReason(candidate, as, { exec: true });
    if (!why) return candidate;
    reasons.push(why);
  }
  throw localFailed(
    `The local database cannot keep its data for ${dir}: the ${as?.name} OS user that runs PostgreSQL cannot reach it (${reasons.join('; ')}).`,
    `Give ${as?.name} search permission on every parent of ${dir} (chmod o+x), pass --local-dir with a reachable path, or set DATABASE_URL.`,
  );
}

/** The data dir (empty, 0700, owned by the server user) and the log file (owned by it too, since pg_ctl writes it). */
export async function prepareClusterFiles(state: LocalState, as: RunAs | undefined): Promise<void> {
  await rm(state.dataDir, { recursive: true, force: true }); // a half-made cluster from an interrupted initdb
  await mkdir(state.dataDir, { mode: 0o700 });
  await ensureLogFile(state.logFile, as);
  if (as) await chown(state.dataDir, as.uid, as.gid);
}

export async function ensureLogFile(logFile: string, as: RunAs | undefined): Promise<void> {
  await rotateIfLarge(logFile);
  const handle = await open(logFile, 'a', 0o600);
  await handle.close();
  if (as) await chown(logFile, as.uid, as.gid);
}

async function rotateIfLarge(logFile: string): Promise<void> {
  try {
    if ((await stat(logFile)).size < 10 * 1024 * 1024) return;
  } catch {
    return;
  }
  await rm(`${logFile}.old`, { force: true });
  await rename(logFile, `${logFile}.old`);
}

export function newState(clusterDir: string, port: number, binDir: string): LocalState {
  return {
    version: 1,
    port,
    user: DB_USER,
    // base64url: no characters that need escaping in a URL, a shell or a pwfile
    password: randomBytes(24).toString('base64url'),
    database: DB_NAME,
    clusterDir,
    dataDir: dataDirIn(clusterDir),
    logFile: logFileIn(clusterDir),
    binDir,
    initialised: false,
    databaseCreated: false,
  };
}

export async function initdb(state: LocalState, bins: Binaries, as: RunAs | undefined, deadline: number): Promise<void> {
  const pwfile = path.join(state.clusterDir, `.pwfile-${randomBytes(6).toString('hex')}`);
  await writeFile(pwfile, `${state.password}\n`, { mode: 0o600 });
  try {
    if (as) await chown(pwfile, as.uid, as.gid);
    const args = [
      '-D',
      state.dataDir,
      '--auth=scram-sha-256',
      `--username=${state.user}`,
      `--pwfile=${pwfile}`,
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ];
    // Ended by a signal, initdb would go on filling the data dir after we exit, and the pwfile keep the password.
    const removeHalfMade = async () => {
      await rm(state.dataDir, { recursive: true, force: true });
      await rm(pwfile, { force: true });
    };
    const undo = { what: `the half-made local database in ${state.dataDir}`, after: removeHalfMade };
    const result = await run(bins.initdb, args, { as, timeoutMs: deadline - Date.now(), undo });
    if (result.code === 0) return;
    throw localFailed(
      result.timedOut
        ? `initdb did not finish before the deadline while creating the local database in ${state.dataDir}.`
        : `initdb failed to create the local database in ${state.dataDir}: ${lastLines(result.output, 15)}`,
      `Check that ${state.dataDir} is writable by ${as?.name ?? 'you'} and that the disk is not full, then run \`todo-db local start\` again.`,
    );
  } finally {
    await rm(pwfile, { force: true });
  }
}

/** CREATE DATABASE todo, connecting as the bootstrap superuser to the `postgres` database. */
export async function createDatabase(state: LocalState, deadline: number): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    host: '127.0.0.1',
    port: state.port,
    user: state.user,
    password: state.password,
    database: 'postgres',
    connectionTimeoutMillis: Math.max(1000, deadline - Date.now()),
  });
  try {
    await client.connect();
    const exists = await client.query('select 1 from pg_database where datname = $1', [state.database]);
    if (exists.rowCount === 0) await client.query(`create database "${state.database.replaceAll('"', '""')}"`);
  } catch (error) {
    throw localFailed(
      `The local PostgreSQL started but creating the "${state.database}" database failed: ${(error as Error).message}.`,
      'Run `todo-db local start` again; if it keeps failing, run `todo-db local stop` and delete the local dir to start afresh.',
      error,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const isClusterPresent = (dataDir: string): boolean => existsSync(path.join(dataDir, 'PG_VERSION'));

export function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join('\n');
}
