import { redact } from '../config/redact.js';
import { resolveSettings, type Settings, type SettingsFlags } from '../config/settings.js';
import { EXIT, exitCodeFor, TodoDbError } from '../core/errors.js';
import { failureFacts } from '../db/causes.js';
import { lostConnection } from '../db/lost-connection.js';
import { explainServerError } from '../db/server-errors.js';
import { databaseTarget, type Purpose, summarizeTarget, type Target, type TargetSummary, targetLine } from '../db/target.js';
import { describeResults, resultsOf } from '../migrations/results.js';
import { handleInterrupts } from './interrupt.js';
import { type Envelope, type GlobalOptions, Output } from './output.js';
import { sourceStack } from './source-stack.js';

export type GlobalFlags = SettingsFlags & GlobalOptions;

export interface CommandContext {
  out: Output;
  settings: Settings;
  flags: GlobalFlags;
  /** Aborted by SIGINT or SIGTERM (its reason is the signal's name). */
  signal: AbortSignal;
  /** The database for this purpose, resolved once from the settings; commands that change a database name it. */
  target(purpose: Purpose): Promise<Target>;
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
  /** It changes a database (or creates one next to it): name it first, and in data.target. */
  namesTarget?: boolean;
}

/**
 * The one place that turns a job's result or error into output and an exit code. Jobs never print and never
 * exit; this function never lets an expected failure show a stack trace.
 */
export async function runCommand<T>({ name, flags, job, render, verdict, reveal, ownSignals, namesTarget }: CommandSpec<T>): Promise<void> {
  const out = await Output.open(flags);
  const interrupt = ownSignals ? undefined : handleInterrupts((error) => reportFailure(name, error, out));
  const signal = interrupt?.signal ?? new AbortController().signal;
  const targets: Target[] = [];
  let settings: Settings | undefined;
  try {
    settings = resolveSettings(flags);
    out.useLogLevel(settings.logLevel);
    for (const warning of settings.warnings) out.warn(warning);
    const resolved = settings;
    const target = async (purpose: Purpose) => {
      const found = await databaseTarget(resolved, { purpose, log: (line) => out.info(line) });
      if (namesTarget && !targets.some((known) => sameDatabase(known, found)) && out.mode !== 'json')
        out.print(`Target: ${targetLine(summarizeTarget(found))}`);
      targets.push(found);
      return found;
    };
    const context = { out, settings, flags, signal, target };
    const result = await job(context);
    if (interrupt?.takenOver) return;
    const { exitCode, statusCode, error = null } = verdict?.(result) ?? { exitCode: EXIT.ok, statusCode: 200 };
    const data = namesTarget && targets[0] ? withTarget(result, summarizeTarget(targets[0])) : result;
    if (out.mode === 'json') out.json({ ok: exitCode === EXIT.ok, command: name, status_code: statusCode, data, error }, { reveal });
    else render(result, context);
    process.exitCode = exitCode;
  } catch (error) {
    // The signal handler reports and exits; the job's failure is only the work it cut short.
    if (interrupt?.takenOver) return new Promise<void>(() => {});
    const last = targets.at(-1);
    // Only what PostgreSQL raised unwrapped: a TodoDbError (a failed migration, with its position) already explains itself.
    const explained =
      error instanceof TodoDbError
        ? undefined
        : await explainServerError(error, last && settings ? { url: last, environment: settings.environment } : undefined);
    process.exitCode = reportFailure(name, explained ?? error, out);
  } finally {
    interrupt?.dispose();
  }
}

const sameDatabase = (a: Target, b: Target) => a.host === b.host && a.port === b.port && a.database === b.database && a.user === b.user;

/** data.target first, then the job's own fields. */
function withTarget<T>(result: T, target: TargetSummary): T | (T & { target: TargetSummary }) {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return result;
  return { target, ...result };
}

function reportFailure(command: string, error: unknown, out: Output): number {
  const known = error instanceof TodoDbError ? error : unexpected(error);
  const results = resultsOf(error);
  out.error(results ? { code: known.code, message: `${known.message}\n${describeResults(results)}`, hint: known.hint } : known);
  if (!(error instanceof TodoDbError) && error instanceof Error) out.debug(redact(sourceStack(error.stack ?? '')));
  const exitCode = exitCodeFor(known);
  if (out.mode === 'json') {
    const statusCode = exitCode === EXIT.usage ? 400 : known.code === 'INTERNAL_ERROR' ? 500 : 503;
    out.json({
      ok: false,
      command,
      status_code: statusCode,
      data: results ?? null,
      error: { code: known.code, message: known.message, hint: known.hint, ...failureFacts(known) },
    });
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
