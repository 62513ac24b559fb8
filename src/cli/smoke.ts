import { defaultMigrationsDir } from '../config/package-root.js';
import { EXIT, exitCodeForSignal } from '../core/errors.js';
import { writeJunitReport } from '../smoke/junit.js';
import { runSmoke, type SmokeReport, type SmokeStep } from '../smoke/run.js';
import { type Envelope, type Output, plural } from './output.js';
import { type CommandContext, type GlobalFlags, runCommand, type Verdict } from './run.js';

export interface SmokeFlags extends GlobalFlags {
  junit?: string;
}

type SmokeResult = SmokeReport & { junit: string | null };

/** SIGINT or SIGTERM stops the run after the current step; what it created is still removed, then the exit code is 130 or 143. */
export function smokeCommand(flags: SmokeFlags): Promise<void> {
  return runCommand({ name: 'smoke', flags, namesTarget: true, job: (context) => smoke(context, flags), render, verdict });
}

async function smoke({ settings, out, signal, target }: CommandContext, flags: SmokeFlags): Promise<SmokeResult> {
  const announce = () =>
    out.warn(
      `Interrupted by ${signal.reason}: finishing the current step, then removing the throwaway rows (a second signal quits at once and may leave them).`,
    );
  signal.addEventListener('abort', announce, { once: true });
  const url = await target('runtime');
  const report = await runSmoke({
    url,
    migrationsDir: settings.migrationsDir ?? defaultMigrationsDir(),
    environment: settings.environment,
    signal,
    // Each line as its step ends: a slow or hanging step shows where it is.
    onStep: (step) => {
      if (out.mode !== 'json') out.print(stepLine(step, out));
    },
  });
  const junit = flags.junit === undefined ? null : await writeJunitReport(flags.junit, report);
  return { ...report, junit };
}

const SYMBOLS = {
  human: { passed: '✓', failed: '✗', skipped: '-' },
  plain: { passed: 'ok', failed: 'FAIL', skipped: 'skip' },
} as const;
const COLOURS = { passed: 'green', failed: 'red', skipped: 'gray' } as const;
const NAME_WIDTH = 9;

function stepLine(step: SmokeStep, out: Output): string {
  const symbol = out.paint(COLOURS[step.status], SYMBOLS[out.mode === 'human' ? 'human' : 'plain'][step.status].padEnd(out.mode === 'human' ? 1 : 4));
  const time = step.status === 'skipped' ? '' : `  ${out.paint('gray', `${step.durationMs} ms`)}`;
  const line = `${symbol} ${step.name.padEnd(NAME_WIDTH)}  ${step.description}${time}`;
  return step.message === null ? line : `${line}\n    ${out.paint(COLOURS[step.status], step.message)}`;
}

function render(result: SmokeResult, { out }: CommandContext): void {
  const problem = smokeFailure(result);
  if (problem) out.error(problem);
  else
    out.print(
      `${out.paint('green', out.symbol('ok'))} smoke passed: ${result.steps.length} steps in ${Math.round(result.durationMs)} ms, ${plural(result.cleanup.removedUsers, 'throwaway user')} removed`,
    );
  if (result.junit) out.info(`JUnit report written to ${result.junit}`);
}

function verdict(result: SmokeResult): Verdict {
  const error = smokeFailure(result);
  if (!error) return { exitCode: EXIT.ok, statusCode: 200 };
  return { exitCode: result.interruptedBy ? exitCodeForSignal(result.interruptedBy) : EXIT.checkFailed, statusCode: 503, error };
}

/** The error a smoke report amounts to (setup reports it too), or null when it passed. */
export function smokeFailure(report: SmokeReport): NonNullable<Envelope<unknown>['error']> | null {
  const { cleanup } = report;
  if (cleanup.error !== null) {
    const ids = cleanup.leftover.map((id) => `'${id}'`).join(', ');
    return {
      code: 'SMOKE_CLEANUP_FAILED',
      message: `Removing the throwaway users failed (${cleanup.error}); left behind: ${ids}.`,
      hint: `Delete them (their tasks cascade): delete from users where id in (${ids});`,
    };
  }
  const ran = report.steps.filter((step) => step.status !== 'skipped').length;
  if (report.interruptedBy) {
    return {
      code: 'INTERRUPTED',
      message: `Interrupted by ${report.interruptedBy} after ${ran} of ${report.steps.length} steps; ${plural(cleanup.removedUsers, 'throwaway user')} removed, nothing left behind.`,
      hint: 'Run todo-db smoke again to check the database.',
    };
  }
  const failed = report.steps.filter((step) => step.status === 'failed');
  if (failed.length === 0) return null;
  return {
    code: 'SMOKE_FAILED',
    message: `Smoke failed at ${failed.map((step) => `${step.name} (${step.message})`).join('; ')}. Its rows were removed.`,
    hint: 'The database does not behave as the app expects: run todo-db migrate status, and compare its triggers and constraints with prisma/migrations.',
  };
}
