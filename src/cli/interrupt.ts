import { exitCodeForSignal, type InterruptSignal, TodoDbError } from '../core/errors.js';
import { type Finding, findAll, isCooperating, undoAll } from '../core/interruption.js';

const SIGNALS: InterruptSignal[] = ['SIGINT', 'SIGTERM'];

export interface Interrupt {
  signal: AbortSignal;
  /** Set once a signal made the handler take over: the command's own outcome is no longer reported. */
  readonly takenOver: boolean;
  dispose(): void;
}

/**
 * SIGINT (Ctrl-C) and SIGTERM (CI cancellation, `timeout`, container stops) alike. Outside a cooperative step,
 * the handler removes what the command created (registered undos), reports it in one line and exits 130 or
 * 143 at once: work in flight dies with the connection, and PostgreSQL rolls back its open transaction. In a
 * cooperative step (smoke), the job sees the aborted signal and stops at its next safe point. A second signal
 * quits at once, as users expect.
 */
export function handleInterrupts(report: (error: TodoDbError) => void): Interrupt {
  const controller = new AbortController();
  let takenOver = false;
  const onSignal = (name: InterruptSignal) => {
    if (controller.signal.aborted) process.exit(exitCodeForSignal(name));
    controller.abort(name);
    if (isCooperating()) return;
    takenOver = true;
    void undoAll().then(async ({ removed, failed }) => {
      report(interrupted(name, removed, failed, await findAll()));
      process.exit(exitCodeForSignal(name));
    });
  };
  const listeners = SIGNALS.map((name) => [name, () => onSignal(name)] as const);
  for (const [name, listener] of listeners) process.on(name, listener);
  return {
    signal: controller.signal,
    get takenOver() {
      return takenOver;
    },
    dispose: () => {
      for (const [name, listener] of listeners) process.off(name, listener);
    },
  };
}

function interrupted(signal: InterruptSignal, removed: string[], failed: string[], found: Finding[]): TodoDbError {
  const cleaned = removed.length > 0 ? `removed ${removed.join(' and ')}` : 'nothing to remove; any open transaction is rolled back by PostgreSQL';
  const left = failed.length > 0 ? `; could not remove ${failed.join(' and ')}` : '';
  const findings = found.map((finding) => ` ${finding.sentence}`).join('');
  const error = new TodoDbError({
    code: 'INTERRUPTED',
    kind: 'interrupted',
    signal,
    message: `Interrupted by ${signal}: stopped the current step, ${cleaned}${left}.${findings}`,
    hint:
      failed.length > 0
        ? 'Remove what is listed by hand (run with --verbose to see its name), then run the command again.'
        : 'Run the command again when you are ready.',
  });
  const results = found.find((finding) => finding.results !== undefined)?.results;
  return results === undefined ? error : Object.assign(error, { results });
}
