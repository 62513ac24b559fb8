import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'todo-db';
let packageRootCache: string | undefined;

/**
 * The schema, the migrations and the default local database belong to the package, never to the working
 * directory. Walks up from this file until a package.json named "todo-db": the code runs from src/ under vitest
 * and from dist/ or dist/chunks/ when bundled, so the depth is not fixed.
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

export function defaultMigrationsDir(): string {
  return path.join(packageRoot(), 'prisma', 'migrations');
}
