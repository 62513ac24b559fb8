import { TodoDbError } from '../core/errors.js';

/** Something went wrong while setting up, starting or stopping the local server. */
export function localFailed(message: string, hint: string, cause?: unknown): TodoDbError {
  return new TodoDbError({ code: 'LOCAL_DATABASE_FAILED', message, hint, cause });
}

/** The local server could not be used within its deadline, or its environment cannot host it. */
export function localUnavailable(message: string, hint: string, cause?: unknown): TodoDbError {
  return new TodoDbError({ code: 'LOCAL_DATABASE_UNAVAILABLE', message, hint, cause });
}

export function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
