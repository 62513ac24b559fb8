import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { staleDistReason } from '../../scripts/build-stamp.mjs';
import { destroyLocalServer, ensureLocalServer } from '../../src/local/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL of the test server; each test file creates its own database from it. */
    adminUrl: string;
  }
}

/**
 * One real PostgreSQL per test run: TEST_DATABASE_URL when given, otherwise an embedded server in a temp
 * directory, started here and stopped at the end. First, the run refuses a dist/ built from other sources: the
 * CLI tests run dist/, and `npx vitest run` does not build it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stale = staleDistReason(fileURLToPath(new URL('../..', import.meta.url)));
  if (stale) throw new Error(stale);
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    project.provide('adminUrl', given);
    return async () => {};
  }
  const dir = await mkdtemp(join(tmpdir(), 'todo-db-test-'));
  const server = await ensureLocalServer({ dir, timeoutMs: 120_000 });
  project.provide('adminUrl', server.url);
  // destroy, not just rm: as root the cluster's data lives outside a 0700 temp dir, in /var/lib/todo-db.
  return async () => {
    await destroyLocalServer({ dir });
  };
}
