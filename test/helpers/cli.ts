import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/todo-db.js', import.meta.url));
/** Variables that would leak the developer's own configuration into a test. */
const SCRUBBED = ['DATABASE_URL', 'DIRECT_DATABASE_URL', 'ENVIRONMENT', 'LOG_LEVEL', 'TODO_DB_LOCAL_DIR', 'NO_COLOR', 'FORCE_COLOR'];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The JSON document on stdout (for --json runs). */
  json<T = any>(): T;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs the built CLI as a user would: a separate process, its own environment, output captured. */
export function runCli(args: string[], { env = {}, cwd, timeoutMs = 60_000 }: CliOptions = {}): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
  for (const name of SCRUBBED) delete childEnv[name];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[name];
    else childEnv[name] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: childEnv, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, json: () => JSON.parse(stdout) });
    });
  });
}
