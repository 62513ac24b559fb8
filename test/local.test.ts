/**
 * The embedded local PostgreSQL, against real servers. Local dirs come from mkdtemp (mode 0700), which as root is
 * exactly the case where the postgres OS user cannot reach the dir and the data must live elsewhere.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultLocalDir,
  destroyLocalServer,
  ensureLocalServer,
  findRunningLocalServer,
  type LocalServer,
  localServerStatus,
  resolveLocalDir,
  stopLocalServer,
} from '../src/local/index.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'todo-db-local-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of dirs) await destroyLocalServer({ dir, timeoutMs: 20_000 });
});

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await fn();
  console.info(`${label}: ${Math.round(performance.now() - start)} ms`);
  return result;
}

function pidFileOf(server: LocalServer): string {
  return join(server.dataDir, 'postmaster.pid');
}

/** Running, as opposed to gone or a zombie (pid 1 may reap a stopped postmaster late). */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('local dir', () => {
  it('defaults to .todo-db at the project root (here, the checkout) and resolves explicit paths', () => {
    expect(defaultLocalDir()).toBe(join(process.cwd(), '.todo-db'));
    expect(resolveLocalDir()).toBe(defaultLocalDir());
    expect(resolveLocalDir('some/where')).toBe(join(process.cwd(), 'some/where'));
  });

  it('reports a dir that was never initialised', async () => {
    const dir = tempDir();
    expect(await findRunningLocalServer(dir)).toBeUndefined();
    expect(await localServerStatus(dir)).toEqual({ dir, initialised: false, running: false });
    expect(await stopLocalServer({ dir })).toEqual({ stopped: false });
  });
});

describe('local server', () => {
  let dir: string;
  let first: LocalServer & { started: boolean; initialised: boolean };
  const lines: string[] = [];
  const log = (line: string): void => void lines.push(line);

  beforeAll(async () => {
    dir = tempDir();
    first = await timed('first ensure (initdb + start)', () => ensureLocalServer({ dir, log }));
  });

  it('initialises, starts, and accepts its generated password over TCP on 127.0.0.1', async () => {
    expect(first).toMatchObject({ started: true, initialised: true, host: '127.0.0.1', user: 'todo', database: 'todo' });
    expect(first.password.length).toBeGreaterThanOrEqual(24);
    expect(first.url).toBe(`postgresql://todo:${first.password}@127.0.0.1:${first.port}/todo`);
    expect(lines.some((l) => l.startsWith('initialising the local database'))).toBe(true);
    expect(lines.join('\n')).not.toContain(first.password);

    const { rows } = await query(
      first.url,
      "select current_user, current_database(), current_setting('listen_addresses') as listen, rolsuper from pg_roles where rolname = current_user",
    );
    expect(rows[0]).toEqual({ current_user: 'todo', current_database: 'todo', listen: '127.0.0.1', rolsuper: true });

    const wrong = new URL(first.url);
    wrong.password = 'not-the-password';
    await expect(query(wrong.toString(), 'select 1')).rejects.toThrow(/password authentication failed/);
  });

  it('keeps its state in a 0600 file, never the password in the log', () => {
    const state = statSync(join(dir, 'state.json'));
    expect(state.mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    expect(saved).toMatchObject({ port: first.port, user: 'todo', database: 'todo', dataDir: first.dataDir, initialised: true });
  });

  it('keeps itself out of git with a `*` .gitignore, which the next ensure writes again when it is missing', async () => {
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('*\n');
    unlinkSync(join(dir, '.gitignore'));
    await ensureLocalServer({ dir });
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('*\n');
  });

  it('returns the running server without starting it again', async () => {
    const again = await timed('ensure when running (fast path)', () => ensureLocalServer({ dir }));
    expect(again).toMatchObject({ started: false, initialised: false, port: first.port, pid: first.pid, password: first.password });
    expect(await timed('findRunningLocalServer', () => findRunningLocalServer(dir))).toMatchObject({ pid: first.pid, url: first.url });
    expect(await localServerStatus(dir)).toMatchObject({ initialised: true, running: true, port: first.port, pid: first.pid });
  });

  it('stops, then starts again on demand with the same data and password', async () => {
    await query(first.url, 'create table if not exists kept (id int)');
    expect(await timed('stop', () => stopLocalServer({ dir }))).toEqual({ stopped: true });
    expect(isAlive(first.pid!)).toBe(false);
    expect(await localServerStatus(dir)).toMatchObject({ initialised: true, running: false });
    expect(await stopLocalServer({ dir })).toEqual({ stopped: false });

    const restarted = await timed('ensure of an initialised, stopped server', () => ensureLocalServer({ dir }));
    expect(restarted).toMatchObject({ started: true, initialised: false, port: first.port, password: first.password });
    expect(restarted.pid).not.toBe(first.pid);
    expect((await query(restarted.url, "select to_regclass('kept') as t")).rows[0].t).toBe('kept');
  });

  it('recovers after kill -9 of the postmaster, and stop of the dead server returns at once', async () => {
    const before = await ensureLocalServer({ dir });
    process.kill(before.pid!, 'SIGKILL');
    // A signal is delivered asynchronously: on a busy machine the postmaster can still run for a moment, and stop
    // would then (rightly) stop it. The case under test is a server already dead.
    while (isAlive(before.pid!)) await new Promise((resolve) => setTimeout(resolve, 10));
    const start = performance.now();
    expect(await stopLocalServer({ dir, timeoutMs: 10_000 })).toEqual({ stopped: false });
    // Well under its 10 s timeout: it noticed the server was gone instead of waiting for it to stop.
    expect(performance.now() - start).toBeLessThan(5_000);

    const after = await timed('ensure after kill -9', () => ensureLocalServer({ dir }));
    expect(after.started).toBe(true);
    expect(after.pid).not.toBe(before.pid);
    expect((await query(after.url, 'select 1 as one')).rows[0].one).toBe(1);
  });

  it('recovers after kill -9 even while the orphaned children still hold the shared memory', async () => {
    const before = await ensureLocalServer({ dir });
    const children = execFileSync('pgrep', ['-P', String(before.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
    for (const pid of children) process.kill(pid, 'SIGSTOP'); // frozen: they will not notice the postmaster's death
    process.kill(before.pid!, 'SIGKILL');
    lines.length = 0;
    const after = await timed('ensure after kill -9 with frozen children', () => ensureLocalServer({ dir, log }));
    expect(after.started).toBe(true);
    expect(lines.some((l) => l.startsWith('ending') && l.includes('leftover processes'))).toBe(true);
    expect(children.filter(isAlive)).toEqual([]);
    expect((await query(after.url, 'select 1 as one')).rows[0].one).toBe(1);
  });

  it('moves to another port when its port was taken while it was stopped', async () => {
    expect(await stopLocalServer({ dir })).toEqual({ stopped: true });
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(first.port, '127.0.0.1', resolve));
    try {
      const server = await ensureLocalServer({ dir });
      expect(server.port).not.toBe(first.port);
      expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).port).toBe(server.port);
      expect((await query(server.url, 'select 1 as one')).rows[0].one).toBe(1);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('replaces a postmaster.pid whose pid now belongs to a live process that is not postgres', async () => {
    expect(await stopLocalServer({ dir })).toEqual({ stopped: true });
    const sleeper: ChildProcess = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const file = pidFileOf(first);
      // What a reboot leaves behind: pid, data dir, start time, port, socket dir, address, shmem key, status.
      writeFileSync(file, `${sleeper.pid}\n${first.dataDir}\n1700000000\n${first.port}\n\n127.0.0.1\n  0 0\nready\n`, { mode: 0o600 });
      const owner = statSync(first.dataDir);
      chownSync(file, owner.uid, owner.gid);

      expect(await findRunningLocalServer(dir)).toBeUndefined();
      lines.length = 0;
      const server = await ensureLocalServer({ dir, log });
      expect(server.started).toBe(true);
      expect(server.pid).not.toBe(sleeper.pid);
      expect(lines.some((l) => l.includes('stale postmaster.pid'))).toBe(true);
      expect(isAlive(sleeper.pid!)).toBe(true);
      expect((await query(server.url, 'select 1 as one')).rows[0].one).toBe(1);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});

describe('a local dir that holds other files too', () => {
  it('gets no .gitignore: --local-dir pointed at a project folder must not hide the project from git', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), '{"name":"app"}');
    await ensureLocalServer({ dir });
    expect(existsSync(join(dir, '.gitignore'))).toBe(false);
  });
});

describe('concurrency', () => {
  it('gives two simultaneous first-time callers one server, through the lock', async () => {
    const dir = tempDir();
    const [a, b] = await timed('two concurrent first ensures', () => Promise.all([ensureLocalServer({ dir }), ensureLocalServer({ dir })]));
    expect(a.pid).toBe(b.pid);
    expect(a.url).toBe(b.url);
    expect([a.initialised, b.initialised].sort()).toEqual([false, true]);
    expect([a.started, b.started].sort()).toEqual([false, true]);
    expect((await query(b.url, 'select 1 as one')).rows[0].one).toBe(1);
  });

  it('gives two simultaneous callers of a stopped server one start', async () => {
    const dir = tempDir();
    const first = await ensureLocalServer({ dir });
    await stopLocalServer({ dir });
    const [a, b] = await Promise.all([ensureLocalServer({ dir }), ensureLocalServer({ dir })]);
    expect(a.pid).toBe(b.pid);
    expect(a.pid).not.toBe(first.pid);
    expect([a.started, b.started].sort()).toEqual([false, true]);
  });

  it('uses different ports for different dirs', async () => {
    const [x, y] = dirs.slice(-2).map((dir) => JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).port as number);
    expect(x).not.toBe(y);
  });
});
