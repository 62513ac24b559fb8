import type pg from 'pg';

/**
 * A backend notices a vanished client only when it next writes to it, so a migrator killed during a long
 * statement would keep its transaction open and the migration lock held until that statement ends. With this
 * setting (PostgreSQL 14+) the server polls the socket while a statement runs and aborts once the client is gone.
 */
export const CONNECTION_CHECK_INTERVAL = '1s';

const supported = new WeakMap<pg.Client, Promise<boolean>>();

/** Asked once per connection: servers before 14 reject the setting as unknown. */
export function connectionCheckSupported(client: pg.Client): Promise<boolean> {
  let answer = supported.get(client);
  if (!answer) {
    answer = client.query<{ version: number }>("select current_setting('server_version_num')::int as version").then(({ rows }) => (rows[0]?.version ?? 0) >= 140_000);
    supported.set(client, answer);
  }
  return answer;
}
