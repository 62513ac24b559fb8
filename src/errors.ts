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
  cause?: unknown;
}

export class TodoDbError extends Error {
  readonly code: string;
  readonly hint: string;
  readonly kind: ErrorKind;

  constructor({ code, message, hint, kind = 'check', cause }: ErrorDetails) {
    super(message, { cause });
    this.name = 'TodoDbError';
    this.code = code;
    this.hint = hint;
    this.kind = kind;
  }
}

/** A problem with flags, environment or files: exit code 2. */
export function usageError(code: string, message: string, hint: string): TodoDbError {
  return new TodoDbError({ code, message, hint, kind: 'usage' });
}

export const EXIT = { ok: 0, checkFailed: 1, usage: 2, interrupted: 130 } as const;

export function exitCodeFor(error: TodoDbError): number {
  if (error.kind === 'usage') return EXIT.usage;
  if (error.kind === 'interrupted') return EXIT.interrupted;
  return EXIT.checkFailed;
}
