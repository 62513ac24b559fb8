/** The state file: everything a later command needs to find and connect to the server. Mode 0600: it holds the password. */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { errnoCode, localFailed } from './errors.js';
import { stateFile } from './paths.js';

export interface LocalState {
  version: 1;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Holds data/ and postgres.log: the local dir, or a place the postgres OS user can reach. */
  clusterDir: string;
  dataDir: string;
  logFile: string;
  binDir: string;
  /** True once initdb succeeded; until then the data dir may be half made and is recreated. */
  initialised: boolean;
  /** True once the `todo` database exists (created after the first start). */
  databaseCreated: boolean;
}

export async function readState(dir: string): Promise<LocalState | undefined> {
  let text: string;
  try {
    text = await readFile(stateFile(dir), 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw localFailed(
      `Cannot read the local database state ${stateFile(dir)} (${errnoCode(error) ?? (error as Error).message}).`,
      'It is written by whoever first started the local database (mode 0600): run todo-db as that user, or pass --local-dir with your own directory.',
      error,
    );
  }
  try {
    const state = JSON.parse(text) as LocalState;
    return state.version === 1 && typeof state.port === 'number' && typeof state.dataDir === 'string' ? state : undefined;
  } catch {
    return undefined; // a torn or hand-edited file: treated as "not initialised" and rewritten by ensure
  }
}

/** Write to a temp name then rename, so a reader never sees half a file. */
export async function writeState(dir: string, state: LocalState): Promise<void> {
  const tmp = `${stateFile(dir)}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, stateFile(dir));
}

export function serverUrl(state: Pick<LocalState, 'user' | 'password' | 'port' | 'database'>): string {
  return `postgresql://${encodeURIComponent(state.user)}:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${encodeURIComponent(state.database)}`;
}
