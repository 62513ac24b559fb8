import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { destroyLocalServer, ensureLocalServer, stopLocalServer } from '../src/local/index.js';
import { runCli, startCli } from './helpers/cli.js';
import { migrateProject, query } from './helpers/migrations.js';

/** PostgreSQL restarted (fast shutdown) under seed-dev: a server of its own, since the others' tests share one. */

let dir: string | undefined;
afterAll(async () => {
  if (dir) await destroyLocalServer({ dir });
});

async function waitForSeedConnection(url: string, exited: () => boolean): Promise<void> {
  for (const started = Date.now(); Date.now() - started < 20_000 && !exited(); ) {
    const rows = await query(url, "select 1 from pg_stat_activity where application_name = 'todo-db seed-dev'");
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(exited() ? 'seed-dev ended before the restart' : 'seed-dev never connected');
}

describe('seed-dev while PostgreSQL restarts', () => {
  it('fails with CONNECTION_LOST (exit 1), and a rerun completes the seed exactly: 1 user, 5 tasks, no duplicates', async () => {
    dir = await mkdtemp(join(tmpdir(), 'todo-db-restart-'));
    const { url } = await ensureLocalServer({ dir });
    await migrateProject(url);

    // bcrypt at the default cost 12 runs between the first read and the transaction: the restart lands there.
    const seeding = startCli(['seed-dev'], { env: { DATABASE_URL: url } });
    let exited = false;
    void seeding.exited.then(() => (exited = true));
    await waitForSeedConnection(url, () => exited);
    const restartStarted = Date.now();
    await stopLocalServer({ dir });
    await ensureLocalServer({ dir });
    const restartMs = Date.now() - restartStarted;
    const first = await seeding.exited;
    console.info(
      `restart under seed-dev: first run exit ${first.code}, restart took ${restartMs} ms; ${first.stderr.split('\n').find((line) => line.startsWith('error')) ?? ''}`,
    );
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/connection to the database was lost while the command ran .*\[CONNECTION_LOST\]/);
    expect(first.stderr).not.toMatch(/^\s+at /m);

    const rerunStarted = Date.now();
    const rerun = await runCli(['seed-dev', '--json'], { env: { DATABASE_URL: url } });
    console.info(`seed-dev rerun after the restart: exit ${rerun.code} in ${Date.now() - rerunStarted} ms`);
    expect(rerun.code, rerun.stderr).toBe(0);
    const users = await query(url, `select id from "user" where email = 'test@example.com'`);
    const tasks = await query(url, 'select id::text, user_id from tasks order by id');
    expect(users).toHaveLength(1);
    expect(tasks.map((task) => task.id)).toEqual([1, 2, 3, 4, 5].map((n) => `5eed0000-0000-4000-8000-00000000000${n}`));
    expect(tasks.every((task) => task.user_id === users[0].id)).toBe(true);
    // Whatever the interrupted run committed plus what the rerun created is exactly the seed, once.
    const created = rerun.json().data;
    expect(created.tasks.created + created.users.created).toBe(6);
  });
});
