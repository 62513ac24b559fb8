import { createHash } from 'node:crypto';
// Synchronous on purpose: a hundred small files read faster without a thread-pool round trip per call.
import { lstatSync, readdirSync, readFileSync, realpathSync, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';

/**
 * The migrations folder in Prisma's layout: `<UTC YYYYMMDDHHMMSS>_<slug>/migration.sql`, plus todo-db's own
 * `down.sql`, and `migration_lock.toml`. Everything read here is validated before any SQL runs.
 */
export interface Migration {
  name: string;
  path: string;
  sql: string;
  /** SHA-256 of migration.sql's bytes, as Prisma stores it. */
  checksum: string;
  /** down.sql, read only when a rollback first needs it; undefined when the file does not exist. */
  readDown(): string | undefined;
  /** False when the first line opts out: `-- todo-db: no-transaction` (for CREATE INDEX CONCURRENTLY). */
  transactional: boolean;
}

export const MIGRATION_NAME = /^\d{14}_[a-z0-9]+(?:_[a-z0-9]+)*$/;
export const NO_TRANSACTION_HEADER = '-- todo-db: no-transaction';
const LOCK_FILE = 'migration_lock.toml';

export function readMigrations(dir: string): Migration[] {
  const entries = listFolder(dir);
  checkLockFile(dir);
  const root = realpathSync(dir);
  const names = entries.filter((entry) => entry.name !== LOCK_FILE && !entry.name.startsWith('.')).map((entry) => entry.name).sort();
  return names.map((name) => readMigration(root, dir, name));
}

function listFolder(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    throw usageError('MIGRATIONS_DIR_MISSING', `The migrations folder ${dir} does not exist.`, 'Check --migrations-dir, or create a migration with todo-db migrate create <name>.');
  }
}

function readMigration(root: string, dir: string, name: string): Migration {
  const folder = path.join(dir, name);
  const stat = lstatSync(folder);
  if (!stat.isDirectory() && !stat.isSymbolicLink()) {
    throw usageError('MIGRATION_INVALID', `${folder} is a file; the migrations folder may only hold migration folders and ${LOCK_FILE}.`, 'Move the file out of the migrations folder.');
  }
  if (!MIGRATION_NAME.test(name)) {
    throw usageError('MIGRATION_INVALID', `The migration folder "${name}" is not named <UTC YYYYMMDDHHMMSS>_<lowercase_slug>.`, 'Rename it, or create migrations with todo-db migrate create <name>.');
  }
  const linked = stat.isSymbolicLink();
  const sqlPath = path.join(folder, 'migration.sql');
  const sqlBytes = readInside(root, sqlPath, linked);
  if (sqlBytes === undefined) {
    throw usageError('MIGRATION_INVALID', `${sqlPath} is missing.`, 'Every migration folder needs a migration.sql.');
  }
  const sql = sqlBytes.toString('utf8');
  // Read once, on first use: a rollback checks it, plans it and runs it.
  let down: { sql: string | undefined } | undefined;
  return {
    name,
    path: sqlPath,
    sql,
    checksum: sha256(sqlBytes),
    readDown: () => (down ??= { sql: readInside(root, path.join(folder, 'down.sql'), linked)?.toString('utf8') }).sql,
    transactional: !sql.trimStart().toLowerCase().startsWith(NO_TRANSACTION_HEADER),
  };
}

/** Checksums of the same text with CRLF and LF swapped: Prisma treats those as unchanged, and so do we. */
export function equivalentChecksums(migration: Migration): string[] {
  return [sha256(migration.sql.replace(/\r\n/g, '\n')), sha256(migration.sql.replace(/\r?\n/g, '\r\n'))];
}

/**
 * Reads a file, refusing any path (folder or file symlink) that resolves outside the migrations folder. Only a
 * symlink needs resolving; plain files are read directly, which keeps a hundred migrations cheap to load.
 */
function readInside(root: string, file: string, folderLinked: boolean): Buffer | undefined {
  const stat = lstatIfExists(file);
  if (!stat) return undefined;
  if (folderLinked || stat.isSymbolicLink()) {
    const real = realpathSync(file);
    if (real !== root && !real.startsWith(root + path.sep)) {
      throw usageError('MIGRATION_OUTSIDE_FOLDER', `${file} resolves to ${real}, outside the migrations folder ${root}.`, 'Migrations must live inside the migrations folder; replace the symlink with the file itself.');
    }
  }
  return readFileSync(file);
}

function lstatIfExists(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function checkLockFile(dir: string): void {
  const file = path.join(dir, LOCK_FILE);
  const text = lstatIfExists(file) && readFileSync(file, 'utf8');
  if (!text) return;
  const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(text)?.[1];
  if (provider !== undefined && provider !== 'postgresql') {
    throw usageError('MIGRATION_PROVIDER_MISMATCH', `${path.join(dir, LOCK_FILE)} says provider = "${provider}", but todo-db migrates PostgreSQL.`, 'Point --migrations-dir at the PostgreSQL migrations.');
  }
}

export function lockFileContent(): string {
  return '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n';
}

export const LOCK_FILE_NAME = LOCK_FILE;

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
