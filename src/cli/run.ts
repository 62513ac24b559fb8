import { lostConnection } from '../db/lost-connection.js';
import { resolveSettings, type Settings, type SettingsFlags } from '../config/settings.js';
import { redact } from '../config/redact.js';
import { EXIT, exitCodeFor, TodoDbError } from '../errors.js';
import { describeResults, resultsOf } from '../migrations/results.js';
import { Output, type Envelope, type GlobalOptions } from './output.js';

export type GlobalFlags = SettingsFlags & GlobalOptions;

export interface CommandContext {
  out: Output;
  settings: Settings;
  flags: GlobalFlags;
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
}

/**
 * The one place that turns a job's result or error into output and an exit code. Jobs never print and never
 * exit; this function never lets an expected failure show a stack trace.
 */
export async function runCommand<T>({ name, flags, job, render, verdict, reveal }: CommandSpec<T>): Promise<void> {
  const out = new Output(flags);
  try {
    const settings = resolveSettings(flags);
    out.useLogLevel(settings.logLevel);
    settings.warnings.forEach((warning) => out.warn(warning));
    const context = { out, settings, flags };
    const result = await job(context);
    const { exitCode, statusCode, error = null } = verdict?.(result) ?? { exitCode: EXIT.ok, statusCode: 200 };
    if (out.mode === 'json') out.json({ ok: exitCode === EXIT.ok, command: name, status_code: statusCode, data: result, error }, { reveal });
    else render(result, context);
    process.exitCode = exitCode;
  } catch (error) {
    process.exitCode = reportFailure(name, error, out);
  }
}

export function reportFailure(command: string, error: unknown, out: Output): number {
  const known = error instanceof TodoDbError ? error : unexpected(error);
  const results = resultsOf(error);
  out.error(results ? { code: known.code, message: `${known.message}\n${describeResults(results)}`, hint: known.hint } : known);
  if (!(error instanceof TodoDbError) && error instanceof Error) out.debug(redact(error.stack ?? ''));
  const exitCode = exitCodeFor(known);
  if (out.mode === 'json') {
    const statusCode = exitCode === EXIT.usage ? 400 : known.code === 'INTERNAL_ERROR' ? 500 : 503;
    out.json({ ok: false, command, status_code: statusCode, data: results ?? null, error: { code: known.code, message: known.message, hint: known.hint } });
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
