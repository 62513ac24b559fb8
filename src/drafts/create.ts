import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertMigrationsWritable } from '../config/package-root.js';
import { usageError } from '../core/errors.js';
import { LOCK_FILE_NAME, lockFileContent, MIGRATION_NAME } from '../migrations/folder.js';

const MAX_SLUG_LENGTH = 200;

export interface CreateOptions {
  migrationsDir: string;
  name: string;
  now?: Date;
}

export interface CreatedMigration {
  name: string;
  dir: string;
  files: string[];
}

/**
 * Writes `<UTC timestamp>_<slug>/migration.sql` and `down.sql`. The name becomes a slug, so whatever the user
 * types (quotes, `../`, spaces) can only ever produce one folder directly inside the migrations folder.
 */
export async function createMigration({ migrationsDir, name, now = new Date() }: CreateOptions): Promise<CreatedMigration> {
  assertMigrationsWritable(migrationsDir);
  const slug = slugify(name);
  if (!slug)
    throw usageError(
      'MIGRATION_NAME_INVALID',
      `"${name}" has no letters or digits to name a migration with.`,
      'Use a short description such as add_task_archived_at.',
    );
  await makeFolder(migrationsDir);
  const existing = (await readdir(migrationsDir)).filter((entry) => MIGRATION_NAME.test(entry)).sort();
  const folder = `${nextTimestamp(now, existing.at(-1))}_${slug}`;
  const dir = path.join(migrationsDir, folder);
  await mkdir(dir);
  const files = [path.join(dir, 'migration.sql'), path.join(dir, 'down.sql')];
  await writeFile(files[0] as string, UP_TEMPLATE(folder));
  await writeFile(files[1] as string, DOWN_TEMPLATE(folder));
  const lockFile = path.join(migrationsDir, LOCK_FILE_NAME);
  const wroteLock = await writeFile(lockFile, lockFileContent(), { flag: 'wx' }).then(
    () => true,
    () => false,
  );
  return { name: folder, dir, files: wroteLock ? [...files, lockFile] : files };
}

async function makeFolder(migrationsDir: string): Promise<void> {
  try {
    await mkdir(migrationsDir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTDIR') throw error;
    throw usageError(
      'MIGRATIONS_DIR_NOT_A_FOLDER',
      `The migrations folder ${migrationsDir} is not a folder: it, or a part of its path, is a file.`,
      'Point --migrations-dir at a folder (prisma/migrations by default).',
    );
  }
}

function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_SLUG_LENGTH)
    .replace(/_+$/, '');
}

/** A burst of creates (one second apart each) or a slightly fast clock elsewhere: still "now", not the future. */
const FUTURE_TOLERANCE_MS = 10 * 60_000;

/**
 * UTC YYYYMMDDHHMMSS, and always after the newest existing migration so folder order stays creation order. A
 * newest folder that is not a real timestamp, or is far in the future, is refused: counting on from it would
 * give every later migration a false date, and past year 9999 no valid name at all.
 */
function nextTimestamp(now: Date, newest: string | undefined): string {
  const stamp = formatUtc(now);
  const newestStamp = newest?.slice(0, 14);
  if (!newest || !newestStamp || stamp > newestStamp) return stamp;
  const newestTime = parseUtc(newestStamp);
  if (Number.isNaN(newestTime.getTime()) || formatUtc(newestTime) !== newestStamp) {
    throw usageError(
      'MIGRATION_TIMESTAMP_INVALID',
      `The newest migration folder, ${newest}, does not start with a real UTC timestamp (YYYYMMDDHHMMSS), so no later one can be chosen.`,
      'Rename that folder to the UTC time it was created (before it is applied anywhere), then run migrate create again.',
    );
  }
  if (newestTime.getTime() - now.getTime() > FUTURE_TOLERANCE_MS) {
    throw usageError(
      'MIGRATION_TIMESTAMP_IN_FUTURE',
      `The newest migration folder, ${newest}, is dated in the future (the UTC time now is ${stamp}), so a new migration cannot be named after it with a true timestamp.`,
      "Rename that folder to the UTC time it was created (before it is applied anywhere), or check this machine's clock; then run migrate create again.",
    );
  }
  return formatUtc(new Date(newestTime.getTime() + 1000));
}

function formatUtc(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function parseUtc(stamp: string): Date {
  return new Date(`${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(8, 10)}:${stamp.slice(10, 12)}:${stamp.slice(12, 14)}Z`);
}

const UP_TEMPLATE = (folder: string) => `-- Migration ${folder}: the change, applied by \`todo-db migrate up\`.
-- It runs in one transaction together with its history row, so a failure leaves nothing behind.
-- Do not add BEGIN or COMMIT. For statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY),
-- make the first line of this file:  -- todo-db: no-transaction
-- Once applied, never edit this file: put further changes in a new migration.

`;

const DOWN_TEMPLATE = (folder: string) => `-- Undoes ${folder}, run by \`todo-db migrate down\` in one transaction.
-- Drop exactly what migration.sql created, in reverse order, so the schema returns to what it was before.

`;
