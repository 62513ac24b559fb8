/**
 * A cross-process lock around initdb/start/stop, so two commands starting at the same moment get one server.
 * The lock is a file created with O_EXCL holding "<pid> <token>". It is stale when that pid is dead, or when it
 * is our own pid with a token this process does not hold (a pid reused after a crash). Waiting has a deadline.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { readFile, stat, unlink } from 'node:fs/promises';
import { registerUndo } from '../core/interruption.js';
import { errnoCode, localUnavailable } from './errors.js';
import { lockFile } from './paths.js';
import { isAlive, sleep } from './process.js';

const heldTokens = new Set<string>();
/** A lock file still empty after this long was left by a process that died between create and write. */
const EMPTY_LOCK_GRACE_MS = 5_000;

export async function withLock<T>(dir: string, deadline: number, log: ((line: string) => void) | undefined, fn: () => Promise<T>): Promise<T> {
  // A signal mid-start (initdb takes seconds) must not leave the lock for the next command to wait on. The undo
  // is registered in the same tick the file is created, so no signal can fall between the two.
  let withdraw = () => {};
  const token = await acquire(dir, deadline, log, (held) => {
    withdraw = registerUndo(`the local database's lock ${lockFile(dir)}`, () => release(dir, held));
  });
  try {
    return await fn();
  } finally {
    withdraw();
    await release(dir, token);
  }
}

async function acquire(dir: string, deadline: number, log: ((line: string) => void) | undefined, onAcquired: (token: string) => void): Promise<string> {
  const file = lockFile(dir);
  const token = randomBytes(8).toString('hex');
  let announced = false;
  for (let delay = 25; ; delay = Math.min(delay * 2, 250)) {
    if (tryCreate(file, token)) {
      onAcquired(token);
      return token;
    }
    const holder = await readHolder(file);
    if (holder === undefined) continue; // released between our create and our read
    if (await isStale(file, holder)) {
      await removeIfUnchanged(file, holder, log);
      continue;
    }
    if (Date.now() + delay > deadline) {
      throw localUnavailable(
        `Timed out waiting for the local database lock ${file}${holder ? `, held by process ${holder.split(' ')[0]}` : ''}.`,
        `Another todo-db command is starting or stopping the local database. Wait for it, or delete ${file} if no such process is running.`,
      );
    }
    if (!announced && holder) log?.(`waiting for another todo-db process (pid ${holder.split(' ')[0]}) to finish with the local database`);
    announced = true;
    await sleep(delay);
  }
}

/** Synchronous: between creating the file and writing its holder, no other callback (a signal's) may run. */
function tryCreate(file: string, token: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, `${process.pid} ${token}\n`);
  } finally {
    closeSync(fd);
  }
  heldTokens.add(token);
  return true;
}

/** The holder line, "" for a file not yet written, undefined when the lock vanished meanwhile. */
async function readHolder(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

async function isStale(file: string, holder: string): Promise<boolean> {
  if (holder === '') return lockAgeMs(file).then((age) => age > EMPTY_LOCK_GRACE_MS);
  const [pidText, token = ''] = holder.split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  if (pid === process.pid) return !heldTokens.has(token);
  return !isAlive(pid);
}

async function lockAgeMs(file: string): Promise<number> {
  try {
    return Date.now() - (await stat(file)).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Re-reads before unlinking so that we do not delete a lock another waiter has just taken after breaking the same
 * stale one. (A tiny window remains between the read and the unlink; acceptable for a developer tool.)
 */
async function removeIfUnchanged(file: string, holder: string, log: ((line: string) => void) | undefined): Promise<void> {
  if ((await readHolder(file)) !== holder) return;
  try {
    await unlink(file);
    log?.(`removed a stale lock ${file} left by process ${holder.split(' ')[0] || '(unknown)'}`);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
}

async function release(dir: string, token: string): Promise<void> {
  heldTokens.delete(token);
  const file = lockFile(dir);
  if ((await readHolder(file)) !== `${process.pid} ${token}`) return; // broken by someone who thought us dead
  await unlink(file).catch(() => undefined);
}
