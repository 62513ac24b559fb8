import path from 'node:path';
import { usageError } from '../core/errors.js';
import { type ProjectSettings, readProjectSettings } from './project-settings.js';

/**
 * Tables in schema public that other tools manage (an audit log, an organisation table), which todo-db's
 * migrations never make. None by default: the app's own tables, Better Auth's included, are made by migrations.
 * migrate diff and inspect-indexes leave them out of the comparison (and say so); shadow databases get their
 * definitions first, so a migration may reference them.
 */
const DEFAULT_EXTERNAL_TABLES: readonly string[] = [];

export type ExternalTablesSource = 'TODO_DB_EXTERNAL_TABLES' | 'package.json' | 'default';

export interface ExternalTables {
  names: string[];
  source: ExternalTablesSource;
}

/** A SQL file run in every shadow database before the migrations, instead of copying the external tables. */
export interface ShadowInit {
  /** Absolute. */
  path: string;
  source: 'TODO_DB_SHADOW_INIT' | 'package.json';
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

/**
 * TODO_DB_SHADOW_INIT (a path from cwd; empty means none) wins over package.json's `"todo-db": { "shadowInit" }`
 * (a path from that package.json's folder). The file is only read when a shadow database is built.
 */
export function resolveShadowInit(variable: string | undefined, cwd: string): ShadowInit | undefined {
  if (variable !== undefined) {
    if (/[\0\r\n]/.test(variable))
      throw usageError(
        'TODO_DB_SHADOW_INIT_INVALID',
        'TODO_DB_SHADOW_INIT contains a newline or NUL character.',
        'Set it to the path of a SQL file, e.g. TODO_DB_SHADOW_INIT=prisma/shadow-init.sql, or empty for none.',
      );
    return variable.trim() === '' ? undefined : { path: path.resolve(cwd, variable.trim()), source: 'TODO_DB_SHADOW_INIT' };
  }
  const settings = readProjectSettings(cwd);
  if (settings === undefined) return undefined;
  const { file } = settings;
  const value = (settings.value as { shadowInit?: unknown } | null)?.shadowInit;
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.trim() !== '') return { path: path.resolve(path.dirname(file), value), source: 'package.json' };
  throw usageError(
    'SHADOW_INIT_INVALID',
    `"todo-db": { "shadowInit" } in ${file} must be the path of a SQL file.`,
    'Write it as "todo-db": { "shadowInit": "prisma/shadow-init.sql" } (relative to that package.json), or leave it out.',
  );
}

function fromList(value: string): string[] {
  if (value.trim() === '') return [];
  const names = value.split(',').map((name) => name.trim());
  if (names.some((name) => name === '' || /[\0\r\n]/.test(name))) {
    throw usageError(
      'TODO_DB_EXTERNAL_TABLES_INVALID',
      `TODO_DB_EXTERNAL_TABLES has an empty or unprintable name ("${value.replace(/[\0\r\n]/g, ' ')}").`,
      'List table names separated by commas, e.g. TODO_DB_EXTERNAL_TABLES=audit_log,organization, or set it empty for none.',
    );
  }
  return [...new Set(names)];
}

function fromProjectSettings(settings: ProjectSettings | undefined): string[] | undefined {
  if (settings === undefined) return undefined;
  const { file, value: config } = settings;
  const names = (config as { externalTables?: unknown } | null)?.externalTables;
  if (names === undefined) return undefined;
  if (Array.isArray(names) && names.every((name) => typeof name === 'string' && name.trim() !== '')) return [...new Set(names as string[])];
  throw usageError(
    'EXTERNAL_TABLES_INVALID',
    `"todo-db": { "externalTables" } in ${file} must be a list of table names.`,
    'Write it as "todo-db": { "externalTables": ["audit_log", "organization"] }, or [] for none.',
  );
}
