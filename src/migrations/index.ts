export { Migrator, migrationStatus, DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_LOCK_TIMEOUT_MS } from './migrator.js';
export type { MigratorOptions, UpOptions, DownOptions, UpReport, DownReport, StatusReport, StatusEntry, PlannedStep, StepResult } from './migrator.js';
export { readMigrations, type Migration } from './folder.js';
export { MIGRATION_LOCK_KEY } from './advisory-lock.js';
