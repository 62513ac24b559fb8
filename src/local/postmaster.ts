/**
 * Starting and stopping the postmaster with pg_ctl, and the states a crashed server leaves behind. Every wait has
 * a deadline.
 */
import { open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Binaries } from './binaries.js';
import { lastLines } from './cluster.js';
import { localFailed, localUnavailable } from './errors.js';
import { isAlive, isPostgresFor, isZombie, readPostmasterPid, run, sleep } from './process.js';
import type { LocalState } from './state.js';
import type { RunAs } from './user.js';

type Log = ((line: string) => void) | undefined;

/** Why a start failed, when starting again may help. */
export type StartRetry = 'port-busy' | 'transient';

export class StartFailed extends Error {
  constructor(
    readonly retry: StartRetry | undefined,
    readonly detail: string,
    /** The first FATAL line of the log, for progress lines. */
    readonly reason: string,
  ) {
    super(detail);
  }
}

/**
 * A postmaster.pid whose pid is alive but is not a postgres for this data dir (the pid was recycled after a crash
 * or reboot) would make postgres refuse to start when it can signal that process. So would a postmaster killed
 * with -9 that pid 1 has not reaped yet: a zombie still answers kill(pid, 0). Remove the file in both cases; the
 * shared memory interlock does not depend on it (the segment key comes from the data dir's inode).
 */
export async function removeStalePidFile(dataDir: string, log: Log): Promise<void> {
  const pm = readPostmasterPid(dataDir);
  if (!pm) return;
  const why = isZombie(pm.pid)
    ? `its postmaster (pid ${pm.pid}) has exited`
    : isAlive(pm.pid) && !isPostgresFor(pm.pid, dataDir)
      ? `its pid ${pm.pid} now belongs to another process`
      : undefined;
  if (!why) return;
  log?.(`removing a stale postmaster.pid in ${dataDir}: ${why}`);
  await rm(path.join(dataDir, 'postmaster.pid'), { force: true });
}

/**
 * Waits while a postgres for this data dir is starting up or shutting down. Returns its pid once ready, or
 * undefined once none runs.
 */
export async function waitUntilSettled(dataDir: string, deadline: number, log: Log): Promise<number | undefined> {
  let announced = false;
  for (;;) {
    const pm = readPostmasterPid(dataDir);
    if (!pm || !isPostgresFor(pm.pid, dataDir)) return undefined;
    if (pm.status === 'ready') return pm.pid;
    if (Date.now() > deadline) {
      throw localUnavailable(
        `The local PostgreSQL (pid ${pm.pid}, data in ${dataDir}) stayed in state "${pm.status ?? 'unknown'}" past the deadline.`,
        'Try again in a moment; if it persists, run `todo-db local stop` and look at postgres.log in the local dir.',
      );
    }
    if (!announced) log?.(`waiting for the local PostgreSQL (pid ${pm.pid}) that is ${pm.status ?? 'busy'}`);
    announced = true;
    await sleep(100);
  }
}

/** One pg_ctl start. Returns the postmaster's pid, or throws StartFailed saying whether a retry may help. */
export async function pgCtlStart(state: LocalState, bins: Binaries, as: RunAs | undefined, deadline: number): Promise<number> {
  const logOffset = await fileSize(state.logFile);
  const waitSeconds = Math.max(1, Math.floor((deadline - Date.now()) / 1000));
  // pg_ctl hands -o to /bin/sh, which turns '' into an empty value: no Unix socket, TCP on loopback only.
  const serverOptions = `-p ${state.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
  const args = ['-D', state.dataDir, '-l', state.logFile, '-o', serverOptions, '-w', '-t', String(waitSeconds), 'start'];
  const result = await run(bins.pgCtl, args, { as, detached: true, timeoutMs: waitSeconds * 1000 + 2000 });
  const pm = readPostmasterPid(state.dataDir);
  if (result.code === 0 && pm && pm.status === 'ready' && isPostgresFor(pm.pid, state.dataDir)) return pm.pid;
  const logTail = await readFrom(state.logFile, logOffset);
  const detail = [
    result.timedOut ? 'pg_ctl did not return before the deadline' : lastLines(result.output, 5),
    logTail && `last lines of ${state.logFile}:\n${lastLines(logTail, 15)}`,
  ]
    .filter(Boolean)
    .join('\n');
  const reason = /FATAL:\s*(.*)/.exec(logTail)?.[1] ?? lastLines(result.output, 1);
  throw new StartFailed(classify(`${logTail}\n${result.output}`), detail, reason);
}

function classify(text: string): StartRetry | undefined {
  if (/could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(text)) return 'port-busy';
  // After kill -9 of the postmaster its children may hold the shared memory, or the lock file, for a moment.
  if (/pre-existing shared memory block|lock file .* already exists|is another postmaster/i.test(text)) return 'transient';
  return undefined;
}

/**
 * pg_ctl stop -m fast within the deadline; if the server is still there, an immediate shutdown (SIGQUIT). A server
 * that already died is never waited for: we check the pid before and poll it after.
 */
export async function stopPostmaster(
  state: LocalState,
  bins: Binaries | undefined,
  pid: number,
  as: RunAs | undefined,
  deadline: number,
  log: Log,
): Promise<void> {
  const fastDeadline = deadline - Math.min(5_000, (deadline - Date.now()) / 3);
  if (bins) {
    const seconds = Math.max(1, Math.floor((fastDeadline - Date.now()) / 1000));
    await run(bins.pgCtl, ['-D', state.dataDir, '-m', 'fast', '-w', '-t', String(seconds), 'stop'], { as, timeoutMs: seconds * 1000 + 1000 }).catch(
      () => undefined,
    );
  } else {
    signal(pid, 'SIGINT'); // what pg_ctl -m fast sends
  }
  if (await waitForExit(pid, state.dataDir, fastDeadline)) return;
  log?.(`the local PostgreSQL (pid ${pid}) did not stop in time; sending an immediate shutdown`);
  signal(pid, 'SIGQUIT');
  if (await waitForExit(pid, state.dataDir, deadline)) return;
  throw localFailed(
    `The local PostgreSQL (pid ${pid}, data in ${state.dataDir}) did not stop before the deadline.`,
    `Kill it with \`kill -9 ${pid}\`; the next start recovers.`,
  );
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    /* already gone */
  }
}

/** isPostgresFor, not isAlive: a dead postmaster may linger as a zombie when pid 1 does not reap. */
async function waitForExit(pid: number, dataDir: string, deadline: number): Promise<boolean> {
  for (;;) {
    if (!isPostgresFor(pid, dataDir)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

async function readFrom(file: string, offset: number): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const size = (await handle.stat()).size;
      const start = size < offset ? Math.max(0, size - 16_384) : Math.max(offset, size - 16_384); // rotated meanwhile
      const buffer = Buffer.alloc(Math.max(0, size - start));
      await handle.read(buffer, 0, buffer.length, start);
      return buffer.toString('utf8').trim();
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}
