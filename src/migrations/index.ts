export { MIGRATION_LOCK_KEY } from './advisory-lock.js';
export { type Migration, readMigrations } from './folder.js';
export type { DownOptions, DownReport, MigratorOptions, PlannedStep, StatusEntry, StatusReport, StepResult, UpOptions, UpReport } from './migrator.js';
export { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_LOCK_TIMEOUT_MS, Migrator, migrationStatus } from './migrator.js';
