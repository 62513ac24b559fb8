import type pg from 'pg';
import { type DatabaseUrl, hostAndPort } from '../config/database-url.js';
import { type TodoDbError, usageError } from '../core/errors.js';

export interface SecondConnection {
  client: Promise<pg.Client>;
  /** For when the check never runs (it closes the connection itself). */
  close: () => void;
}

/** The pooler check's second connection, opened ahead of the check so that its connect costs no wait there. */
export function openSecondConnection(open: () => Promise<pg.Client>): SecondConnection {
  const client = open();
  client.catch(() => {});
  return {
    client,
    close: () =>
      void client
        .then(
          (opened) => opened.end(),
          () => {},
        )
        .catch(() => {}),
  };
}

/** A session lock through a transaction-mode pooler stays on whichever backend ran it. */
export function refusePooledUrl(url: DatabaseUrl): void {
  if (url.pooled) throw pooledError(url, `${url.variable} points at a transaction-mode pooler (${hostAndPort(url)}), where the migration lock cannot hold.`);
}

/** The URL rules only know Neon's -pooler hosts and port 6432; a PgBouncer elsewhere is found by how it behaves. */
export async function refuseDetectedPooler(url: DatabaseUrl, client: pg.Client, second: Promise<pg.Client>): Promise<void> {
  if (!(await goesThroughTransactionPooler(client, second))) return;
  throw pooledError(
    url,
    `${url.variable} (${hostAndPort(url)}) goes through a transaction-mode pooler: two connections shared one server session, so the migration lock cannot hold.`,
  );
}

function pooledError(url: DatabaseUrl, message: string): TodoDbError {
  return usageError(
    'POOLED_URL_FOR_MIGRATIONS',
    message,
    url.neon
      ? `Set DIRECT_DATABASE_URL to the direct host, ${url.host.replace(/-pooler(?=\.)/i, '')}, and keep DATABASE_URL pooled for the app.`
      : 'Set DIRECT_DATABASE_URL to the database server itself (not PgBouncer), and keep DATABASE_URL pooled for the app.',
  );
}

/**
 * Finds out whether a connection goes through a transaction-mode pooler, whatever its host and port.
 *
 * Signals that looked tempting but are not reliable:
 * - ParameterStatus, server_version, application_name: PgBouncer 1.18 replays the server's own values.
 * - inet_server_port() or the client port versus ours: any port forward (Docker, kubectl) changes them too.
 * - BackendKeyData's pid versus pg_backend_pid(): Neon's proxy issues its own cancel keys on direct hosts.
 * - Asking one connection for pg_backend_pid() twice: with a single client the pooler hands back the same idle
 *   backend, so a pooler looks like a session.
 *
 * What defines transaction pooling is that a client does not own its backend between transactions, so we make a
 * second client compete for it. After `first` has finished a statement, `second` opens a transaction:
 * - direct (or a session-mode pooler, or a plain proxy): first's backend stays first's, so second gets another one
 *   and first keeps its own afterwards;
 * - transaction mode: first's backend is idle in the pool, and PgBouncer hands an idle server out before opening a
 *   new one, so second gets it; should it not, first has to take another backend afterwards.
 * Either observation is deterministic; a direct connection can show neither.
 */
async function goesThroughTransactionPooler(first: pg.Client, second: Promise<pg.Client>): Promise<boolean> {
  try {
    // `second` was opened by the caller meanwhile (while the files were judged): its connect costs no wait here.
    const own = await backendPid(first);
    // One message: second holds its backend from begin until it closes, so first cannot be handed the same one meanwhile.
    const results = (await (await second).query('begin; select pg_backend_pid() as pid')) as unknown as pg.QueryResult<{ pid: number }>[];
    if (results[1]?.rows[0]?.pid === own) return true;
    return (await backendPid(first)) !== own;
  } catch (error) {
    // Statement mode refuses transaction blocks outright: "... not allowed in statement pooling mode".
    if (/pooling mode/i.test((error as Error).message)) return true;
    throw error;
  } finally {
    // Closing ends its transaction: no rollback needed.
    await second
      .then(
        (client) => client.end(),
        () => {},
      )
      .catch(() => {});
  }
}

async function backendPid(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  return rows[0]?.pid ?? -1;
}
