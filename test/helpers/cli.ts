import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SETTING_VARIABLES } from '../../src/config/settings.js';

const BIN = fileURLToPath(new URL('../../bin/todo-db.js', import.meta.url));
/** Variables that would leak the developer's own configuration into a test. */
const SCRUBBED = [...SETTING_VARIABLES, 'NO_COLOR', 'FORCE_COLOR'];

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

/** The test process's environment without the developer's own database settings, plus the given overrides. */
function cliEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
  for (const name of SCRUBBED) delete childEnv[name];
  // Under `npm test` these describe todo-db's own package; an npm run in a test's app folder must not see them.
  for (const name of Object.keys(childEnv)) if (/^npm_(lifecycle|package)_/.test(name)) delete childEnv[name];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[name];
    else childEnv[name] = value;
  }
  return childEnv;
}

/** Runs the built CLI as a user would: a separate process, its own environment, output captured. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return runProgram(process.execPath, [BIN, ...args], options);
}

/** Any program (npm, npx, node), with the same scrubbed environment as the CLI. */
export function runProgram(command: string, args: string[], { env = {}, cwd, timeoutMs = 60_000 }: CliOptions = {}): Promise<CliResult> {
  const childEnv = cliEnv(env);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: childEnv, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
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

export interface RunningCli {
  child: ReturnType<typeof spawn>;
  /** Resolves with the first match of pattern in stderr+stdout so far, waiting for more output if needed. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<CliResult>;
}

/** For long-running commands (health --serve): start, watch the output, signal, then collect the result. */
export function startCli(args: string[], { env = {}, cwd }: CliOptions = {}): RunningCli {
  const childEnv = cliEnv(env);
  const child = spawn(process.execPath, [BIN, ...args], { env: childEnv, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    notify();
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    notify();
  });
  const exited = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      notify();
      resolve({ code, signal, stdout, stderr, json: () => JSON.parse(stdout) });
    });
  });
  const waitFor = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = (stderr + stdout).match(pattern);
        if (match) return done(() => resolve(match));
        if (child.exitCode !== null) done(() => reject(new Error(`exited before ${pattern}: ${stderr}${stdout}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms: ${stderr}${stdout}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });
  return { child, waitFor, exited };
}
