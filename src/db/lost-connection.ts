import { TodoDbError } from '../core/errors.js';

/** SQLSTATEs a server sends when it ends a session (shutdown, restart, pg_terminate_backend) or the link broke. */
const LOST_CODES = new Set(['57P01', '57P02', '57P03', '08003', '08006', 'ECONNRESET', 'EPIPE']);
/** pg's own words once the socket is gone, which come without a code. */
const LOST_MESSAGES = /connection terminated|not queryable|terminating connection|server closed the connection/i;

/**
 * A connection that dies while a command works (the server restarted, an admin ended the session) is a failure
 * of the environment, not a bug in todo-db: say so in words instead of "failed unexpectedly".
 */
export function lostConnection(error: unknown): TodoDbError | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (!(typeof code === 'string' && LOST_CODES.has(code)) && !LOST_MESSAGES.test(error.message)) return undefined;
  return new TodoDbError({
    code: 'CONNECTION_LOST',
    message: `The connection to the database was lost while the command ran (${error.message}).`,
    hint: 'The server restarted or ended the session. Check it with todo-db check-connection, then run the command again: a lost transaction keeps nothing of its work.',
    cause: error,
  });
}
