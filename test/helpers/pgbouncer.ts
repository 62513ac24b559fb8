import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { serverUser } from '../../src/local/user.js';
import { freePort } from './ports.js';

/**
 * A real PgBouncer (Debian's package, 1.18 on bookworm) in transaction mode in front of the test server, as Neon's
 * pooler is in front of a compute.
 */
export interface PgBouncer {
  port: number;
  /** The same user and password as the server, through the pooler, to `database`. */
  url(database: string): string;
  stop(): Promise<void>;
}

/** Debian installs it in /usr/sbin, which is not on a non-root PATH. */
export function pgbouncerBinary(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((dir) => join(dir, 'pgbouncer')).find((file) => isAbsolute(file) && existsSync(file));
}

export async function startPgBouncer(serverUrl: string): Promise<PgBouncer> {
  const binary = pgbouncerBinary();
  if (!binary) throw new Error('pgbouncer is not installed');
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username);
  const password = decodeURIComponent(server.password);
  // The port is free now; another process could take it before pgbouncer binds, so try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const ini = await writeConfig(server, user, password, port);
    try {
      const child = await launch(binary, ini);
      const stopAndClean = async () => {
        await stop(child);
        await rm(dirname(ini), { recursive: true, force: true });
      };
      return { port, url: (database) => pooledUrl(server, port, database), stop: stopAndClean };
    } catch (error) {
      lastError = error;
      await rm(dirname(ini), { recursive: true, force: true });
    }
  }
  throw lastError;
}

/**
 * auth_type = scram-sha-256 with the plain password in the userlist: clients must send the password (so the
 * redaction rules are exercised), and PgBouncer can log in to the SCRAM server with the same password.
 */
async function writeConfig(server: URL, user: string, password: string, port: number): Promise<string> {
  // PgBouncer refuses to run as root and drops to postgres, which must be able to read these files.
  const folder = await mkdtemp(join(tmpdir(), 'todo-db-pgbouncer-'));
  await chmod(folder, 0o755);
  const quote = (text: string) => `"${text.replaceAll('"', '""')}"`;
  await writeFile(join(folder, 'userlist.txt'), `${quote(user)} ${quote(password)}\n`, { mode: 0o644 });
  const ini = join(folder, 'pgbouncer.ini');
  const config = [
    '[databases]',
    `* = host=${server.hostname} port=${server.port || 5432}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    `auth_file = ${join(folder, 'userlist.txt')}`,
    'pool_mode = transaction',
    'default_pool_size = 5',
  ];
  await writeFile(ini, `${config.join('\n')}\n`, { mode: 0o644 });
  return ini;
}

/** Resolves once PgBouncer logs that it listens; rejects with its output if it exits first. */
function launch(binary: string, ini: string): Promise<ChildProcess> {
  const as = serverUser();
  const child = spawn(binary, [...(as ? ['-u', as.name] : []), ini], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`pgbouncer did not start within 10 s:\n${output}`)), 10_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (!/listening on 127\.0\.0\.1/.test(output)) return;
      clearTimeout(timer);
      resolve(child);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`pgbouncer exited with ${code}:\n${output}`)));
  });
}

function pooledUrl(server: URL, port: number, database: string): string {
  const url = new URL(server.toString());
  url.hostname = '127.0.0.1';
  url.port = String(port);
  url.pathname = `/${database}`;
  return url.toString();
}

/** SIGTERM is PgBouncer's immediate shutdown: tests are done with their clients by then. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
