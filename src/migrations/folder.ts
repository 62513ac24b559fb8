import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
// Synchronous on purpose: a hundred small files read faster without a thread-pool round trip per call.
import {
  closeSync,
  constants,
  type Dirent,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  type Stats,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { TodoDbError, usageError } from '../core/errors.js';
import { lineColumnAt } from '../sql/parser.js';
import { sortMigrationNames } from './order.js';

/**
 * The migrations folder in Prisma's layout: `<folder>/migration.sql` (any folder name Prisma accepts, in its order:
 * order.ts; `migrate create` writes `<UTC YYYYMMDDHHMMSS>_<slug>`), plus todo-db's own `down.sql`, and
 * `migration_lock.toml`. Everything read here is validated before any SQL runs.
 */
export interface Migration {
  name: string;
  path: string;
  /** migration.sql as text, without a leading byte order mark (psql ignores one too). */
  sql: string;
  /** Where migration.sql is not UTF-8; checked only for migrations about to run, never for applied ones. */
  encodingError?: EncodingError;
  /** SHA-256 of migration.sql's bytes, as Prisma stores it. */
  checksum: string;
  /** down.sql, read only when a rollback first needs it; undefined when the file does not exist. */
  readDown(): SqlText | undefined;
  /** False when the first line opts out: `-- todo-db: no-transaction` (for CREATE INDEX CONCURRENTLY). */
  transactional: boolean;
}

export interface SqlText {
  sql: string;
  encodingError?: EncodingError;
}

export interface EncodingError {
  /** A byte that is not UTF-8, or a NUL byte (PostgreSQL's protocol ends a query at one: the rest would never run). */
  kind: 'not-utf8' | 'nul';
  /** Offset in the decoded text where the first such byte stands. */
  offset: number;
  line: number;
  column: number;
}

/** The names `migrate create` writes; the folder accepts any other name too, as Prisma does. */
export const MIGRATION_NAME = /^\d{14}_[a-z0-9]+(?:_[a-z0-9]+)*$/;
export const NO_TRANSACTION_HEADER = '-- todo-db: no-transaction';
const LOCK_FILE = 'migration_lock.toml';

export function readMigrations(dir: string): Migration[] {
  const { names, read } = openFolder(dir);
  return names.map(read);
}

/** Migrations read between two turns of the event loop in readMigrationsAlongside: well under a millisecond. */
const SLICE = 25;

/**
 * readMigrations for a command that opens its connection meanwhile: the folder is read in slices with the event
 * loop turning between them, so the connection's round trips (TCP, authentication) proceed while files are read
 * and hashed, and a long history costs the longer of the two, not their sum. An indexed loop: in a process that
 * has just started, for-of costs a result object per migration.
 */
export async function readMigrationsAlongside(dir: string): Promise<Migration[]> {
  const { names, read } = openFolder(dir);
  const migrations: Migration[] = [];
  for (let i = 0; i < names.length; i++) {
    migrations.push(read(names[i] as string));
    if ((i + 1) % SLICE === 0) await new Promise(setImmediate);
  }
  return migrations;
}

/** The folder's migration names in Prisma's order, and how to read one. */
function openFolder(dir: string): { names: string[]; read: (name: string) => Migration } {
  const entries = listFolder(dir);
  checkLockFile(dir);
  const root = realpathSync(dir);
  const byName = new Map<string, Dirent>();
  entries.forEach((entry) => {
    if (isMigration(entry)) byName.set(entry.name, entry);
  });
  // Joined once: a folder name holds no separator, so prefix + name is path.join(dir, name), without its normalising.
  const joined = path.join(dir, '.');
  const prefix = joined === '.' ? '' : joined.endsWith(path.sep) ? joined : joined + path.sep;
  return { names: sortMigrationNames(Array.from(byName.keys())), read: (name) => readMigration(root, prefix, byName.get(name) as Dirent) };
}

/**
 * Every folder is a migration, a hidden one too (Prisma lists it); a hidden file (.gitkeep, .DS_Store) is not, and
 * any other file is refused by readMigration.
 */
function isMigration(entry: Dirent): boolean {
  if (entry.name === LOCK_FILE) return false;
  return !entry.name.startsWith('.') || entry.isDirectory() || entry.isSymbolicLink();
}

function listFolder(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    throw usageError(
      'MIGRATIONS_DIR_MISSING',
      `The migrations folder ${dir} does not exist.`,
      'Check --migrations-dir, or create a migration with todo-db migrate create <name>.',
    );
  }
}

/** The entry's type comes from the folder listing: no stat of its own. */
function readMigration(root: string, prefix: string, entry: Dirent): Migration {
  const { name } = entry;
  const folder = prefix + name;
  if (!entry.isDirectory() && !entry.isSymbolicLink()) {
    throw usageError(
      'MIGRATION_INVALID',
      `${folder} is a file; the migrations folder may only hold migration folders and ${LOCK_FILE}.`,
      'Move the file out of the migrations folder.',
    );
  }
  const linked = entry.isSymbolicLink();
  const sqlPath = `${folder}${path.sep}migration.sql`;
  const content = readInside(root, sqlPath, linked);
  if (content === undefined) {
    throw usageError('MIGRATION_INVALID', `${sqlPath} is missing.`, 'Every migration folder needs a migration.sql.');
  }
  return new MigrationFile(name, sqlPath, content, () => {
    const down = readInside(root, `${folder}${path.sep}down.sql`, linked);
    return down === undefined ? undefined : decodeContent(down);
  });
}

/** A file as read: its text when it read as UTF-8 in one call (nearly always), else its bytes. */
type Content = string | Buffer;

/**
 * A migration read from the folder. Its text is made and checked (BOM, NUL, UTF-8) on first use: a no-op command
 * looks only at the checksums of a long history.
 */
class MigrationFile implements Migration {
  readonly checksum: string;
  #content: Content | undefined;
  #text: SqlText | undefined;
  #down: { text: SqlText | undefined } | undefined;

  constructor(
    readonly name: string,
    readonly path: string,
    content: Content,
    private readonly readDownFile: () => SqlText | undefined,
  ) {
    // A text's UTF-8 is the file's bytes: it read as UTF-8 without a replacement.
    this.checksum = sha256(content);
    this.#content = content;
  }

  get sql(): string {
    return this.#decoded().sql;
  }

  get encodingError(): EncodingError | undefined {
    return this.#decoded().encodingError;
  }

  get transactional(): boolean {
    // Only the head is lowercased: the whole file would be copied for one line's sake.
    return !this.sql.trimStart().slice(0, NO_TRANSACTION_HEADER.length).toLowerCase().startsWith(NO_TRANSACTION_HEADER);
  }

  /** Read once, on first use: a rollback checks it, plans it and runs it. */
  readDown(): SqlText | undefined {
    this.#down ??= { text: this.readDownFile() };
    return this.#down.text;
  }

  #decoded(): SqlText {
    if (!this.#text) {
      this.#text = decodeContent(this.#content as Content);
      this.#content = undefined;
    }
    return this.#text;
  }
}

const BOM = '\uFEFF';

/**
 * A migration is UTF-8, as PostgreSQL's client_encoding for it is. A leading byte order mark is dropped (psql does
 * the same); an invalid byte is remembered with its place, so a migration about to run can be refused before
 * anything runs, while an applied one (whose checksum is all that matters) is left alone.
 */
export function decodeSql(bytes: Buffer): SqlText {
  return sqlText(bytes.toString('utf8'), isUtf8(bytes) ? -1 : validPrefix(bytes).length);
}

function decodeContent(content: Content): SqlText {
  return typeof content === 'string' ? sqlText(content) : decodeSql(content);
}

/** `invalid`: where in `decoded` the first byte that is not UTF-8 stood, -1 when none did. */
function sqlText(decoded: string, invalid = -1): SqlText {
  const bom = decoded.startsWith(BOM) ? 1 : 0;
  const sql = bom ? decoded.slice(1) : decoded;
  const nul = sql.indexOf('\0');
  if (invalid === -1 && nul === -1) return { sql };
  const notUtf8 = invalid - bom;
  const [kind, offset] = nul !== -1 && (invalid === -1 || nul < notUtf8) ? (['nul', nul] as const) : (['not-utf8', notUtf8] as const);
  const { line, column } = lineColumnAt(sql, offset);
  return { sql, encodingError: { kind, offset, line, column } };
}

/** The longest prefix that decodes as UTF-8: a streaming decoder accepts a prefix exactly until the first bad byte. */
function validPrefix(bytes: Buffer): string {
  const accepts = (length: number) => {
    try {
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(0, length), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  let low = 0;
  let high = bytes.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (accepts(middle)) low = middle;
    else high = middle - 1;
  }
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(0, low), { stream: true });
}

/**
 * Checksums of the same text with CRLF and LF swapped, with and without a byte order mark: Prisma treats line
 * endings as unchanged, and todo-db ignores a BOM, so neither counts as an edit.
 */
export function equivalentChecksums(migration: Migration): string[] {
  const endings = [migration.sql.replace(/\r\n/g, '\n'), migration.sql.replace(/\r?\n/g, '\r\n')];
  return [...endings, ...endings.map((text) => BOM + text)].map(sha256);
}

/**
 * Reads a file, refusing any path (folder or file symlink) that resolves outside the migrations folder. Only a
 * symlink needs resolving; plain files are read directly, which keeps a hundred migrations cheap to load.
 */
function readInside(root: string, file: string, folderLinked: boolean): Content | undefined {
  try {
    const plain = folderLinked ? SYMLINK : readUnlessSymlink(file);
    if (plain !== SYMLINK) return plain;
    let stat = lstatIfExists(file);
    if (!stat) return undefined;
    if (folderLinked || stat.isSymbolicLink()) {
      const real = realpathSync(file);
      if (real !== root && !real.startsWith(root + path.sep)) {
        throw usageError(
          'MIGRATION_INVALID',
          `${file} resolves to ${real}, outside the migrations folder ${root}.`,
          'Migrations must live inside the migrations folder; replace the symlink with the file itself.',
        );
      }
      stat = statSync(real);
    }
    refuseIrregular(file, stat);
    return readFileSync(file);
  } catch (error) {
    throw unreadable(file, error);
  }
}

const SYMLINK = Symbol('symlink');

/** Opened without following a symlink, and without waiting for a FIFO's writer. */
const PLAIN_FILE = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * A file that is not a symlink, opened without following one (the caller then resolves and checks it) rather than
 * after an lstat. Undefined when missing. Where the platform has no O_NOFOLLOW every file takes the caller's way.
 * Read as UTF-8 text in one call, whose open, read and close run in Node's own code: for a thousand files about a
 * third less than open, fstat, read and close called from JavaScript. What does not read as text with content
 * (empty, as a FIFO reads; failing, as a directory does; not UTF-8) is read again as bytes, its type checked first.
 */
function readUnlessSymlink(file: string): Content | undefined | typeof SYMLINK {
  if (constants.O_NOFOLLOW === undefined) return SYMLINK;
  try {
    const text = readText(file, { encoding: 'utf8', flag: PLAIN_FILE });
    if (text.length > 0 && !text.includes(REPLACEMENT)) return text;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') return SYMLINK;
    if (code !== 'EISDIR' && code !== 'EAGAIN') throw error;
  }
  return readBytes(file);
}

/** readFileSync, whose `flag` Node reads as fs.open reads its flags, a number too (its types say only a string). */
const readText = readFileSync as unknown as (file: string, options: { encoding: 'utf8'; flag: number }) => string;

/** What a decoder puts where a byte is not UTF-8 (or what the file says itself: its bytes are read then too). */
const REPLACEMENT = '\uFFFD';

function readBytes(file: string): Buffer {
  const fd = openSync(file, PLAIN_FILE);
  try {
    const stat = fstatSync(fd);
    refuseIrregular(file, stat);
    const bytes = Buffer.allocUnsafe(stat.size);
    let filled = 0;
    while (filled < bytes.length) {
      const read = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (read === 0) break;
      filled += read;
    }
    return bytes.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}

/** Reading a FIFO would block forever, and a directory throws: both are refused by name first. */
function refuseIrregular(file: string, stat: Stats): void {
  if (stat.isDirectory()) throw usageError('MIGRATION_INVALID', `${file} is a directory, not a file.`, MAKE_IT_A_FILE);
  if (!stat.isFile()) throw usageError('MIGRATION_INVALID', `${file} is not a regular file.`, MAKE_IT_A_FILE);
}

/** A directory, a dangling symlink or a file without read permission where a migration file should be. */
function unreadable(file: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined || error instanceof TodoDbError) return error;
  const why: Record<string, string> = {
    ENOENT: 'is a symlink to nothing',
    ELOOP: 'is a symlink loop',
    EACCES: 'cannot be read (permission denied)',
    EPERM: 'cannot be read (permission denied)',
    ENOTDIR: 'cannot be reached: a part of its path is a file',
  };
  return usageError('MIGRATION_INVALID', `${file} ${why[code] ?? `cannot be read (${code})`}.`, MAKE_IT_A_FILE);
}

const MAKE_IT_A_FILE = 'Make it a readable regular file inside the migrations folder (or remove it).';

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
    throw usageError(
      'MIGRATION_PROVIDER_MISMATCH',
      `${path.join(dir, LOCK_FILE)} says provider = "${provider}", but todo-db migrates PostgreSQL.`,
      'Point --migrations-dir at the PostgreSQL migrations.',
    );
  }
}

export function lockFileContent(): string {
  return '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n';
}

export const LOCK_FILE_NAME = LOCK_FILE;

/** One call, no Hash object: a thousand applied migrations are hashed on every no-op command. */
function sha256(data: Buffer | string): string {
  return hash('sha256', data, 'hex');
}
