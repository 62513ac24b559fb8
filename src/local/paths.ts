/**
 * Where the local database lives: the local dir (state, lock), the cluster base (data dir and log), and the
 * port we prefer for it. Pure path logic; no processes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'todo-db';
export const PORT_BASE = 54320;
export const PORT_SPAN = 1000;

let packageRootCache: string | undefined;

/**
 * Walks up from this file until a package.json named "todo-db". The code runs from src/local/ under vitest and
 * from dist/ or dist/chunks/ when bundled, so the depth is not fixed.
 */
export function packageRoot(): string {
  if (packageRootCache) return packageRootCache;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (isTodoDbPackage(path.join(dir, 'package.json'))) return (packageRootCache = dir);
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

export function defaultLocalDir(): string {
  return path.join(packageRoot(), '.todo-db');
}

export function resolveLocalDir(explicit?: string): string {
  if (explicit && explicit.trim() !== '') return path.resolve(explicit);
  return defaultLocalDir();
}

export function dirHash(dir: string): string {
  return createHash('sha256').update(path.resolve(dir)).digest('hex');
}

/** Two clones hash to different ports, so they rarely even need the "next free port" step. */
export function preferredPort(dir: string): number {
  return PORT_BASE + (parseInt(dirHash(dir).slice(0, 8), 16) % PORT_SPAN);
}

export const stateFile = (dir: string): string => path.join(dir, 'state.json');
export const lockFile = (dir: string): string => path.join(dir, 'lock');

/** The cluster base holds data/ and postgres.log; it is the local dir unless postgres cannot reach it. */
export const dataDirIn = (base: string): string => path.join(base, 'data');
export const logFileIn = (base: string): string => path.join(base, 'postgres.log');
