import { usageError } from '../errors.js';
import { readProjectSettings, type ProjectSettings } from './project-settings.js';

/**
 * Tables in schema public that other tools manage, which todo-db's migrations never make: Better Auth's core
 * tables and its JWT plugin's jwks by default. migrate diff and inspect-indexes leave them out of the comparison
 * (and say so); they are still listed where a listing is asked for.
 */
export const DEFAULT_EXTERNAL_TABLES = ['user', 'session', 'account', 'verification', 'jwks'] as const;

export type ExternalTablesSource = 'TODO_DB_EXTERNAL_TABLES' | 'package.json' | 'default';

export interface ExternalTables {
  names: string[];
  source: ExternalTablesSource;
}

/**
 * TODO_DB_EXTERNAL_TABLES (comma-separated; empty means none) wins over the project's package.json
 * (`"todo-db": { "externalTables": [...] }`, found by readProjectSettings), which wins over the default. Names are exact: "User" is not "user".
 */
export function resolveExternalTables(variable: string | undefined, cwd: string): ExternalTables {
  if (variable !== undefined) return { names: fromList(variable), source: 'TODO_DB_EXTERNAL_TABLES' };
  const configured = fromProjectSettings(readProjectSettings(cwd));
  if (configured) return { names: configured, source: 'package.json' };
  return { names: [...DEFAULT_EXTERNAL_TABLES], source: 'default' };
}

function fromList(value: string): string[] {
  if (value.trim() === '') return [];
  const names = value.split(',').map((name) => name.trim());
  if (names.some((name) => name === '' || /[\0\r\n]/.test(name))) {
    throw usageError('TODO_DB_EXTERNAL_TABLES_INVALID', `TODO_DB_EXTERNAL_TABLES has an empty or unprintable name ("${value.replace(/[\0\r\n]/g, ' ')}").`, 'List table names separated by commas, e.g. TODO_DB_EXTERNAL_TABLES=user,session,account,verification,jwks, or set it empty for none.');
  }
  return [...new Set(names)];
}

function fromProjectSettings(settings: ProjectSettings | undefined): string[] | undefined {
  if (settings === undefined) return undefined;
  const { file, value: config } = settings;
  const names = (config as { externalTables?: unknown } | null)?.externalTables;
  if (names === undefined) return undefined;
  if (Array.isArray(names) && names.every((name) => typeof name === 'string' && name.trim() !== '')) return [...new Set(names as string[])];
  throw usageError('EXTERNAL_TABLES_INVALID', `"todo-db": { "externalTables" } in ${file} must be a list of table names.`, 'Write it as "todo-db": { "externalTables": ["user", "session", "account", "verification", "jwks"] }, or [] for none.');
}
