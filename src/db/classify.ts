import { type DatabaseUrl, hostAndPort } from '../config/database-url.js';
import { redact } from '../config/redact.js';
import { isSqlState } from './sqlstate.js';

/**
 * Turns whatever pg, Node's sockets, TLS or Neon's proxy threw into one verdict: a stable code, whether a
 * retry can help, and a message and hint a person can act on. The lists follow docs/connections.md.
 */
export interface ConnectionFailure {
  code: string;
  transient: boolean;
  message: string;
  hint: string;
  /** The driver's own words, redacted, for verbose output. */
  detail: string;
  /** PostgreSQL's SQLSTATE, when the server refused (28P01, 3D000, 57P03). */
  sqlstate?: string;
  /** The connection was made and then ended (a reset, a closed socket, the server ending the session): cause connection_lost. */
  lost?: true;
}

type Target = Pick<DatabaseUrl, 'host' | 'port' | 'user' | 'database' | 'socket' | 'tls' | 'sslmode' | 'neon' | 'variable'>;

const TRANSIENT_SQLSTATES = new Set(['08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300']);
const TRANSIENT_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);
const TLS_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'HOSTNAME_MISMATCH',
]);
const NEON_TRANSIENT = [
  "couldn't connect to compute node",
  'failed to acquire permit to connect to the database',
  'too many connections attempts',
  'too many connections to this endpoint',
  'query_wait_timeout',
];
/** A connection that existed and ended, as opposed to one that was never made (refused, unresolved, timed out). */
const LOST_CODES = new Set(['ECONNRESET', 'EPIPE', '08003', '08006', '57P01', '57P02']);
const PG_TRANSIENT_MESSAGES = [
  'timeout expired',
  'connection terminated unexpectedly',
  'timeout exceeded when trying to connect',
  'connection terminated due to connection timeout',
];

interface ErrorShape {
  code?: string;
  message: string;
}

export function classifyConnectionError(error: unknown, target: Target): ConnectionFailure {
  const shape = toShape(error);
  const detail = redact(shape.message);
  const verdict = classify(shape, target);
  const sqlstate = isSqlState(shape.code) ? { sqlstate: shape.code } : {};
  const lost = (shape.code && LOST_CODES.has(shape.code)) || /connection terminated unexpectedly/i.test(shape.message) ? { lost: true as const } : {};
  return { ...verdict, message: redact(verdict.message), hint: redact(verdict.hint), detail, ...sqlstate, ...lost };
}

function toShape(error: unknown): ErrorShape {
  if (error instanceof AggregateError && error.errors.length > 0) return toShape(error.errors[0]);
  if (error instanceof Error) return { code: (error as NodeJS.ErrnoException).code, message: error.message };
  return { message: String(error) };
}

function classify({ code, message }: ErrorShape, target: Target): Omit<ConnectionFailure, 'detail'> {
  const lower = message.toLowerCase();
  const where = hostAndPort(target);
  const fatal = (c: string, m: string, h: string) => ({ code: c, transient: false, message: m, hint: h });
  const transient = (c: string, m: string, h: string) => ({ code: c, transient: true, message: m, hint: h });

  if (code === 'PASSWORD_MISSING') {
    return fatal(
      'PASSWORD_MISSING',
      `The server at ${where} asks for a password for user "${target.user}", and todo-db found none: not in ${target.variable}, not in PGPASSWORD, not in the password file (PGPASSFILE, default ~/.pgpass).`,
      `Put the password in the URL (percent-encoded), set PGPASSWORD, or add a line host:port:database:user:password to ~/.pgpass (mode 0600).`,
    );
  }
  if (code === '28P01' || lower.includes('password authentication failed')) {
    return fatal(
      'AUTH_FAILED',
      `The server at ${where} rejected the password for user "${target.user}".`,
      `Check the user name and password in ${target.variable}; for Neon, copy the connection string again from the console.`,
    );
  }
  if (code === '3D000') {
    return fatal(
      'DATABASE_NOT_FOUND',
      `Database "${target.database}" does not exist on ${where}.`,
      `Create it with: createdb -h ${target.host} -p ${target.port} -U ${target.user} ${target.database} (or CREATE DATABASE "${target.database}"), or fix the database name in ${target.variable}.`,
    );
  }
  if (lower.includes('endpoint id is not specified')) {
    return fatal(
      'NEON_ENDPOINT_REQUIRED',
      `Neon could not tell which endpoint ${where} is meant for: the client sent no TLS server name.`,
      `Add options=endpoint%3D${target.neon?.endpointId ?? '<endpoint-id>'} to ${target.variable}.`,
    );
  }
  if (/ip address .* not allowed/.test(lower) || lower.includes('not allowed to connect')) {
    return fatal(
      'IP_NOT_ALLOWED',
      `The server at ${where} does not allow connections from this machine's IP address.`,
      'Add this IP address to the allow list in the Neon console (Settings > IP Allow).',
    );
  }
  if (lower.includes('compute time quota')) {
    return fatal(
      'QUOTA_EXCEEDED',
      `The Neon project behind ${where} has used up its compute time quota.`,
      'Raise the quota or upgrade the plan in the Neon console; retrying will not help.',
    );
  }
  if (lower.includes('unsupported startup parameter')) {
    return fatal(
      'UNSUPPORTED_STARTUP_PARAMETER',
      `The pooler at ${where} rejected a startup parameter: ${message}.`,
      `Remove options or timeouts from ${target.variable}, or use the direct (non-pooler) host.`,
    );
  }
  if (NEON_TRANSIENT.some((m) => lower.includes(m))) {
    return transient(
      'SERVER_UNAVAILABLE',
      `The Neon endpoint at ${where} is not ready yet: ${message}.`,
      'Neon computes can take a few seconds to wake; retry with --retries 5.',
    );
  }
  if (code === '28000' && lower.includes('no encryption')) {
    return fatal(
      'TLS_REQUIRED',
      `The server at ${where} only accepts encrypted connections, but ${target.variable} disables TLS.`,
      `Remove sslmode=disable from ${target.variable}, or use sslmode=require.`,
    );
  }
  if (lower.includes('connection is insecure')) {
    return fatal('TLS_REQUIRED', `The server at ${where} requires TLS, but the connection was not encrypted.`, `Add sslmode=require to ${target.variable}.`);
  }
  if (code === '28000' || code === '42501') {
    return fatal(
      'ACCESS_DENIED',
      `The server at ${where} refused access for user "${target.user}" to database "${target.database}": ${message}.`,
      'Ask the database owner to grant access (pg_hba.conf, CONNECT privilege or role attributes).',
    );
  }
  if (lower.includes('does not support ssl')) {
    return fatal(
      'TLS_REQUIRED',
      `${target.variable} requires TLS, but the server at ${where} does not support encrypted connections.`,
      `Enable ssl on the server, or for a trusted local server use sslmode=disable (remote hosts also need --allow-insecure).`,
    );
  }
  if ((code && TLS_CERT_CODES.has(code)) || lower.includes('certificate') || lower.includes('hostname/ip does not match')) {
    return fatal('TLS_CERT_INVALID', `The TLS certificate of ${target.host} could not be verified: ${message}.`, tlsHint(target));
  }
  if (code === 'ENOTFOUND') {
    return fatal('HOST_NOT_FOUND', `The host name "${target.host}" could not be resolved.`, `Check the host in ${target.variable} for typos.`);
  }
  if (code === 'ECONNREFUSED') {
    return transient(
      'CONNECTION_REFUSED',
      `Nothing accepted the connection at ${where}. Is the server running?`,
      `Start the server, or check the host and port in ${target.variable}.`,
    );
  }
  if (code === '53300' || lower.includes('too many connections') || lower.includes('too many clients')) {
    return transient(
      'TOO_MANY_CONNECTIONS',
      `The server at ${where} has no free connection slots.`,
      'Close idle clients or use the pooled host; retrying may help.',
    );
  }
  if (code === '57P03') {
    return transient('SERVER_STARTING', `The server at ${where} is starting up or in recovery.`, 'Wait a moment and retry with --retries 5.');
  }
  if (code === 'NOT_POSTGRES' || lower.includes('received invalid response')) {
    return fatal(
      'NOT_POSTGRES',
      `The server at ${where} did not answer like PostgreSQL (${message}).`,
      `Check the port in ${target.variable}: something other than PostgreSQL is listening there.`,
    );
  }
  if (code && (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_SOCKET_CODES.has(code))) {
    return transient('CONNECTION_FAILED', `The connection to ${where} failed: ${message}.`, 'This is usually temporary; retry with --retries 5.');
  }
  if (PG_TRANSIENT_MESSAGES.some((m) => lower.includes(m))) {
    const timedOut = lower.includes('timeout');
    return transient(
      timedOut ? 'CONNECT_TIMEOUT' : 'CONNECTION_FAILED',
      timedOut ? `The server at ${where} did not answer before the connect timeout.` : `The connection to ${where} was closed unexpectedly.`,
      timedOut
        ? 'Check that the host is reachable; a waking Neon compute may need --connect-timeout 15000 and --retries 5.'
        : 'Check the server log; retry with --retries 5 if the server was restarting.',
    );
  }
  return fatal('CONNECTION_FAILED', `The connection to ${where} failed: ${message}.`, `Check ${target.variable} and that the server is reachable.`);
}

function tlsHint(target: Target): string {
  if (target.tls.stricterThanLibpq) {
    return `pg verifies the certificate and host name even for sslmode=${target.sslmode}, unlike libpq. Use sslmode=verify-full with sslrootcert=<CA file>, or add uselibpqcompat=true for libpq's behaviour, or sslmode=no-verify to encrypt without checking.`;
  }
  return 'Make sure the host name matches the certificate and that sslrootcert names the CA that signed it.';
}
