/**
 * Where the local database lives: the local dir (state, lock), the cluster base (data dir and log), and the
 * port we prefer for it. Pure path logic; no processes.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { projectRoot } from '../config/package-root.js';

export const PORT_BASE = 54320;
export const PORT_SPAN = 1000;

/**
 * In the project that uses todo-db, never in the package: under node_modules, npm ci would delete the database
 * and its password with the package.
 */
export function defaultLocalDir(cwd = process.cwd()): string {
  return path.join(projectRoot(cwd), '.todo-db');
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
