/**
 * The order Prisma applies migration folders in, whatever their names: its CLI lists the folders and sorts them
 * with JavaScript's `a.localeCompare(b)` (prisma/prisma packages/migrate/src/utils/listMigrations.ts; in the
 * prisma 7 bundle, node_modules/prisma/build/cli.js, the `migrationDirectories` sort), and the schema engine
 * keeps the order it is given. So `1_init` comes before `10_add` (a byte order would put `10_add` first) and
 * `add_b` before `Add_c`. Names that collate equal (which Prisma leaves in directory order) are ordered by their
 * bytes here, so the order never depends on the file system. Like Prisma's, the order follows Node's default ICU
 * collation.
 */
export function compareMigrationNames(a: string, b: string): number {
  return compareTimestamps(a, b) || a.localeCompare(b) || Buffer.compare(Buffer.from(a), Buffer.from(b));
}

const TIMESTAMP_LENGTH = 14;

/**
 * The common case without ICU, whose collator costs milliseconds to start in every process: when both names
 * start with 14 ASCII digits (`migrate create`'s timestamp) and those differ, collation decides at the first
 * differing digit, since each digit is one element whose weight follows 0-9 and nothing before it differs;
 * that is their code order. 0 (undecided) otherwise, leaving it to localeCompare.
 */
function compareTimestamps(a: string, b: string): number {
  if (a.length < TIMESTAMP_LENGTH || b.length < TIMESTAMP_LENGTH) return 0;
  let order = 0;
  for (let i = 0; i < TIMESTAMP_LENGTH; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (!isDigit(x) || !isDigit(y)) return 0;
    if (order === 0) order = x - y;
  }
  return order;
}

const isDigit = (code: number) => code >= 48 && code <= 57;

/**
 * Names sorted as compareMigrationNames sorts them, at the cost of a native sort: code-unit order is Prisma's
 * whenever the names start with distinct timestamps (the common case, and a thousand-name history costs every
 * no-op command this sort), which one pass confirms; otherwise they are sorted by compareMigrationNames.
 */
export function sortMigrationNames(names: string[]): string[] {
  names.sort();
  return inMigrationOrder(names) ? names : names.sort(compareMigrationNames);
}

function inMigrationOrder(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) if (compareMigrationNames(names[i - 1] as string, names[i] as string) > 0) return false;
  return true;
}
