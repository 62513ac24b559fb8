import { existsSync, readFileSync, type Stats, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseEnv } from 'node:util';
// zod/mini: the same validation with a tree-shakable API, so the bundle carries only what we use (start-up).
import * as z from 'zod/mini';
import { PASSWORD_HASHES, type PasswordHashAlgorithm } from '../auth/password.js';
import { usageError } from '../core/errors.js';
import { type DatabaseUrl, parseDatabaseUrl } from './database-url.js';
import { type ExternalTables, resolveExternalTables, resolveShadowInit, type ShadowInit } from './external-tables.js';
import { registerSecret } from './redact.js';

/**
 * Settings come from flags, then the process environment, then `.env` (or --env-file): first found wins.
 * Everything from outside is validated here, once, so the rest of the code can trust it.
 */
const ENVIRONMENTS = ['development', 'test', 'production'] as const;
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface SettingsFlags {
  databaseUrl?: string;
  directDatabaseUrl?: string;
  envFile?: string;
  allowInsecure?: boolean;
  localDir?: string;
  migrationsDir?: string;
}

export type DatabaseSource = 'flag' | 'environment' | 'env-file';

export interface Settings {
  environment: Environment;
  logLevel: LogLevel;
  /** Undefined means: use the local embedded database. */
  database?: DatabaseUrl & { source: DatabaseSource };
  /** For migrations; falls back to `database`. */
  directDatabase?: DatabaseUrl & { source: DatabaseSource };
  localDir?: string;
  migrationsDir?: string;
  allowInsecure: boolean;
  /** Tables other tools manage: left out of migrate diff and inspect-indexes comparisons, copied into shadow databases. */
  externalTables: ExternalTables;
  /** How seed-dev hashes the test user's password: as Better Auth does by default (scrypt), or bcrypt. */
  passwordHash: PasswordHashAlgorithm;
  /** A SQL file that shadow databases run first, instead of copying the external tables from the live database. */
  shadowInit?: ShadowInit;
  warnings: string[];
}

/** The environment variables todo-db reads its settings from. */
export const SETTING_VARIABLES = [
  'DATABASE_URL',
  'DIRECT_DATABASE_URL',
  'ENVIRONMENT',
  'LOG_LEVEL',
  'TODO_DB_LOCAL_DIR',
  'TODO_DB_EXTERNAL_TABLES',
  'TODO_DB_PASSWORD_HASH',
  'TODO_DB_SHADOW_INIT',
] as const;
type Variable = (typeof SETTING_VARIABLES)[number];

const noControlCharacters = (name: string) =>
  z
    .string()
    .check(z.refine((v) => !/[\0\r\n]/.test(v), { error: `${name} contains a newline or NUL character. Remove the control characters from the value.` }));

const rawSchema = z.object({
  ENVIRONMENT: z.optional(
    z.pipe(noControlCharacters('ENVIRONMENT'), z.enum(ENVIRONMENTS, { error: 'ENVIRONMENT must be one of development, test, production' })),
  ),
  LOG_LEVEL: z.optional(z.pipe(noControlCharacters('LOG_LEVEL'), z.enum(LOG_LEVELS, { error: 'LOG_LEVEL must be one of debug, info, warn, error' }))),
  TODO_DB_PASSWORD_HASH: z.optional(
    z.pipe(noControlCharacters('TODO_DB_PASSWORD_HASH'), z.enum(PASSWORD_HASHES, { error: 'TODO_DB_PASSWORD_HASH must be scrypt or bcrypt' })),
  ),
  TODO_DB_LOCAL_DIR: z.optional(
    noControlCharacters('TODO_DB_LOCAL_DIR').check(
      z.refine((v) => v.trim().length > 0, { error: 'TODO_DB_LOCAL_DIR is set but empty. Unset it, or name a directory such as ./.todo-db' }),
    ),
  ),
});

export function resolveSettings(flags: SettingsFlags = {}, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Settings {
  const envFile = readEnvFile(flags.envFile, cwd);
  const pick = (name: Variable): { value: string; source: DatabaseSource } | undefined => {
    if (env[name] !== undefined) return { value: env[name], source: 'environment' };
    if (envFile.values[name] === undefined) return undefined;
    refuseCutValue(name, envFile);
    return { value: envFile.values[name], source: 'env-file' };
  };
  // pg reads PGPASSWORD itself when a URL has no password: it is a secret like any other.
  registerSecret(env.PGPASSWORD);

  const raw = {
    ENVIRONMENT: pick('ENVIRONMENT')?.value,
    LOG_LEVEL: pick('LOG_LEVEL')?.value,
    TODO_DB_PASSWORD_HASH: pick('TODO_DB_PASSWORD_HASH')?.value,
    TODO_DB_LOCAL_DIR: flags.localDir ?? pick('TODO_DB_LOCAL_DIR')?.value,
  };
  const parsed = rawSchema.safeParse(raw);
  if (!parsed.success) throw configurationError(parsed.error, raw);

  const allowInsecure = flags.allowInsecure === true;
  const database = readUrl(flags.databaseUrl, '--database-url', pick('DATABASE_URL'), 'DATABASE_URL', allowInsecure);
  // --database-url alone means "this database, for everything": a DIRECT_DATABASE_URL from the environment or
  // .env belongs to another configuration and must not redirect migrations elsewhere.
  const directFromConfig = flags.databaseUrl === undefined ? pick('DIRECT_DATABASE_URL') : undefined;
  const directDatabase = readUrl(flags.directDatabaseUrl, '--direct-database-url', directFromConfig, 'DIRECT_DATABASE_URL', allowInsecure) ?? database;

  const environment = parsed.data.ENVIRONMENT ?? 'development';
  if (!database && environment === 'production') {
    throw usageError(
      'DATABASE_URL_MISSING',
      'DATABASE_URL is not set, and ENVIRONMENT is production, where todo-db never falls back to the local database.',
      'Set DATABASE_URL to the production database, e.g. postgresql://user:password@ep-example.eu-central-1.aws.neon.tech/todo?sslmode=require',
    );
  }

  const localDirInput = parsed.data.TODO_DB_LOCAL_DIR;
  const localDir = localDirInput === undefined ? undefined : resolve(cwd, localDirInput);
  if (!database && localDir) assertCanHoldLocalDatabase(localDir, flags.localDir !== undefined ? '--local-dir' : 'TODO_DB_LOCAL_DIR');

  return {
    environment,
    logLevel: parsed.data.LOG_LEVEL ?? 'info',
    database,
    directDatabase,
    localDir,
    migrationsDir: flags.migrationsDir === undefined ? undefined : resolve(cwd, flags.migrationsDir),
    allowInsecure,
    externalTables: resolveExternalTables(pick('TODO_DB_EXTERNAL_TABLES')?.value, cwd),
    passwordHash: parsed.data.TODO_DB_PASSWORD_HASH ?? 'scrypt',
    shadowInit: resolveShadowInit(pick('TODO_DB_SHADOW_INIT')?.value, cwd),
    warnings: [...new Set([...(database?.warnings ?? []), ...(directDatabase?.warnings ?? [])])],
  };
}

/** --shadow-database-url: parsed like the others, its password masked from then on. */
export function parseShadowUrl(value: string | undefined, settings: Pick<Settings, 'allowInsecure'>): DatabaseUrl | undefined {
  if (value === undefined) return undefined;
  const url = parseDatabaseUrl(value, { variable: '--shadow-database-url', allowInsecure: settings.allowInsecure });
  registerSecret(url.password);
  return url;
}

/** A flag beats the environment, which beats .env (pick has already chosen between those two). */
function readUrl(
  flag: string | undefined,
  flagName: string,
  configured: { value: string; source: DatabaseSource } | undefined,
  variable: string,
  allowInsecure: boolean,
) {
  const input = flag !== undefined ? { value: flag, source: 'flag' as const, variable: flagName } : configured && { ...configured, variable };
  if (!input) return undefined;
  const url = parseDatabaseUrl(input.value, { variable: input.variable, allowInsecure });
  registerSecret(url.password);
  return { ...url, source: input.source };
}

interface EnvFile {
  path: string;
  text: string;
  values: Record<string, string | undefined>;
}

function readEnvFile(envFile: string | undefined, cwd: string): EnvFile {
  const path = resolve(cwd, envFile ?? '.env');
  if (!existsSync(path)) {
    if (envFile === undefined) return { path, text: '', values: {} };
    throw usageError(
      'ENV_FILE_NOT_FOUND',
      `The env file ${path} (from --env-file) does not exist.`,
      'Check the path, or leave out --env-file to read .env from the working directory.',
    );
  }
  try {
    const text = readFileSync(path, 'utf8');
    return { path, text, values: parseEnv(text) };
  } catch (error) {
    throw usageError(
      'ENV_FILE_INVALID',
      `The env file ${path} could not be read: ${(error as Error).message}.`,
      'Fix the file; each line should look like NAME=value.',
    );
  }
}

/**
 * .env reads an unquoted "#" as the start of a comment, even inside a word, so `DATABASE_URL=...:pa#ss@host`
 * silently becomes `...:pa`. A "#" after a space is a comment on purpose; one glued to the value cut it. The
 * message shows nothing of the value: it is usually a password that was cut.
 */
function refuseCutValue(name: Variable, envFile: EnvFile): void {
  const line = envFile.text.split(/\r?\n/).findLast((candidate) => new RegExp(`^\\s*(?:export\\s+)?${name}\\s*=`).test(candidate));
  const value = line?.slice(line.indexOf('=') + 1).trim() ?? '';
  if (/^["'`]/.test(value) || !/[^\s#]#/.test(value)) return;
  throw usageError(
    'ENV_VALUE_CUT',
    `${name} in ${envFile.path} holds an unquoted "#" inside the value, which .env files read as the start of a comment: the value was cut at the "#".`,
    `Quote the value: ${name}="…"; inside a URL, also percent-encode "#" in the password as %23.`,
  );
}

/** The local database's directory must be a directory, or creatable below one. */
function assertCanHoldLocalDatabase(dir: string, source: string): void {
  for (let path = dir; ; path = dirname(path)) {
    const stat = statIfExists(path);
    if (stat?.isDirectory()) return;
    if (stat) {
      throw usageError(
        'TODO_DB_LOCAL_DIR_INVALID',
        `${source} is ${dir}, but ${path} is a file, so the local database cannot be created there.`,
        'Point it at a directory, or set DATABASE_URL to use another database.',
      );
    }
    if (dirname(path) === path) return;
  }
}

function statIfExists(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (error) {
    // ENOTDIR: a parent is a file, which the next, shorter path will find.
    if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  }
}

function configurationError(error: z.core.$ZodError, raw: Record<string, string | undefined>) {
  const issue = error.issues[0];
  const variable = String(issue?.path[0] ?? 'configuration');
  const message = issue?.message ?? `${variable} is invalid`;
  const examples: Record<string, string> = {
    ENVIRONMENT: 'Set ENVIRONMENT=development, test or production.',
    LOG_LEVEL: 'Set LOG_LEVEL=info (or debug, warn, error).',
    TODO_DB_LOCAL_DIR: 'Set TODO_DB_LOCAL_DIR=./.todo-db, or unset it.',
    TODO_DB_PASSWORD_HASH:
      "Set TODO_DB_PASSWORD_HASH=bcrypt when the app configures Better Auth to hash with bcrypt, or unset it for Better Auth's default (scrypt).",
  };
  const value = raw[variable];
  const seen = issue?.code === 'invalid_value' && value !== undefined ? ` (got "${value}")` : '';
  return usageError(`${variable}_INVALID`, `${message}${seen}.`.replace(/\.\.$/, '.'), examples[variable] ?? 'Fix the value and run again.');
}
