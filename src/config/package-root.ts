import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageError } from '../core/errors.js';
import { findWorkspace, isWorkspacePackage, type Workspace } from './workspace.js';

const PACKAGE_NAME = 'todo-db';
let packageRootCache: string | undefined;

/**
 * Two roots, never to be confused. The package root holds what todo-db ships (prisma/schema.prisma and
 * prisma/migrations), wherever the package sits: its own checkout, a workspace, or node_modules/todo-db. The
 * project root (projectRoot) is the project that uses it, where anything todo-db writes goes.
 *
 * Walks up from this file until a package.json named "todo-db": the code runs from src/ under vitest and from
 * dist/ or dist/chunks/ when bundled, so the depth is not fixed.
 */
function packageRoot(): string {
  if (packageRootCache) return packageRootCache;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (isTodoDbPackage(path.join(dir, 'package.json'))) {
      packageRootCache = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`todo-db: no package.json named "${PACKAGE_NAME}" above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

function isTodoDbPackage(file: string): boolean {
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/**
 * The project the command runs for, where the local database and todo-db's settings live: the nearest ancestor of
 * cwd that has a package.json and is not inside node_modules (the app's root, or todo-db's own checkout when
 * working there), cwd itself when there is none. In a workspace it is the workspace root, from the root and from
 * every member its patterns list, so that one repository has one local database: a folder above that declares a
 * workspace without listing this package does not capture it.
 */
export function projectRoot(cwd = process.cwd()): string {
  return locateProject(cwd).root;
}

export interface ProjectLocation {
  root: string;
  /** Set when root is a workspace root that the starting package belongs to. */
  workspace?: Workspace;
}

export function locateProject(cwd = process.cwd()): ProjectLocation {
  const start = path.resolve(cwd);
  const nearest = nearestPackage(start);
  if (!nearest) return { root: start };
  const workspace = findWorkspace(nearest);
  return workspace && isWorkspacePackage(workspace, nearest) ? { root: workspace.root, workspace } : { root: nearest };
}

function nearestPackage(start: string): string | undefined {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (!isInsideNodeModules(dir) && existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

export function isInsideNodeModules(file: string): boolean {
  return path.resolve(file).split(path.sep).includes('node_modules');
}

export function defaultMigrationsDir(): string {
  return path.join(packageRoot(), 'prisma', 'migrations');
}

/**
 * Migrations are authored in todo-db's checkout or workspace. One written into node_modules/todo-db would be
 * lost on the next npm install, and never reach the package's repository. A workspace link resolves to the
 * workspace folder, so only a real copy inside node_modules is refused.
 */
export function assertMigrationsWritable(migrationsDir: string): void {
  const real = realpathOrSelf(migrationsDir);
  if (!isInsideNodeModules(real)) return;
  throw usageError(
    'MIGRATIONS_READ_ONLY',
    `The migrations folder ${real} is inside node_modules: it is the installed copy of the todo-db package, which npm replaces on every install, so todo-db does not write migrations there.`,
    "Write migrations in todo-db's own checkout or workspace package (run todo-db migrate create <name> there), then install the new version here and run todo-db migrate up.",
  );
}

/** The real path of the nearest existing ancestor, with the rest appended: the folder may not exist yet. */
function realpathOrSelf(file: string): string {
  const resolved = path.resolve(file);
  for (let dir = resolved; ; dir = path.dirname(dir)) {
    try {
      return path.join(realpathSync(dir), path.relative(dir, resolved));
    } catch {
      if (path.dirname(dir) === dir) return resolved;
    }
  }
}
