/**
 * Why a failure happened, as a machine reads it (`error.cause` in --json, beside `error.sqlstate`): CI retries on
 * these. One code per kind, from PostgreSQL's SQLSTATE (its class where the whole class means one thing), or from
 * a socket that closed.
 */
export type FailureCause =
  | 'lock_timeout'
  | 'lock_not_available'
  | 'statement_timeout'
  | 'query_canceled'
  | 'transaction_timeout'
  | 'idle_in_transaction_timeout'
  | 'serialization_failure'
  | 'deadlock'
  | 'transaction_rollback'
  | 'connection_lost';

/** A timeout's setting as the failed session had it, and where it came from. */
export interface TimeoutSetting {
  name: 'lock_timeout' | 'statement_timeout';
  value: string;
  source: string;
}

/** What `--json` carries beside code, message and hint. */
export interface FailureFacts {
  sqlstate?: string;
  cause?: FailureCause;
  setting?: TimeoutSetting;
}

/**
 * Every expected failure is a TodoDbError: a stable code, a sentence saying what failed and why, and a hint
 * saying what to do next. The CLI renders these without a stack trace; anything else is a bug.
 */
export type ErrorKind = 'usage' | 'check' | 'interrupted';

export interface ErrorDetails {
  code: string;
  message: string;
  hint: string;
  kind?: ErrorKind;
  /** For kind 'interrupted': which signal, so SIGTERM exits 143 and SIGINT 130. */
  signal?: InterruptSignal;
  cause?: unknown;
  /** For machines (--json): the SQLSTATE, cause code and timeout setting, where the wrapped error does not say them itself. */
  facts?: FailureFacts;
}

export type InterruptSignal = 'SIGINT' | 'SIGTERM';

export class TodoDbError extends Error {
  readonly code: string;
  readonly hint: string;
  readonly kind: ErrorKind;
  readonly signal?: InterruptSignal;
  readonly facts?: FailureFacts;

  constructor({ code, message, hint, kind = 'check', signal, cause, facts }: ErrorDetails) {
    super(message, { cause });
    this.name = 'TodoDbError';
    this.code = code;
    this.hint = hint;
    this.kind = kind;
    this.signal = signal;
    this.facts = facts;
  }
}

/** A problem with flags, environment or files: exit code 2. */
export function usageError(code: string, message: string, hint: string): TodoDbError {
  return new TodoDbError({ code, message, hint, kind: 'usage' });
}

/** 128 + the signal's number, as shells report a process ended by it: SIGINT 130, SIGTERM 143. */
export const EXIT = { ok: 0, checkFailed: 1, usage: 2, interrupted: 130, terminated: 143 } as const;

export function exitCodeFor(error: TodoDbError): number {
  if (error.kind === 'usage') return EXIT.usage;
  if (error.kind === 'interrupted') return exitCodeForSignal(error.signal ?? 'SIGINT');
  return EXIT.checkFailed;
}

export function exitCodeForSignal(signal: InterruptSignal): number {
  return signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
}
