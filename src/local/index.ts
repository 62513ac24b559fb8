/** The embedded PostgreSQL used when no database URL is configured. See server.ts for the operations. */
export { defaultLocalDir, resolveLocalDir } from './paths.js';
export type { LocalServer, LocalServerOptions } from './server.js';
export { destroyLocalServer, ensureLocalServer, findRunningLocalServer, localServerStatus, stopLocalServer } from './server.js';
