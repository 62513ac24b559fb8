import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../src/config/database-url.js';
import { type DraftReport, draftMigrationFromSchema } from '../src/drafts/draft.js';
import { diffSchemaWithMigrations } from '../src/drafts/schema-engine.js';
import { Migrator } from '../src/migrations/index.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { query } from './helpers/migrations.js';
import { schemaDump } from './helpers/schema-dump.js';

/**
 * Drafts put back what they take: for each schema.prisma edit of the corpus, on the corpus's own schema
 * (test/fixtures/draft-corpus: CHECKs, triggers, comments and a NOT NULL array beside Prisma's tables), the
 * draft applies, `migrate diff --schema` finds nothing, its down.sql brings back a schema whose dump is the one
 * before, and it applies again. One work database and one shadow database serve every case, in process: the
 * engine loads once.
 */
const FIXTURE = fileURLToPath(new URL('./fixtures/draft-corpus', import.meta.url));
let root = '';
let migrationsDir = '';
let baseSchema = '';
let work = '';
let shadow = '';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'todo-db-draft-corpus-'));
  await cp(FIXTURE, join(root, 'prisma'), { recursive: true });
  migrationsDir = join(root, 'prisma', 'migrations');
  baseSchema = await readFile(join(root, 'prisma', 'schema.prisma'), 'utf8');
  [work, shadow] = await Promise.all([createTestDatabase('corpus'), createTestDatabase('corpusshadow')]);
  await migrator().up();
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const migrator = () => new Migrator({ url: parseDatabaseUrl(work), migrationsDir, environment: 'development' });
const options = () => ({ url: parseDatabaseUrl(work), migrationsDir, shadowDatabaseUrl: parseDatabaseUrl(shadow), environment: 'development' as const });

type Edit = (schema: string) => string;
/** Replaces text that must be there: a corpus edit that no longer matches the fixture fails loudly. */
const replace =
  (find: string, by: string): Edit =>
  (schema) => {
    if (!schema.includes(find)) throw new Error(`the corpus schema has no ${JSON.stringify(find)}`);
    return schema.replace(find, by);
  };
const all =
  (...edits: Edit[]): Edit =>
  (schema) =>
    edits.reduce((result, edit) => edit(result), schema);

const AUDIT_MODEL = /\nmodel AuditEvent \{[\s\S]*?\n\}\n/;

const CORPUS: Array<[string, Edit]> = [
  ['add an optional field', replace('  dueAt     DateTime?', '  archivedAt DateTime?   @map("archived_at") @db.Timestamptz(6)\n  dueAt     DateTime?')],
  ['add a required field with a default', replace('  notes     String?', '  pinned    Boolean      @default(false)\n  notes     String?')],
  ['drop a plain field', replace('  notes     String?\n', '')],
  ['drop a field with a CHECK and a comment', replace('  nickname  String?  @db.VarChar(40)\n', '')],
  [
    'rename a field with @map (Prisma drops and adds)',
    replace('  nickname  String?  @db.VarChar(40)', '  displayName String? @map("display_name") @db.VarChar(40)'),
  ],
  ['drop an array field with NOT NULL and a CHECK', replace('  tags      String[]     @default([])\n', '')],
  ['drop a field that has an index', all(replace('  dueAt     DateTime?    @map("due_at") @db.Timestamptz(6)\n', ''), replace('  @@index([dueAt])\n', ''))],
  ['change a type (Int to BigInt)', replace('  score     Int      @default(0)', '  score     BigInt   @default(0)')],
  ['widen a varchar a CHECK uses', replace('@db.VarChar(200)', '@db.VarChar(300)')],
  ['add an enum value', replace('  open\n  done\n', '  open\n  done\n  archived\n')],
  ['drop an enum value', replace('  high\n  urgent\n', '  high\n')],
  [
    'add a relation',
    all(
      replace('  action    String', '  action    String\n  account   Account? @relation(fields: [accountId], references: [id])'),
      replace('  items     Item[]', '  items     Item[]\n  audit     AuditEvent[]'),
    ),
  ],
  [
    'drop a relation',
    all(
      replace('  account   Account      @relation(fields: [accountId], references: [id], onDelete: Cascade, onUpdate: Cascade)\n', ''),
      replace('  items     Item[]\n', ''),
    ),
  ],
  ["change a relation's onDelete", replace('onDelete: Cascade, onUpdate: Cascade', 'onDelete: Restrict, onUpdate: Cascade')],
  ['add an index', replace('  @@index([dueAt])', '  @@index([dueAt])\n  @@index([status, dueAt])')],
  ['drop an index', replace('  @@index([dueAt])\n', '')],
  ['add a unique constraint', replace('  @@index([dueAt])', '  @@index([dueAt])\n  @@unique([accountId, title])')],
  ['change a default', replace('  score     Int      @default(0)', '  score     Int      @default(10)')],
  ['drop a default', replace('ItemStatus   @default(open)', 'ItemStatus')],
  ['make an optional field required', replace('  name      String?', '  name      String')],
  ['make a required field optional', replace('  title     String       @db.VarChar(200)', '  title     String?      @db.VarChar(200)')],
  [
    'add a model with a relation',
    all(
      replace('  items     Item[]', '  items     Item[]\n  projects  Project[]'),
      (schema) =>
        `${schema}\nmodel Project {\n  id        String  @id @default(dbgenerated("gen_random_uuid()")) @db.Uuid\n  accountId String  @map("account_id") @db.Uuid\n  name      String  @db.VarChar(100)\n  account   Account @relation(fields: [accountId], references: [id], onDelete: Cascade)\n\n  @@unique([accountId, name])\n  @@map("projects")\n}\n`,
    ),
  ],
  ['drop a model with a CHECK, a trigger and a comment', (schema) => schema.replace(AUDIT_MODEL, '\n')],
  ['rename a table with @@map (Prisma drops and creates)', replace('@@map("audit_events")', '@@map("audit_log")')],
];

interface CaseResult {
  report: DraftReport;
  down: string;
}

/** One corpus case, start to end; the work database is back at the fixture's schema afterwards. */
async function roundTrip(name: string, edit: Edit): Promise<CaseResult> {
  await writeFile(join(root, 'prisma', 'schema.prisma'), edit(baseSchema));
  const report = await draftMigrationFromSchema({ ...options(), name });
  try {
    const reordered = report.downCheck.reordered.map((entry) => entry.table);
    const before = await schemaDump(work, reordered);
    expect((await migrator().up()).applied.map((step) => step.name)).toEqual([report.name]);
    const applied = await schemaDump(work);
    expect((await diffSchemaWithMigrations(options())).differences.map((difference) => difference.message)).toEqual([]);
    await migrator().down();
    expect((await schemaDump(work, reordered)).lines).toEqual(before.lines);
    await migrator().up();
    expect((await schemaDump(work)).lines).toEqual(applied.lines);
    await migrator().down();
    return { report, down: await readFile(report.down.path, 'utf8') };
  } finally {
    await query(work, 'delete from _prisma_migrations where migration_name = $1', [report.name]);
    await rm(report.dir, { recursive: true, force: true });
    await writeFile(join(root, 'prisma', 'schema.prisma'), baseSchema);
  }
}

describe('drafts put back what they take', () => {
  it('starts from a fixture that schema.prisma describes exactly', async () => {
    expect((await diffSchemaWithMigrations(options())).differences).toEqual([]);
    const dump = await schemaDump(work);
    // Which comparison this run makes: a pg_dump of the server's version when one is installed.
    console.info(
      `draft corpus compares schemas with ${dump.kind === 'pg_dump' ? 'pg_dump' : "todo-db's catalog model (no pg_dump for this server's version)"}`,
    );
    expect(dump.lines.some((line) => line.includes('audit_events_action_check'))).toBe(true);
  });

  it.each(CORPUS)(
    '%s: drafts, applies, diffs clean, rolls back to the same schema, applies again',
    async (name, edit) => {
      const { report, down } = await roundTrip(name, edit);
      expect(report.downCheck.failure).toBeNull();
      expect(report.downCheck.notRestored).toEqual([]);
      expect(report.downCheck.leftBehind).toEqual([]);
      if (report.migration.destructive.length > 0) expect(down).toContain('-- DATA NOT RESTORED:');
      for (const { table, columns } of report.downCheck.reordered)
        expect(down).toContain(`-- COLUMN ORDER: PostgreSQL adds a column at the end of its table, so ${columns.join(', ')} of ${table}`);
    },
    60_000,
  );

  it('restores the CHECK and the comment of a column renamed with @map, and says the data does not come back', async () => {
    const { report, down } = await roundTrip(
      'rename nickname',
      replace('  nickname  String?  @db.VarChar(40)', '  displayName String? @map("display_name") @db.VarChar(40)'),
    );
    expect(report.downCheck.restored).toEqual([
      'ALTER TABLE accounts ADD CONSTRAINT accounts_nickname_length_check CHECK (((char_length((nickname)::text) >= 1) AND (char_length((nickname)::text) <= 40)));',
      "COMMENT ON COLUMN accounts.nickname IS 'shown next to the avatar';",
    ]);
    expect(down).toMatch(/-- DATA NOT RESTORED: .*\n-- {3}ALTER TABLE "accounts" DROP COLUMN "nickname",/);
    expect(report.downCheck.reordered).toEqual([{ table: 'accounts', columns: ['nickname', 'score', 'created_at'] }]);
  }, 60_000);

  it('restores the CHECK, trigger and comment of a dropped model', async () => {
    const { report } = await roundTrip('drop audit', (schema) => schema.replace(AUDIT_MODEL, '\n'));
    expect(report.downCheck.restored).toEqual([
      "ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK ((action <> ''::text));",
      'CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON public.audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_immutable();',
      "COMMENT ON TABLE audit_events IS 'append-only';",
    ]);
  }, 60_000);
});

describe('migrate create --from-schema, as a person runs it', () => {
  it('says what down.sql puts back, what data it cannot bring back and which columns move', async () => {
    const copy = await mkdtemp(join(tmpdir(), 'todo-db-draft-cli-'));
    try {
      await cp(FIXTURE, join(copy, 'prisma'), { recursive: true });
      await writeFile(
        join(copy, 'prisma', 'schema.prisma'),
        replace('  nickname  String?  @db.VarChar(40)', '  displayName String? @map("display_name") @db.VarChar(40)')(baseSchema),
      );
      const result = await runCli(['migrate', 'create', 'display_name', '--from-schema', '--migrations-dir', join(copy, 'prisma', 'migrations')], {
        env: { DATABASE_URL: work },
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(
        'down.sql puts back 2 objects that migration.sql drops with a column or table and schema.prisma does not know (checked in the shadow database).',
      );
      expect(result.stdout).toContain('down.sql cannot bring back the data of 1 step of migration.sql (said in its header).');
      expect(result.stdout).toContain('down.sql puts nickname, score, created_at of accounts back at another position (PostgreSQL adds columns at the end).');
      // The restored CHECK is accepted in down.sql by an allow comment that says why.
      expect(result.stdout).toMatch(/down\.sql:\d+:1 {2}constraint-without-not-valid {2}allowed: putting back what migration\.sql dropped/);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('a draft PostgreSQL refuses in the shadow database', () => {
  it('is still written, and down.sql says it was not checked', async () => {
    // The CHECK compares status with 'done', so the enum cannot be rebuilt without it.
    await writeFile(join(root, 'prisma', 'schema.prisma'), replace('  open\n  done\n', '  open\n')(baseSchema));
    const report = await draftMigrationFromSchema({ ...options(), name: 'drop done' });
    try {
      expect(report.downCheck.failure).toMatch(
        /^migration\.sql: ALTER TABLE "items" ADD CONSTRAINT "items_done_not_due_check" .*: invalid input value for enum item_status: "done"$/,
      );
      expect(await readFile(report.down.path, 'utf8')).toContain(
        '-- NOT CHECKED: PostgreSQL refused a statement of the draft in a shadow database (migration.sql: ALTER TABLE "items" ADD CONSTRAINT',
      );
    } finally {
      await rm(report.dir, { recursive: true, force: true });
      await writeFile(join(root, 'prisma', 'schema.prisma'), baseSchema);
    }
  }, 60_000);
});

describe('a SET NOT NULL draft against a database with NULLs', () => {
  it('says how many rows hold NULL and drafts the backfill, with the new default when there is one', async () => {
    await query(
      work,
      "insert into accounts (email) values ('a@example.com'), ('b@example.com'); insert into accounts (email, name) values ('c@example.com', 'C')",
    );
    try {
      for (const [field, value] of [
        ['  name      String', '<value>'],
        ['  name      String   @default("anonymous")', "'anonymous'::text"],
      ] as const) {
        await writeFile(join(root, 'prisma', 'schema.prisma'), replace('  name      String?', field)(baseSchema));
        const report = await draftMigrationFromSchema({ ...options(), name: 'name required' });
        try {
          const backfill = `UPDATE "accounts" SET "name" = ${value} WHERE "name" IS NULL;`;
          expect(report.nulls).toEqual([{ table: 'accounts', column: 'name', rows: 2, backfill }]);
          const sql = await readFile(report.migration.path, 'utf8');
          expect(sql).toContain(`-- NULLS: accounts.name is NULL in 2 rows of the target database, so its SET NOT NULL below fails there.`);
          expect(sql).toContain(`--   ${backfill}`);
        } finally {
          await rm(report.dir, { recursive: true, force: true });
        }
      }
    } finally {
      await query(work, 'delete from accounts');
      await writeFile(join(root, 'prisma', 'schema.prisma'), baseSchema);
    }
  }, 60_000);
});
