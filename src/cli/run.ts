import { lostConnection } from '../db/lost-connection.js';
import { resolveSettings, type Settings, type SettingsFlags } from '../config/settings.js';
import { redact } from '../config/redact.js';
import { EXIT, exitCodeFor, TodoDbError } from '../errors.js';
import { handleInterrupts } from './interrupt.js';
import { Output, type Envelope, type GlobalOptions } from './output.js';

export type GlobalFlags = SettingsFlags & GlobalOptions;

export interface CommandContext {
  out: Output;
  settings: Settings;
  flags: GlobalFlags;
  /** Aborted by SIGINT or SIGTERM (its reason is the signal's name). */
  signal: AbortSignal;
}

export interface Verdict {
  exitCode: number;
  statusCode: number;
  error?: Envelope<unknown>['error'];
}

export interface CommandSpec<T> {
  name: string;
  flags: GlobalFlags;
  job: (context: CommandContext) => Promise<T>;
  render: (result: T, context: CommandContext) => void;
  /** A result can still be a failed check (an unhealthy health report): its exit code, HTTP-like status and error. */
  verdict?: (result: T) => Verdict;
  /** The user explicitly asked to see a secret (local url --show-password). */
  reveal?: boolean;
  /** The command handles SIGINT and SIGTERM itself (health --serve stops serving on them). */
  ownSignals?: boolean;
}

/**
 * The one place that turns a job's result or error into output and an exit code. Jobs never print and never
 * exit; this function never lets an expected failure show a stack trace.
 */
export async function runCommand<T>({ name, flags, job, render, verdict, reveal, ownSignals }: CommandSpec<T>): Promise<void> {
  const out = new Output(flags);
  const interrupt = ownSignals ? undefined : handleInterrupts((error) => reportFailure(name, error, out));
  const signal = interrupt?.signal ?? new AbortController().signal;
  try {
    const settings = resolveSettings(flags);
    out.useLogLevel(settings.logLevel);
    settings.warnings.forEach((warning) => out.warn(warning));
    const context = { out, settings, flags, signal };
    const result = await job(context);
    if (interrupt?.takenOver) return;
    const { exitCode, statusCode, error = null } = verdict?.(result) ?? { exitCode: EXIT.ok, statusCode: 200 };
    if (out.mode === 'json') out.json({ ok: exitCode === EXIT.ok, command: name, status_code: statusCode, data: result, error }, { reveal });
    else render(result, context);
    process.exitCode = exitCode;
  } catch (error) {
    // The signal handler reports and exits; the job's failure is only the work it cut short.
    if (interrupt?.takenOver) return new Promise<void>(() => {});
    process.exitCode = reportFailure(name, error, out);
  } finally {
    interrupt?.dispose();
  }
}

export function reportFailure(command: string, error: unknown, out: Output): number {
  const known = error instanceof TodoDbError ? error : unexpected(error);
  out.error(known);
  if (!(error instanceof TodoDbError) && error instanceof Error) out.debug(redact(error.stack ?? ''));
  const exitCode = exitCodeFor(known);
  if (out.mode === 'json') {
    const statusCode = exitCode === EXIT.usage ? 400 : known.code === 'INTERNAL_ERROR' ? 500 : 503;
    out.json({ ok: false, command, status_code: statusCode, data: null, error: { code: known.code, message: known.message, hint: known.hint } });
  }
  return exitCode;
}

function unexpected(error: unknown): TodoDbError {
  const lost = lostConnection(error);
  if (lost) return lost;
  const message = error instanceof Error ? error.message : String(error);
  return new TodoDbError({
    code: 'INTERNAL_ERROR',
    message: `todo-db failed unexpectedly: ${message}`,
    hint: 'Run again with --verbose for details, and report it if it persists.',
  });
}
