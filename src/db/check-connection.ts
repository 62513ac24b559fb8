import { type DatabaseUrl, hostAndPort } from '../config/database-url.js';
import { type Connection, type ConnectOptions, connect } from './connect.js';

export interface CheckConnectionOptions extends ConnectOptions {
  url: DatabaseUrl;
  /** A connection to `url` the caller has just opened and keeps (setup shares one across its steps); left open. */
  connection?: Connection;
}

export interface ConnectionReport {
  target: string;
  serverVersion: string;
  database: string;
  user: string;
  tls: boolean;
  tlsVersion: string | null;
  pooled: boolean;
  neon: boolean;
  latencyMs: number;
  connectMs: number;
  attempts: number;
  elapsedMs: number;
}

export async function checkConnection({ url, connection, ...options }: CheckConnectionOptions): Promise<ConnectionReport> {
  const { client, attempts, elapsedMs, connectMs } = connection ?? (await connect(url, options));
  try {
    // pg_stat_ssl describes the server side of this session; through a pooler that is the pooler's own link.
    // Timed, it is also the latency ping: a catalog lookup of one row costs a round trip plus microseconds.
    const pingStarted = performance.now();
    const { rows } = await client.query<{ server_version: string; database: string; user: string; ssl: boolean | null; tls_version: string | null }>(
      `select current_setting('server_version') as server_version, current_database() as database, current_user as user,
              s.ssl, s.version as tls_version
         from (select 1) one left join pg_stat_ssl s on s.pid = pg_backend_pid()`,
    );
    const latencyMs = Math.round((performance.now() - pingStarted) * 100) / 100;
    const row = rows[0];
    if (!row) throw new Error('the server returned no row for the connection check');
    return {
      target: hostAndPort(url),
      serverVersion: row.server_version,
      database: row.database,
      user: row.user,
      tls: row.ssl ?? url.tls.enabled,
      tlsVersion: row.tls_version,
      pooled: url.pooled,
      neon: url.neon !== undefined,
      latencyMs,
      connectMs,
      attempts,
      elapsedMs,
    };
  } finally {
    if (!connection) await client.end().catch(() => {});
  }
}
