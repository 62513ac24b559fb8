import { type FailureCause, type FailureFacts, type TimeoutSetting, TodoDbError } from '../core/errors.js';
import { sqlState } from './server-errors.js';
import { isSqlState } from './sqlstate.js';

/** Class 08 (connection exception) and the 57P0x a server sends as it ends a session: shutdown, crash, restart, drop, idle timeout. */
const LOST_STATES = /^(08...|57P0[1-5])$/;
/**
 * pg's own words once the socket is gone, which come without a code; and once it could not read what came back
 * (pg-protocol's "received invalid response"), after which the connection is as good as gone.
 */
const LOST_MESSAGES =
  /connection terminated|not queryable|terminating connection|server closed the connection|connection to client lost|received invalid response/i;
/**
 * The errno codes of a socket that failed or closed. A list, not a pattern: every Node errno looks alike (a
 * folder's EEXIST is no lost connection), and some have a SQLSTATE's shape (EPIPE).
 */
const SOCKET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'ECONNREFUSED',
  'ENOTCONN',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

const BY_STATE: Record<string, FailureCause> = {
  '57014': 'query_canceled',
  '55P03': 'lock_not_available',
  '40001': 'serialization_failure',
  '40P01': 'deadlock',
  '25P03': 'idle_in_transaction_timeout',
  '25P04': 'transaction_timeout',
};

/**
 * The session ended under the command: a server that ended it (its SQLSTATE) or a socket that closed (no
 * SQLSTATE). The work it carried may or may not have committed; only the database can say which.
 */
export function connectionLost(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    // todo-db's own errors say what they are by code; the error they wrap says the rest.
    if (current instanceof TodoDbError) {
      if (code === 'CONNECTION_LOST') return true;
      continue;
    }
    if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
    if (typeof code === 'string' && isSqlState(code)) return LOST_STATES.test(code);
    if (LOST_MESSAGES.test(current.message)) return true;
  }
  return false;
}

/** The cause code of an error (or of the PostgreSQL error it wraps), where one applies. */
export function causeOf(error: unknown): FailureCause | undefined {
  const state = sqlState(error);
  if (state?.code === '55P03' && /lock timeout/i.test(state.message)) return 'lock_timeout';
  if (state?.code === '57014' && /statement timeout/i.test(state.message)) return 'statement_timeout';
  if (state && BY_STATE[state.code]) return BY_STATE[state.code];
  if (state?.code.startsWith('40')) return 'transaction_rollback';
  return connectionLost(error) ? 'connection_lost' : undefined;
}

/** The facts of any failure: those it carries itself first, then what its PostgreSQL error says. */
export function failureFacts(error: unknown): { sqlstate: string | null; cause: FailureCause | null; setting?: TimeoutSetting } {
  const own = (error as { facts?: FailureFacts } | null)?.facts ?? {};
  const setting = own.setting ? { setting: own.setting } : {};
  return { sqlstate: own.sqlstate ?? sqlState(error)?.code ?? null, cause: own.cause ?? causeOf(error) ?? null, ...setting };
}
