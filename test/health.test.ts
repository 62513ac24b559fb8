import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { destroyLocalServer, ensureLocalServer, stopLocalServer } from '../src/local/index.js';
import { runCli, startCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { migrateProject, migrationsFolder, tableMigration } from './helpers/migrations.js';

const health = (url: string, ...args: string[]) => runCli(['health', ...args], { env: { DATABASE_URL: url } });

describe('health', () => {
  it('is healthy on a migrated database', async () => {
    const url = await createTestDatabase('health');
    await migrateProject(url);
    const human = await health(url);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/healthy\n\s+database\s+connected\n\s+migration\s+up-to-date/);
    const json = await health(url, '--json');
    expect(json.json()).toEqual({
      ok: true,
      command: 'health',
      status_code: 200,
      data: { status: 'healthy', database: 'connected', migration: 'up-to-date', detail: null },
      error: null,
    });
  });

  it('is unhealthy with a pending migration', async () => {
    const url = await createTestDatabase('health');
    const result = await health(url, '--json');
    expect(result.code).toBe(1);
    expect(result.json()).toMatchObject({
      ok: false,
      status_code: 503,
      data: { status: 'unhealthy', database: 'connected', migration: 'pending' },
      error: { code: 'UNHEALTHY', hint: 'Run todo-db migrate up.' },
    });
  });

  it('is unhealthy with a failed migration', async () => {
    const url = await createTestDatabase('health');
    const dir = await migrationsFolder({
      '20260101000001_a': tableMigration('a'),
      '20260101000002_broken': { up: '-- todo-db: no-transaction\ncreate table b (id int);\nselect nope from b;\n' },
    });
    expect((await runCli(['migrate', 'up', '--migrations-dir', dir], { env: { DATABASE_URL: url } })).code).toBe(1);
    const result = await health(url, '--json', '--migrations-dir', dir);
    expect(result.code).toBe(1);
    expect(result.json().data).toMatchObject({ database: 'connected', migration: 'failed' });
    expect(result.json().data.detail).toContain('20260101000002_broken (failed)');
  });

  it('is unreachable, with exit 1, within its deadline when the server never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    const port = await listen(silent);
    const started = Date.now();
    const result = await health(`postgresql://app:pw@127.0.0.1:${port}/todo`, '--timeout', '1500', '--json');
    const elapsed = Date.now() - started;
    for (const socket of sockets) socket.destroy();
    silent.close();
    expect(result.code).toBe(1);
    expect(result.json().data).toMatchObject({ status: 'unhealthy', database: 'unreachable', migration: 'unknown' });
    expect(elapsed).toBeLessThan(1500 + 2000);
  });
});

describe('health --serve', () => {
  let dir: string;
  afterAll(() => destroyLocalServer({ dir }));

  it('answers 200, then 503 after the database stops, 404 elsewhere, and stops cleanly on SIGTERM', async () => {
    dir = await mkdtemp(join(tmpdir(), 'todo-db-health-'));
    const server = await ensureLocalServer({ dir });
    await migrateProject(server.url);
    const serving = startCli(['health', '--serve', '--port', '0', '--timeout', '2000'], { env: { DATABASE_URL: server.url } });
    const [, endpoint] = await serving.waitFor(/Serving health at (http:\/\/\S+)/);

    const healthy = await fetch(endpoint as string);
    expect(healthy.status).toBe(200);
    expect(await healthy.json()).toMatchObject({ ok: true, data: { status: 'healthy' } });
    expect((await fetch(new URL('/elsewhere', endpoint))).status).toBe(404);

    await stopLocalServer({ dir });
    const down = await fetch(endpoint as string);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ ok: false, status_code: 503, data: { database: 'unreachable' } });

    serving.child.kill('SIGTERM');
    const result = await serving.exited;
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(server.password);
  });
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}
