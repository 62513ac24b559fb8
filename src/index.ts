/**
 * The library face of todo-db, for the app's backend: the same settings, URL rules, pool and migration engine
 * as the CLI. Declarations for every export ship in dist/types.
 */
export { resolveSettings, type Settings, type SettingsFlags } from './config/settings.js';
export { parseDatabaseUrl, type DatabaseUrl } from './config/database-url.js';
export { redact } from './config/redact.js';
export { createPool, clientConfig, type PoolOptions } from './db/pool.js';
export { checkConnection, type ConnectionReport } from './db/check-connection.js';
export { TodoDbError } from './core/errors.js';
export { betterAuthPassword, hashPassword, verifyPassword, type PasswordHashAlgorithm, type PasswordHashing } from './auth/password.js';
export { openDatabase, Prisma, TaskPriority, TaskStatus, type Database, type DatabaseOptions, type Task, type TransactionClient, type TransactionOptions, type User } from './db/database.js';
export { createMigrator, type CreateMigratorOptions, type TodoDbMigrator } from './migrations/api.js';
export type { DownOptions, DownReport, PlannedStep, StatusEntry, StatusReport, StepResult, UpOptions, UpReport } from './migrations/migrator.js';
export type { MigrationState } from './migrations/plan.js';
