import { TodoDbError } from '../core/errors.js';
import { connectionLost } from './causes.js';

/**
 * A connection that dies while a command works (the server restarted, an admin ended the session) is a failure
 * of the environment, not a bug in todo-db: say so in words instead of "failed unexpectedly".
 */
export function lostConnection(error: unknown): TodoDbError | undefined {
  if (!(error instanceof Error) || !connectionLost(error)) return undefined;
  return new TodoDbError({
    code: 'CONNECTION_LOST',
    message: `The connection to the database was lost while the command ran (${error.message}).`,
    hint: 'The server restarted or ended the session. Check it with todo-db check-connection, then run the command again: a lost transaction keeps nothing of its work.',
    cause: error,
  });
}
