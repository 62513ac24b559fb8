/**
 * A backend notices a vanished client only when it next writes to it, so a migrator killed during a long
 * statement would keep its transaction open and the migration lock held until that statement ends. With this
 * setting (PostgreSQL 14+) the server polls the socket while a statement runs and aborts once the client is gone.
 */
export const CONNECTION_CHECK_INTERVAL = '1s';

/** Servers before 14 reject the setting as unknown; the version is read with the history, not in a query of its own. */
export const connectionCheckSupported = (serverVersionNum: number): boolean => serverVersionNum >= 140_000;
