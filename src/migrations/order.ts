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
  return a.localeCompare(b) || Buffer.compare(Buffer.from(a), Buffer.from(b));
}
