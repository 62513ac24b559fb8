/**
 * Processes: running the PostgreSQL binaries with a deadline, and telling whether a pid is the postmaster of a
 * given data dir (via /proc, so a pid recycled by an unrelated process is never mistaken for our server).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { registerUndo } from '../core/interruption.js';
import type { RunAs } from './user.js';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
}

export interface RunOptions {
  as?: RunAs | undefined;
  timeoutMs: number;
  /** Own process group and session, so a Ctrl-C in our terminal does not reach a server started by this command. */
  detached?: boolean;
  env?: NodeJS.ProcessEnv;
  /**
   * What a signal that ends this command while the child runs must undo: the child and its process group are
   * killed and waited for, then `after` removes what they were writing. Without it, they work on after we exit.
   */
  undo?: { what: string; after: () => Promise<void> };
}

/**
 * Runs a binary, collecting stdout+stderr. Resolves on 'exit', not 'close': pg_ctl start leaves a postmaster
 * behind, and had it inherited our pipes, 'close' would wait for the server to stop. Kills it at the deadline.
 */
export function run(file: string, args: string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const ownGroup = opts.detached === true || opts.undo !== undefined;
    const child = spawn(file, args, {
      cwd: '/', // the postgres OS user may not be able to enter our working directory
      env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A child we may have to kill gets its own process group, so that its own children die with it.
      detached: ownGroup,
      ...(opts.as ? { uid: opts.as.uid, gid: opts.as.gid } : {}),
    });
    let output = '';
    let timedOut = false;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const withdraw = opts.undo ? registerUndo(opts.undo.what, () => killAndWait(child, exited).then(opts.undo?.after)) : () => {};
    const collect = (chunk: Buffer): void => {
      if (output.length < 64_000) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(
      () => {
        timedOut = true;
        kill(child, ownGroup);
      },
      Math.max(1, opts.timeoutMs),
    );
    child.once('error', (error) => {
      clearTimeout(timer);
      withdraw();
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      withdraw();
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code, signal, output: output.trim(), timedOut });
    });
  });
}

/** The child and, when it leads a process group of its own, everything in that group. */
function kill(child: ChildProcess, ownGroup: boolean): void {
  if (child.pid === undefined) return;
  try {
    process.kill(ownGroup ? -child.pid : child.pid, 'SIGKILL');
  } catch {
    /* gone already */
  }
}

async function killAndWait(child: ChildProcess, exited: Promise<void>): Promise<void> {
  const group = child.pid;
  if (group === undefined) return;
  kill(child, true);
  await exited;
  // Grandchildren (initdb's postgres --boot) are reparented and reaped by others: wait until none still runs.
  for (let waited = 0; waited < 2000 && groupMembers(group).length > 0; waited += 20) await sleep(20);
}

/** Live (non-zombie) processes of a process group, through /proc. */
function groupMembers(group: number): number[] {
  return pids().filter((pid) => {
    const stat = procStat(pid);
    return stat !== undefined && stat.pgrp === group && stat.state !== 'Z';
  });
}

function pids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * EPERM means alive but not ours to signal (a root-owned process seen by a non-root user, for instance). A zombie
 * counts as dead: a stopped or killed postmaster lingers as one until pid 1 reaps it, which some inits do late.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

/** State, parent and process group from /proc/<pid>/stat: "<pid> (<comm>) <state> <ppid> <pgrp> ...", comm may hold spaces and ')'. */
function procStat(pid: number): { state: string; ppid: number; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state = '', ppid = '', pgrp = ''] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid), pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

export const isZombie = (pid: number): boolean => procStat(pid)?.state === 'Z';

/** Postgres processes (postmaster or orphaned children) still working in this data dir, found through /proc. */
export function postgresProcessesFor(dataDir: string): number[] {
  return pids().filter((pid) => pid !== process.pid && isPostgresFor(pid, dataDir));
}

export interface PostmasterPid {
  pid: number;
  dataDir: string | undefined;
  port: number | undefined;
  /** "starting", "ready", "stopping" or "standby" (line 8 of postmaster.pid); undefined while it is being written. */
  status: string | undefined;
}

/** postmaster.pid: pid, data dir, start time, port, socket dir, listen address, shmem key, status. */
export function readPostmasterPid(dataDir: string): PostmasterPid | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const port = Number(lines[3]);
  return { pid, dataDir: lines[1] || undefined, port: Number.isInteger(port) && port > 0 ? port : undefined, status: lines[7]?.trim() || undefined };
}

/**
 * Whether `pid` is a postgres process serving `dataDir`. Linux: argv[0] must be a postgres binary and the data dir
 * must be its cwd (postgres chdirs there) or in its arguments. Without /proc we can only trust that it is alive.
 */
export function isPostgresFor(pid: number, dataDir: string): boolean {
  if (!isAlive(pid)) return false;
  if (process.platform !== 'linux') return true; // no /proc: alive is all we can know
  const argv = readCmdline(pid);
  const argv0 = argv[0] ?? '';
  if (path.basename(argv0) !== 'postgres' && !argv0.startsWith('postgres:')) return false;
  const want = new Set([path.resolve(dataDir)]);
  try {
    want.add(realpathSync(dataDir)); // /proc/<pid>/cwd is a real path; ours may go through a symlink
  } catch {
    /* gone: compare what we have */
  }
  try {
    if (want.has(readlinkSync(`/proc/${pid}/cwd`))) return true;
  } catch {
    /* not ours to inspect; fall back to its arguments */
  }
  return argv.some((arg) => want.has(path.resolve(arg)));
}

function readCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Children of a postmaster that died (kill -9): "postgres: ..." processes in this data dir whose parent is no
 * longer a postgres for it. They hold the shared memory, so a new server cannot start until they exit.
 */
export function orphanedChildren(dataDir: string): number[] {
  return postgresProcessesFor(dataDir).filter((pid) => {
    const ppid = procStat(pid)?.ppid;
    return readCmdline(pid)[0]?.startsWith('postgres:') && (ppid === undefined || !isPostgresFor(ppid, dataDir));
  });
}
