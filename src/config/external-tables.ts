import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';
import { projectRoot } from './package-root.js';

/**
 * Tables in schema public that other tools manage, which todo-db's migrations never make. None by default:
 * Better Auth's tables are the project's own (prisma/migrations/20261203000000_better_auth_users). migrate diff
 * and inspect-indexes leave external tables out of the comparison (and say so); they are still listed where a
 * listing is asked for.
 */
export const DEFAULT_EXTERNAL_TABLES: readonly string[] = [];

export type ExternalTablesSource = 'TODO_DB_EXTERNAL_TABLES' | 'package.json' | 'default';

export interface ExternalTables {
  names: string[];
  source: ExternalTablesSource;
}

/**
 * TODO_DB_EXTERNAL_TABLES (comma-separated; empty means none) wins over the project's package.json
 * (`"todo-db": { "externalTables": [...] }`), which wins over the default. Names are exact: "User" is not "user".
 */
export function resolveExternalTables(variable: string | undefined, cwd: string): ExternalTables {
  if (variable !== undefined) return { names: fromList(variable), source: 'TODO_DB_EXTERNAL_TABLES' };
  const configured = fromPackageJson(path.join(projectRoot(cwd), 'package.json'));
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

function fromPackageJson(file: string): string[] | undefined {
  if (!existsSync(file)) return undefined;
  let config: unknown;
  try {
    config = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)['todo-db'];
  } catch {
    return undefined; // not ours to judge: npm reports a broken package.json
  }
  if (config === undefined) return undefined;
  const names = (config as { externalTables?: unknown } | null)?.externalTables;
  if (names === undefined) return undefined;
  if (Array.isArray(names) && names.every((name) => typeof name === 'string' && name.trim() !== '')) return [...new Set(names as string[])];
  throw usageError('EXTERNAL_TABLES_INVALID', `"todo-db": { "externalTables" } in ${file} must be a list of table names.`, 'Write it as "todo-db": { "externalTables": ["user", "session", "account", "verification", "jwks"] }, or [] for none.');
}
