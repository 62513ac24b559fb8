/**
 * The library face of todo-db, for the app's backend: the same settings, URL rules, pool and migration engine
 * as the CLI. Declarations for every export ship in dist/types.
 */

export { betterAuthPassword, hashPassword, type PasswordHashAlgorithm, type PasswordHashing, verifyPassword } from './auth/password.js';
export { type DatabaseUrl, parseDatabaseUrl } from './config/database-url.js';
export { redact } from './config/redact.js';
export { resolveSettings, type Settings, type SettingsFlags } from './config/settings.js';
export { TodoDbError } from './core/errors.js';
export { type ConnectionReport, checkConnection } from './db/check-connection.js';
export {
  type Database,
  type DatabaseOptions,
  openDatabase,
  Prisma,
  type Task,
  TaskPriority,
  TaskStatus,
  type TransactionClient,
  type TransactionOptions,
  type User,
} from './db/database.js';
export { clientConfig, createPool, type PoolOptions } from './db/pool.js';
export { type CreateMigratorOptions, createMigrator, type TodoDbMigrator } from './migrations/api.js';
export type { DownOptions, DownReport, PlannedStep, StatusEntry, StatusReport, StepResult, UpOptions, UpReport } from './migrations/migrator.js';
export type { MigrationState } from './migrations/plan.js';
