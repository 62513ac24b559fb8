import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { destroyLocalServer, ensureLocalServer } from '../../src/local/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL of the test server; each test file creates its own database from it. */
    adminUrl: string;
  }
}

/**
 * One real PostgreSQL per test run: TEST_DATABASE_URL when given, otherwise an embedded server in a temp
 * directory, started here and stopped at the end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
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
