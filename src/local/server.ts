/**
 * The public operations on the local server. The fast path (a server already running) reads two small files and
 * /proc and imports nothing heavy; initdb and start happen under the lock, with one deadline for everything.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Binaries, binariesIn, missingLibraryLinks, resolveBinaries } from './binaries.js';
import { chooseClusterDir, createDatabase, ensureLogFile, initdb, isClusterPresent, newState, prepareClusterFiles } from './cluster.js';
import { errnoCode, localFailed, localUnavailable } from './errors.js';
import { isPortFree, pickPort } from './ports.js';
import { pgCtlStart, removeStalePidFile, StartFailed, stopPostmaster, waitUntilSettled } from './postmaster.js';
import { isPostgresFor, orphanedChildren, postgresProcessesFor, readPostmasterPid, sleep } from './process.js';
import { withLock } from './start-lock.js';
import { type LocalState, readState, serverUrl, writeState } from './state.js';
import { type RunAs, serverUser, unreachableReason } from './user.js';

type Log = ((line: string) => void) | undefined;

export interface LocalServer {
  dir: string;
  dataDir: string;
  host: '127.0.0.1';
  port: number;
  user: string;
  password: string;
  database: string;
  url: string;
  pid?: number;
}

export interface LocalServerOptions {
  dir: string;
  timeoutMs?: number;
  log?: (line: string) => void;
}

const DEFAULT_START_TIMEOUT_MS = 60_000;
const DEFAULT_STOP_TIMEOUT_MS = 30_000;

function toServer(dir: string, state: LocalState, pid: number | undefined): LocalServer {
  return {
    dir,
    dataDir: state.dataDir,
    host: '127.0.0.1',
    port: state.port,
    user: state.user,
    password: state.password,
    database: state.database,
    url: serverUrl(state),
    ...(pid ? { pid } : {}),
  };
}

export async function findRunningLocalServer(dir: string): Promise<LocalServer | undefined> {
  dir = path.resolve(dir);
  const state = await readState(dir);
  if (!state?.initialised || !state.databaseCreated) return undefined;
  const pm = readPostmasterPid(state.dataDir);
  if (pm?.status !== 'ready' || !isPostgresFor(pm.pid, state.dataDir)) return undefined;
  // The pid file is the truth about the port; it differs from the state only if someone started it by hand.
  return toServer(dir, { ...state, port: pm.port ?? state.port }, pm.pid);
}

export async function ensureLocalServer(opts: LocalServerOptions): Promise<LocalServer & { started: boolean; initialised: boolean }> {
  opts = { ...opts, dir: path.resolve(opts.dir) };
  const running = await findRunningLocalServer(opts.dir);
  if (running) {
    // A local dir made before todo-db wrote .gitignore files gets one now; the server is fine without it.
    await keepOutOfGit(opts.dir).catch((error: unknown) =>
      opts.log?.(
        `could not write ${path.join(opts.dir, '.gitignore')} (${errnoCode(error) ?? (error as Error).message}): keep ${opts.dir} out of git yourself, it holds the local password`,
      ),
    );
    return { ...running, started: false, initialised: false };
  }
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  await makeLocalDir(opts.dir);
  return withLock(opts.dir, deadline, opts.log, async () => {
    // Another process may have started it while we waited for the lock.
    const again = await findRunningLocalServer(opts.dir);
    if (again) return { ...again, started: false, initialised: false };
    return initialiseAndStart(opts.dir, deadline, opts.log);
  });
}

async function initialiseAndStart(dir: string, deadline: number, log: Log): Promise<LocalServer & { started: boolean; initialised: boolean }> {
  const as = serverUser();
  let state = await readState(dir);
  const initialising = !state?.initialised || !isClusterPresent(state.dataDir);
  let bins: Binaries;
  if (!state || initialising) {
    ({ state, bins } = await initialise(dir, state, as, deadline, log));
  } else {
    bins = await binariesFor(state, as, log);
    await checkReachable(state, as);
    await ensureLogFile(state.logFile, as);
    if (state.binDir !== bins.binDir) {
      state = { ...state, binDir: bins.binDir };
      await writeState(dir, state);
    }
  }
  // A server for this data dir may be starting or stopping (say, a stop by someone without our lock, or pg_ctl by hand).
  let pid = await waitUntilSettled(state.dataDir, deadline, log);
  const started = pid === undefined;
  if (pid === undefined) {
    log?.(`starting the local database on 127.0.0.1:${state.port}`);
    ({ state, pid } = await startWithRetries(dir, state, bins, as, deadline, log));
  }
  if (!state.databaseCreated) {
    await createDatabase(state, deadline);
    state = { ...state, databaseCreated: true };
    await writeState(dir, state);
  }
  return { ...toServer(dir, state, pid), started, initialised: initialising };
}

async function initialise(
  dir: string,
  previous: LocalState | undefined,
  as: RunAs | undefined,
  deadline: number,
  log: Log,
): Promise<{ state: LocalState; bins: Binaries }> {
  // A cluster left by a state file we lost (or a half-made one) may still be served: stop it before replacing it.
  if (previous) await stopLeftover(previous, as, deadline, log);
  const clusterDir = previous?.clusterDir && existsSync(previous.clusterDir) ? previous.clusterDir : await chooseClusterDir(dir, as);
  const bins = await resolveBinaries(as, log);
  const port = await pickPort(dir);
  if (port === undefined) throw noFreePort();
  const state = newState(clusterDir, port, bins.binDir);
  if (!previous) await stopLeftover(state, as, deadline, log);
  // Persist the password before initdb, so a crash in between never leaves a cluster nobody can log in to unnoticed.
  await writeState(dir, state);
  log?.(`initialising the local database in ${state.dataDir}`);
  await prepareClusterFiles(state, as);
  await initdb(state, bins, as, deadline);
  const done = { ...state, initialised: true };
  await writeState(dir, done);
  return { state: done, bins };
}

async function stopLeftover(state: LocalState, as: RunAs | undefined, deadline: number, log: Log): Promise<void> {
  const pm = readPostmasterPid(state.dataDir);
  if (!pm || !isPostgresFor(pm.pid, state.dataDir)) return;
  log?.(`stopping a leftover PostgreSQL (pid ${pm.pid}) on ${state.dataDir} before re-initialising it`);
  await stopPostmaster(state, existsSync(binariesIn(state.binDir).pgCtl) ? binariesIn(state.binDir) : undefined, pm.pid, as, deadline, log);
}

/** The binaries recorded at initdb if they are still there and whole (no import needed), else the installed package's. */
async function binariesFor(state: LocalState, as: RunAs | undefined, log: Log): Promise<Binaries> {
  const recorded = binariesIn(state.binDir);
  const usable =
    existsSync(recorded.pgCtl) &&
    missingLibraryLinks(path.dirname(recorded.binDir)).length === 0 &&
    !unreachableReason(recorded.pgCtl, as, { read: true, exec: true });
  if (usable) return recorded;
  return resolveBinaries(as, log);
}

async function checkReachable(state: LocalState, as: RunAs | undefined): Promise<void> {
  const why = unreachableReason(state.dataDir, as, {});
  if (!why) return;
  throw localFailed(
    `The local database's data directory ${state.dataDir} cannot be reached by the OS user that runs PostgreSQL: ${why}.`,
    `Restore search permission on its parent directories (chmod o+x), or delete the local dir to re-initialise elsewhere.`,
  );
}

/**
 * pg_ctl start, again while it may help and the deadline allows: after kill -9 the orphaned children hold the
 * shared memory for a moment, and the persisted port may have been taken by another program meanwhile.
 */
async function startWithRetries(
  dir: string,
  state: LocalState,
  bins: Binaries,
  as: RunAs | undefined,
  deadline: number,
  log: Log,
): Promise<{ state: LocalState; pid: number }> {
  state = await ensureFreePort(dir, state, [], log);
  for (let attempt = 1; ; attempt++) {
    await removeStalePidFile(state.dataDir, log);
    endOrphans(state.dataDir, log);
    try {
      return { state, pid: await pgCtlStart(state, bins, as, deadline) };
    } catch (error) {
      if (!(error instanceof StartFailed)) throw error;
      if (!error.retry || Date.now() + 500 > deadline) throw startError(state, error);
      log?.(`the local database did not start (attempt ${attempt}: ${error.reason}); retrying`);
      if (error.retry === 'port-busy') state = await ensureFreePort(dir, state, [state.port], log);
      await sleep(Math.min(250 * attempt, 1000));
    }
  }
}

/**
 * After kill -9 of the postmaster its children live on until they notice, holding the shared memory. They can do no
 * more useful work (the crash recovery of the next start redoes what they were doing), so end them.
 */
function endOrphans(dataDir: string, log: Log): void {
  const orphans = orphanedChildren(dataDir);
  if (orphans.length === 0) return;
  log?.(`ending ${orphans.length} leftover processes of a crashed PostgreSQL (pids ${orphans.join(', ')})`);
  for (const pid of orphans) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
}

async function ensureFreePort(dir: string, state: LocalState, avoid: number[], log: Log): Promise<LocalState> {
  if (!avoid.includes(state.port) && (await isPortFree(state.port))) return state;
  const port = await pickPort(dir, [...avoid, state.port]);
  if (port === undefined) throw noFreePort();
  log?.(`port ${state.port} is taken; the local database moves to port ${port}`);
  const next = { ...state, port };
  await writeState(dir, next);
  return next;
}

function startError(state: LocalState, error: StartFailed) {
  const leftovers = error.retry === 'transient' ? postgresProcessesFor(state.dataDir) : [];
  return localFailed(
    `The local PostgreSQL (data in ${state.dataDir}, port ${state.port}) failed to start:\n${error.detail}`,
    leftovers.length > 0
      ? `Old PostgreSQL processes (pids ${leftovers.join(', ')}) still use ${state.dataDir}: end them (kill ${leftovers.join(' ')}) and try again.`
      : `Read ${state.logFile}. Run \`todo-db local stop\` and try again; deleting the local dir re-initialises an empty database.`,
  );
}

function noFreePort() {
  return localUnavailable('No free TCP port on 127.0.0.1 for the local database in the range 54320-55319.', 'Stop some local servers, or set DATABASE_URL.');
}

async function makeLocalDir(dir: string): Promise<void> {
  try {
    // 0755: the postgres OS user may need to enter it to reach data/; state.json itself is 0600.
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await keepOutOfGit(dir);
  } catch (error) {
    throw localFailed(
      `Cannot create the local database directory ${dir} (${errnoCode(error) ?? (error as Error).message}).`,
      'Pass --local-dir (or TODO_DB_LOCAL_DIR) with a writable path, or set DATABASE_URL.',
      error,
    );
  }
}

/** What todo-db keeps in a local dir (see paths.ts, state.ts, cluster.ts); anything else means the folder is not only ours. */
const OWN_ENTRY = /^(state\.json(\..+)?|lock(\..+)?|data|postgres\.log(\.old)?|\.pwfile-.+|\.gitignore)$/;

/**
 * The local dir holds the password (state.json) and the whole cluster: a `*` .gitignore inside keeps it out of
 * git wherever it lives, with no line needed in the project's own .gitignore. Only in a folder that holds nothing
 * else: --local-dir pointed at a project folder must not hide that project from git.
 */
async function keepOutOfGit(dir: string): Promise<void> {
  const file = path.join(dir, '.gitignore');
  if (existsSync(file)) return;
  if (!(await readdir(dir)).every((entry) => OWN_ENTRY.test(entry))) return;
  await writeFile(file, '*\n', { flag: 'wx' }).catch((error: unknown) => {
    if (errnoCode(error) !== 'EEXIST') throw error; // EEXIST: a concurrent start wrote it
  });
}

export async function stopLocalServer(opts: LocalServerOptions): Promise<{ stopped: boolean }> {
  opts = { ...opts, dir: path.resolve(opts.dir) };
  const state = await readState(opts.dir);
  if (!state || !isRunning(state)) return { stopped: false };
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
  return withLock(opts.dir, deadline, opts.log, async () => {
    const pm = readPostmasterPid(state.dataDir);
    if (!pm || !isPostgresFor(pm.pid, state.dataDir)) return { stopped: false };
    opts.log?.(`stopping the local database (pid ${pm.pid})`);
    const as = serverUser();
    const bins = existsSync(binariesIn(state.binDir).pgCtl) ? binariesIn(state.binDir) : undefined;
    await stopPostmaster(state, bins, pm.pid, as, deadline, opts.log);
    return { stopped: true };
  });
}

function isRunning(state: LocalState): boolean {
  const pm = readPostmasterPid(state.dataDir);
  return !!pm && isPostgresFor(pm.pid, state.dataDir);
}

export async function localServerStatus(
  dir: string,
): Promise<{ dir: string; initialised: boolean; running: boolean; port?: number; pid?: number; dataDir?: string; url?: string }> {
  dir = path.resolve(dir);
  const state = await readState(dir);
  if (!state) return { dir, initialised: false, running: false };
  const initialised = state.initialised && state.databaseCreated && isClusterPresent(state.dataDir);
  const server = await findRunningLocalServer(dir);
  if (!server) return { dir, initialised, running: false, port: state.port, dataDir: state.dataDir, url: serverUrl(state) };
  return { dir, initialised, running: true, port: server.port, ...(server.pid ? { pid: server.pid } : {}), dataDir: state.dataDir, url: server.url };
}

/**
 * Stops the server and deletes everything it kept: the local dir and, when the data had to live elsewhere (see
 * chooseClusterDir), that folder too. For tests and for starting afresh; removing the local dir alone would leave
 * the cluster behind under /var/lib/todo-db.
 */
export async function destroyLocalServer(opts: LocalServerOptions): Promise<{ stopped: boolean }> {
  opts = { ...opts, dir: path.resolve(opts.dir) };
  const result = await stopLocalServer(opts);
  const state = await readState(opts.dir);
  if (state && path.relative(opts.dir, state.clusterDir).startsWith('..')) await rm(state.clusterDir, { recursive: true, force: true });
  await rm(opts.dir, { recursive: true, force: true });
  return result;
}
