import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../src/config/database-url.js';
import { withSchemaEngine } from '../src/drafts/schema-engine.js';
import { Migrator } from '../src/migrations/index.js';
import { catalogSnapshot } from './helpers/catalog.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { addMigration, migrationsFolder, query } from './helpers/migrations.js';

/**
 * Histories as Prisma writes them, and databases as Prisma's own engine deploys them: the migrations' SQL comes
 * from @prisma/schema-engine-wasm's diff (so the enum value removal is the exact text Prisma generates), and the
 * `_prisma_migrations` rows from its applyMigrations and markMigrationRolledBack, driven in-process through
 * @prisma/adapter-pg (whose executeScript runs a script statement by statement, split on every `;`).
 */
const DATASOURCE = 'datasource db {\n  provider = "postgresql"\n}\n';
const MODEL = 'model Item {\n  id     Int    @id @default(autoincrement())\n  status Status @default(OPEN)\n}\n';
const WITH_ARCHIVED = `${DATASOURCE}\nenum Status {\n  OPEN\n  DONE\n  ARCHIVED\n}\n\n${MODEL}`;
const WITHOUT_ARCHIVED = `${DATASOURCE}\nenum Status {\n  OPEN\n  DONE\n}\n\n${MODEL}`;

/** Folder names without timestamps, where Prisma's order (localeCompare) and byte order differ. */
const INIT = '1_init';
const NOTE = '10_note';
const REMOVE = 'a_remove_archived';
const TAG = 'B_tag';
const PRISMA_ORDER = [INIT, NOTE, REMOVE, TAG];

let engineUrl: string;
/** What Prisma generates: the first migration, and the removal of ARCHIVED with its BEGIN; ... COMMIT;. */
let generated: { init: string; removal: string };

beforeAll(async () => {
  engineUrl = await createTestDatabase('prismaengine');
  generated = await engine(engineUrl, async (schemaEngine) => {
    const files = (content: string) => [{ path: 'schema.prisma', content }];
    const diff = (from: object, to: string) =>
      schemaEngine
        .diff({ from: from as never, to: { tag: 'schemaDatamodel', files: files(to) }, script: true, exitCode: null, filters: NO_FILTERS })
        .then((result) => result.stdout ?? '');
    return {
      init: await diff({ tag: 'empty' }, WITH_ARCHIVED),
      removal: await diff({ tag: 'schemaDatamodel', files: files(WITH_ARCHIVED) }, WITHOUT_ARCHIVED),
    };
  });
}, 60_000);

const NO_FILTERS = { externalTables: [], externalEnums: [] };

type Engine = Parameters<Parameters<typeof withSchemaEngine>[3]>[0];

function engine<T>(url: string, work: (schemaEngine: Engine) => Promise<T>): Promise<T> {
  return withSchemaEngine(parseDatabaseUrl(url), 'schema.prisma', DATASOURCE, (schemaEngine) => work(schemaEngine));
}

async function prismaFolder(extra: Record<string, string> = {}): Promise<string> {
  return migrationsFolder({
    [INIT]: { up: generated.init },
    [NOTE]: { up: '-- AlterTable\nALTER TABLE "Item" ADD COLUMN "note" TEXT;\n', down: 'ALTER TABLE "Item" DROP COLUMN "note";\n' },
    [REMOVE]: { up: generated.removal },
    [TAG]: { up: '-- AlterTable\nALTER TABLE "Item" ADD COLUMN "tag" TEXT;\n', down: 'ALTER TABLE "Item" DROP COLUMN "tag";\n' },
    ...Object.fromEntries(Object.entries(extra).map(([name, up]) => [name, { up }])),
  });
}

/** The folder as Prisma's CLI lists it (its listMigrations: directories, sorted with localeCompare). */
async function prismaList(migrationsDir: string) {
  const names = (await readdir(migrationsDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b));
  const migrationDirectories = await Promise.all(
    names.map(async (name) => ({
      path: name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok' as const, value: await readFile(join(migrationsDir, name, 'migration.sql'), 'utf8') } },
    })),
  );
  return {
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: await readFile(join(migrationsDir, 'migration_lock.toml'), 'utf8') },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

/** `prisma migrate deploy`, as its engine does it; the engine's error (a failed migration) is returned, not thrown. */
async function prismaDeploy(url: string, migrationsDir: string): Promise<{ applied: string[]; error?: string }> {
  const migrationsList = await prismaList(migrationsDir);
  return engine(url, (schemaEngine) => schemaEngine.applyMigrations({ migrationsList, filters: NO_FILTERS }))
    .then((output) => ({ applied: output.appliedMigrationNames }))
    .catch((error: Error) => ({ applied: [], error: error.message }));
}

const cli = (url: string, migrationsDir: string, ...args: string[]) => runCli([...args, '--migrations-dir', migrationsDir], { env: { DATABASE_URL: url } });
const history = (url: string) =>
  query(
    url,
    'select migration_name, checksum, logs, finished_at, rolled_back_at, applied_steps_count from _prisma_migrations order by started_at, migration_name',
  );
const historyRows = async (url: string) => ((await query(url, "select to_regclass('_prisma_migrations') as t"))[0].t ? history(url) : []);
const statusStates = (result: { json(): any }) => result.json().data.migrations.map((entry: { name: string; state: string }) => [entry.name, entry.state]);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe("a history as Prisma writes it (folder names without timestamps, Prisma's enum value removal)", () => {
  it('is what Prisma generates: a line BEGIN; and a line COMMIT; around the rebuilt enum', () => {
    expect(generated.removal).toMatch(/^BEGIN;\nCREATE TYPE "Status_new" AS ENUM \('OPEN', 'DONE'\);\n[\s\S]*\nDROP TYPE "Status_old";\n[\s\S]*^COMMIT;$/m);
    // The order Prisma uses is not the byte order: 10_note before 1_init, B_tag before a_remove_archived.
    expect([...PRISMA_ORDER].sort()).toEqual([NOTE, INIT, TAG, REMOVE]);
    expect([...PRISMA_ORDER].sort((a, b) => a.localeCompare(b))).toEqual(PRISMA_ORDER);
  });

  it("applies in Prisma's order to the schema Prisma's own deploy builds, and Prisma's engine accepts todo-db's history", async () => {
    const migrationsDir = await prismaFolder();
    const [byTodoDb, byPrisma] = [await createTestDatabase('prismahist'), await createTestDatabase('prismadeploy')];

    const up = await cli(byTodoDb, migrationsDir, 'migrate', 'up', '--json');
    expect(up.code).toBe(0);
    expect(up.json().data.applied.map((step: { name: string }) => step.name)).toEqual(PRISMA_ORDER);
    expect(await prismaDeploy(byPrisma, migrationsDir)).toEqual({ applied: PRISMA_ORDER });

    expect(await catalogSnapshot(byTodoDb)).toEqual(await catalogSnapshot(byPrisma));
    const labels = await query(
      byTodoDb,
      `select array_agg(enumlabel::text order by enumsortorder) as labels from pg_enum where enumtypid = '"Status"'::regtype`,
    );
    expect(labels[0].labels).toEqual(['OPEN', 'DONE']);
    // The same rows as Prisma's: the file's sha256, finished, one step.
    const [ours, theirs] = [await history(byTodoDb), await history(byPrisma)];
    expect(ours.map((row) => [row.migration_name, row.checksum, row.applied_steps_count])).toEqual(
      theirs.map((row) => [row.migration_name, row.checksum, row.applied_steps_count]),
    );
    expect(ours.find((row) => row.migration_name === REMOVE)?.checksum).toBe(sha256(generated.removal));
    // Prisma itself finds nothing to apply on the database todo-db built.
    expect(await prismaDeploy(byTodoDb, migrationsDir)).toEqual({ applied: [] });
  });

  it('on a database Prisma deployed: status, up, diff and lint work as on one todo-db built, and baseline adopts it once its history is gone', async () => {
    const migrationsDir = await prismaFolder();
    const url = await createTestDatabase('prismaadopt');
    expect((await prismaDeploy(url, migrationsDir)).applied).toEqual(PRISMA_ORDER);

    const status = await cli(url, migrationsDir, 'migrate', 'status', '--json');
    expect(status.code).toBe(0);
    expect(statusStates(status)).toEqual(PRISMA_ORDER.map((name) => [name, 'applied']));
    const up = await cli(url, migrationsDir, 'migrate', 'up');
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/Already up to date/);
    // The shadow database runs the BEGIN; ... COMMIT; file too, and builds what Prisma's deploy built.
    const diff = await cli(url, migrationsDir, 'migrate', 'diff', '--json');
    expect(diff.code).toBe(0);

    const lint = await cli(url, migrationsDir, 'migrate', 'lint', '--all', '--json');
    const findings = lint.json().data.findings as Array<{ rule: string; severity: string; location: string; why: string; fix: string }>;
    const block = findings.filter((finding) => finding.rule === 'prisma-transaction-block');
    expect(block).toHaveLength(1);
    expect(block[0]).toMatchObject({
      severity: 'warning',
      location: expect.stringMatching(new RegExp(`${REMOVE}/migration\\.sql:${generated.removal.split('\n').indexOf('BEGIN;') + 1}:1$`)),
    });
    expect(block[0]?.why).toMatch(/prisma migrate deploy commits at the COMMIT line/);
    expect(findings.map((finding) => finding.rule)).not.toContain('transaction-control');
    // Every fix for a file Prisma applied says to make the change in a new migration, or to record the edit.
    const inRemoval = findings.filter((finding) => finding.location.includes(`${REMOVE}/`) && finding.rule !== 'prisma-transaction-block');
    expect(inRemoval.length).toBeGreaterThan(0);
    for (const finding of inRemoval)
      expect(finding.fix).toContain(
        `(${REMOVE} is already applied here: make the change in a new migration; if you do change this file, record it with todo-db migrate resolve --edited ${REMOVE})`,
      );

    const refused = await cli(url, migrationsDir, 'migrate', 'baseline', '--json');
    expect([refused.code, refused.json().error.code]).toEqual([2, 'BASELINE_HAS_HISTORY']);
    await query(url, 'drop table _prisma_migrations');
    const adopted = await cli(url, migrationsDir, 'migrate', 'baseline', '--json');
    expect(adopted.code).toBe(0);
    expect(adopted.json().data).toMatchObject({ recorded: PRISMA_ORDER, pending: [], accountedFor: true });
    expect(statusStates(await cli(url, migrationsDir, 'migrate', 'status', '--json'))).toEqual(PRISMA_ORDER.map((name) => [name, 'applied']));

    // migrate create still writes a timestamped name beside them.
    const created = await cli(url, migrationsDir, 'migrate', 'create', 'add due date', '--json');
    expect(created.json().data.name).toMatch(/^\d{14}_add_due_date$/);
  });

  it("runs Prisma's block and everything after its COMMIT in one transaction with the history row: a later failure leaves nothing of the file", async () => {
    const migrationsDir = await migrationsFolder({ [INIT]: { up: generated.init } });
    await addMigration(migrationsDir, REMOVE, { up: `${generated.removal}\n-- AlterTable\nALTER TABLE "Item" ADD COLUMN "status" TEXT;\n` });
    const url = await createTestDatabase('prismaatomic');
    const up = await cli(url, migrationsDir, 'migrate', 'up', '--json');
    expect(up.code).toBe(1);
    expect(up.json().error.message).toMatch(new RegExp(`${REMOVE}/migration\\.sql:\\d+:\\d+: column "status" of relation "Item" already exists`));
    // Under prisma migrate deploy the enum would have lost ARCHIVED at the COMMIT line; here the file rolled back whole.
    const labels = await query(url, `select array_agg(enumlabel::text order by enumsortorder) as labels from pg_enum where enumtypid = '"Status"'::regtype`);
    expect(labels[0].labels).toEqual(['OPEN', 'DONE', 'ARCHIVED']);
    expect((await history(url)).map((row) => [row.migration_name, row.finished_at === null, row.rolled_back_at !== null])).toEqual([
      [INIT, false, false],
      [REMOVE, true, true],
    ]);
  });
});

describe("Prisma's block in a large file", () => {
  it("is found past the parser's first pieces, folded by up and linted as in a small file", async () => {
    // Over 300 kB before the block: the runner and the lint read the file in pieces, and the walk parses it again.
    const padding = Array.from({ length: 8000 }, (_, i) => `COMMENT ON TABLE "Item" IS 'padding ${i}';`).join('\n');
    const removal = `${padding}\n${generated.removal}`;
    const migrationsDir = await migrationsFolder({ [INIT]: { up: generated.init } });
    await addMigration(migrationsDir, REMOVE, { up: removal });
    const url = await createTestDatabase('prismalarge');
    const findings = (await cli(url, migrationsDir, 'migrate', 'lint', '--json')).json().data.findings as Array<{ rule: string; location: string }>;
    expect(findings.filter((finding) => finding.rule === 'prisma-transaction-block').map((finding) => finding.location)).toEqual([
      expect.stringMatching(new RegExp(`${REMOVE}/migration\\.sql:${removal.split('\n').indexOf('BEGIN;') + 1}:1$`)),
    ]);
    expect(findings.map((finding) => finding.rule)).not.toContain('transaction-control');
    const up = await cli(url, migrationsDir, 'migrate', 'up');
    expect(up.code, up.stderr).toBe(0);
    const labels = await query(url, `select array_agg(enumlabel::text order by enumsortorder) as labels from pg_enum where enumtypid = '"Status"'::regtype`);
    expect(labels[0].labels).toEqual(['OPEN', 'DONE']);
  });
});

describe('transaction control in any other shape', () => {
  const BODY = 'CREATE TABLE "Other" ("id" INTEGER);\n';
  const SHAPES: Array<[string, string, RegExp]> = [
    ['lowercase, which Prisma never writes', `begin;\n${BODY}commit;\n`, /BEGIN is transaction control[\s\S]*\| begin;/],
    ['START TRANSACTION', `START TRANSACTION;\n${BODY}COMMIT;\n`, /START TRANSACTION is transaction control/],
    ['BEGIN with options', `BEGIN ISOLATION LEVEL SERIALIZABLE;\n${BODY}COMMIT;\n`, /BEGIN is transaction control/],
    ['END for COMMIT', `BEGIN;\n${BODY}END;\n`, /BEGIN is transaction control/],
    ['COMMIT AND CHAIN', `BEGIN;\n${BODY}COMMIT AND CHAIN;\n`, /BEGIN is transaction control/],
    ['ROLLBACK', `BEGIN;\n${BODY}ROLLBACK;\n`, /BEGIN is transaction control/],
    ['a BEGIN without its COMMIT', `BEGIN;\n${BODY}`, /BEGIN is transaction control/],
    ['a COMMIT without its BEGIN', `${BODY}COMMIT;\n`, /COMMIT is transaction control/],
    ['BEGIN inside a block', `BEGIN;\nBEGIN;\n${BODY}COMMIT;\nCOMMIT;\n`, /BEGIN is transaction control/],
    ['BEGIN sharing its line', `BEGIN; ${BODY}COMMIT;\n`, /BEGIN is transaction control/],
    ['a second block after other control', `BEGIN;\n${BODY}COMMIT;\nSTART TRANSACTION;\nCOMMIT;\n`, /START TRANSACTION is transaction control/],
  ];

  it.each(SHAPES)('%s stays refused before anything runs, with a hint that never leads to MIGRATION_EDITED', async (_shape, sql, what) => {
    const migrationsDir = await migrationsFolder({
      '20240101000000_first': { up: 'CREATE TABLE "First" ("id" INTEGER);\n' },
      '20240102000000_second': { up: sql },
    });
    const url = await createTestDatabase('txshape');
    const refusal = (await new Migrator({ url: parseDatabaseUrl(url), migrationsDir, environment: 'development' }).up().catch((error: unknown) => error)) as {
      code: string;
      message: string;
      hint: string;
    };
    expect(refusal).toMatchObject({ code: 'MIGRATION_INVALID', message: expect.stringMatching(what) });
    expect(refusal.hint).toMatch(
      /Nothing was run\. If a database already applied this migration \(Prisma deployed it\), record the change there afterwards: todo-db migrate resolve --edited 20240102000000_second\./,
    );
    expect(await historyRows(url)).toEqual([]);
    expect((await query(url, 'select to_regclass(\'"First"\') as t'))[0].t).toBeNull();
  });

  it("Prisma's block in a no-transaction migration stays refused: there is no transaction to fold it into", async () => {
    const migrationsDir = await migrationsFolder({
      '20240101000000_first': { up: `-- todo-db: no-transaction\nBEGIN;\nCREATE TABLE "Other" ("id" INTEGER);\nCOMMIT;\n` },
    });
    const url = await createTestDatabase('txnotx');
    const refusal = await new Migrator({ url: parseDatabaseUrl(url), migrationsDir, environment: 'development' })
      .up()
      .catch((error: unknown) => error as { code: string; message: string });
    expect(refusal).toMatchObject({ code: 'MIGRATION_INVALID', message: expect.stringMatching(/migration\.sql:2:1: BEGIN is transaction control/) });
    expect(await historyRows(url)).toEqual([]);
  });
});

describe("a _prisma_migrations written by Prisma's engine: failed, rolled-back and edited rows", () => {
  /** Half applies under Prisma: its adapter runs the ADD COLUMN on its own before the division fails. */
  const FAILING = '-- AlterTable\nALTER TABLE "Item" ADD COLUMN "flag" BOOLEAN;\nSELECT 1/0;\n';
  const FAIL = 'c_flag';

  async function deployedWithFailure(prefix: string): Promise<{ url: string; migrationsDir: string }> {
    const migrationsDir = await prismaFolder({ [FAIL]: FAILING });
    const url = await createTestDatabase(prefix);
    const deploy = await prismaDeploy(url, migrationsDir);
    expect(deploy.error).toMatch(/division by zero/);
    return { url, migrationsDir };
  }

  it('a failed row (finished_at and rolled_back_at NULL, logs set) is told, blocks up with the command that resolves it, and resolves', async () => {
    const { url, migrationsDir } = await deployedWithFailure('prismafailed');
    const row = (await history(url)).at(-1);
    expect(row).toMatchObject({
      migration_name: FAIL,
      finished_at: null,
      rolled_back_at: null,
      applied_steps_count: 0,
      logs: expect.stringMatching(/division by zero/),
    });

    const status = await cli(url, migrationsDir, 'migrate', 'status', '--json');
    expect(status.code).toBe(1);
    expect(statusStates(status).at(-1)).toEqual([FAIL, 'failed']);
    const failed = status.json().data.migrations.at(-1);
    expect(failed.logs).toMatch(/division by zero/);
    expect(failed.next).toMatch(new RegExp(`todo-db migrate resolve --rolled-back ${FAIL}`));
    expect(status.json().error).toMatchObject({
      code: 'MIGRATIONS_NOT_UP_TO_DATE',
      hint: expect.stringMatching(
        new RegExp(`${FAIL} is failed: Undo what it applied by hand, then mark it rolled back \\(todo-db migrate resolve --rolled-back ${FAIL}\\)`),
      ),
    });
    const text = await cli(url, migrationsDir, 'migrate', 'status');
    expect(text.stdout).toMatch(new RegExp(`${FAIL} +failed[^\\n]*\\n +Undo what it applied by hand`));

    const up = await cli(url, migrationsDir, 'migrate', 'up', '--json');
    expect([up.code, up.json().error.code]).toEqual([1, 'MIGRATION_FAILED']);
    expect(up.json().error.message).toMatch(/division by zero/);
    expect(up.json().error.hint).toMatch(new RegExp(`todo-db migrate resolve --rolled-back ${FAIL}`));

    // Following the hint: undo the half, mark it rolled back, fix the file (never applied anywhere), apply.
    await query(url, 'ALTER TABLE "Item" DROP COLUMN "flag"');
    const resolved = await cli(url, migrationsDir, 'migrate', 'resolve', '--rolled-back', FAIL);
    expect(resolved.code).toBe(0);
    await writeFile(join(migrationsDir, FAIL, 'migration.sql'), '-- AlterTable\nALTER TABLE "Item" ADD COLUMN "flag" BOOLEAN;\n');
    expect((await cli(url, migrationsDir, 'migrate', 'up')).code).toBe(0);
    expect((await cli(url, migrationsDir, 'migrate', 'status')).code).toBe(0);
    expect((await cli(url, migrationsDir, 'migrate', 'diff')).code).toBe(0);
  });

  it("a row Prisma's resolve marked rolled back is told as rolled-back, and up applies the fixed file again", async () => {
    const { url, migrationsDir } = await deployedWithFailure('prismarolledback');
    await query(url, 'ALTER TABLE "Item" DROP COLUMN "flag"');
    await engine(url, (schemaEngine) => schemaEngine.markMigrationRolledBack({ migrationName: FAIL }));
    expect((await history(url)).at(-1)).toMatchObject({ migration_name: FAIL, finished_at: null, rolled_back_at: expect.any(Date) });

    const status = await cli(url, migrationsDir, 'migrate', 'status', '--json');
    expect(status.code).toBe(1);
    expect(status.json().data.migrations.at(-1)).toMatchObject({ name: FAIL, state: 'rolled-back', next: 'Apply it again: todo-db migrate up' });
    expect((await cli(url, migrationsDir, 'migrate', 'status')).stdout).toMatch(new RegExp(`${FAIL} +rolled-back .*\\(a failed attempt, rolled back\\)`));

    await writeFile(join(migrationsDir, FAIL, 'migration.sql'), '-- AlterTable\nALTER TABLE "Item" ADD COLUMN "flag" BOOLEAN;\n');
    const up = await cli(url, migrationsDir, 'migrate', 'up', '--json');
    expect(up.json().data.applied.map((step: { name: string }) => step.name)).toEqual([FAIL]);
    expect(statusStates(await cli(url, migrationsDir, 'migrate', 'status', '--json')).at(-1)).toEqual([FAIL, 'applied']);
  });

  it('an applied file changed afterwards is told as edited, up names migrate resolve --edited, and that records the change (with --yes in production)', async () => {
    const migrationsDir = await prismaFolder();
    const url = await createTestDatabase('prismaedited');
    expect((await prismaDeploy(url, migrationsDir)).applied).toEqual(PRISMA_ORDER);
    // The change the old hint asked for: Prisma's BEGIN and COMMIT taken out of the applied file.
    const edited = generated.removal.replace('BEGIN;\n', '').replace('COMMIT;\n', '');
    await writeFile(join(migrationsDir, REMOVE, 'migration.sql'), edited);

    const status = await cli(url, migrationsDir, 'migrate', 'status', '--json');
    expect(status.code).toBe(1);
    expect(status.json().data.migrations.find((entry: { name: string }) => entry.name === REMOVE)).toMatchObject({
      state: 'edited',
      next: expect.stringMatching(`todo-db migrate resolve --edited ${REMOVE}`),
    });
    const up = await cli(url, migrationsDir, 'migrate', 'up', '--json');
    expect([up.code, up.json().error.code]).toEqual([1, 'MIGRATION_EDITED']);
    expect(up.json().error.hint).toMatch(new RegExp(`todo-db migrate resolve --edited ${REMOVE}$`));

    const gate = await runCli(['migrate', 'resolve', '--edited', REMOVE, '--migrations-dir', migrationsDir, '--json'], {
      env: { DATABASE_URL: url, ENVIRONMENT: 'production' },
    });
    expect([gate.code, gate.json().error.code]).toEqual([2, 'CONFIRMATION_REQUIRED']);
    expect(gate.json().error.message).toContain(`checksum ${sha256(generated.removal)} becomes ${sha256(edited)}`);
    expect((await history(url)).find((row) => row.migration_name === REMOVE)?.checksum).toBe(sha256(generated.removal));

    const resolved = await cli(url, migrationsDir, 'migrate', 'resolve', '--edited', REMOVE, '--json');
    expect(resolved.code).toBe(0);
    expect(resolved.json().data).toMatchObject({
      name: REMOVE,
      resolution: 'edited',
      verified: true,
      checksum: { previous: sha256(generated.removal), recorded: sha256(edited) },
    });
    expect((await history(url)).find((row) => row.migration_name === REMOVE)?.checksum).toBe(sha256(edited));
    expect((await cli(url, migrationsDir, 'migrate', 'status')).code).toBe(0);
    expect((await cli(url, migrationsDir, 'migrate', 'up')).code).toBe(0);
    expect((await cli(url, migrationsDir, 'migrate', 'diff')).code).toBe(0);
    // Prisma's own engine agrees: nothing to apply, nothing edited.
    expect(await prismaDeploy(url, migrationsDir)).toEqual({ applied: [] });

    const again = await cli(url, migrationsDir, 'migrate', 'resolve', '--edited', REMOVE, '--json');
    expect([again.code, again.json().error.code]).toEqual([2, 'MIGRATION_NOT_EDITED']);
  });

  it('an edit that changes what the file builds is not recorded: the live schema must match the files as they read now', async () => {
    const migrationsDir = await prismaFolder();
    const url = await createTestDatabase('prismaeditbad');
    expect((await prismaDeploy(url, migrationsDir)).applied).toEqual(PRISMA_ORDER);
    await writeFile(join(migrationsDir, TAG, 'migration.sql'), 'ALTER TABLE "Item" ADD COLUMN "tag" VARCHAR(20);\n');
    const refused = await cli(url, migrationsDir, 'migrate', 'resolve', '--edited', TAG, '--json');
    expect([refused.code, refused.json().error.code]).toEqual([1, 'RESOLVE_SCHEMA_MISMATCH']);
    expect(refused.json().error.message).toMatch(/tag/);
    expect(statusStates(await cli(url, migrationsDir, 'migrate', 'status', '--json')).at(-1)).toEqual([TAG, 'edited']);
  });

  it('a checksum the early engines wrote without leading zeros (prisma-engines issue 1887) still matches, as it does for Prisma', async () => {
    const migrationsDir = await prismaFolder();
    const url = await createTestDatabase('prismaunpadded');
    expect((await cli(url, migrationsDir, 'migrate', 'up')).code).toBe(0);
    const unpadded = (checksum: string) => (checksum.match(/../g) ?? []).map((byte) => parseInt(byte, 16).toString(16)).join('');
    const rows = (await history(url)).filter((row) => unpadded(row.checksum) !== row.checksum);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows)
      await query(url, 'update _prisma_migrations set checksum = $1 where migration_name = $2', [unpadded(row.checksum), row.migration_name]);
    expect(statusStates(await cli(url, migrationsDir, 'migrate', 'status', '--json'))).toEqual(PRISMA_ORDER.map((name) => [name, 'applied']));
    expect(await prismaDeploy(url, migrationsDir)).toEqual({ applied: [] });
  });
});

describe('a NUL byte in a migration file', () => {
  it('in migration.sql is refused before anything runs, naming its file, line and column; no history row for anything', async () => {
    const migrationsDir = await migrationsFolder({
      '20240101000000_first': { up: 'CREATE TABLE "First" ("id" INTEGER);\n' },
      '20240102000000_second': { up: 'CREATE TABLE "Second" ("id" INTEGER);\n-- a \0 in a comment\n' },
    });
    const url = await createTestDatabase('nulup');
    const up = await cli(url, migrationsDir, 'migrate', 'up', '--json');
    expect(up.code).toBe(2);
    expect(up.json().error).toMatchObject({
      code: 'MIGRATION_INVALID',
      message: expect.stringMatching(/20240102000000_second\/migration\.sql:2:6: the file holds a NUL byte/),
    });
    expect(up.json().error.hint).toMatch(/^Remove the NUL byte from migration\.sql.*nothing was run/);
    expect(await historyRows(url)).toEqual([]);
    expect((await query(url, 'select to_regclass(\'"First"\') as t'))[0].t).toBeNull();

    const lint = await cli(url, migrationsDir, 'migrate', 'lint', '--json');
    expect(lint.json().data.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: 'syntax-error', location: expect.stringMatching(/20240102000000_second\/migration\.sql:2:6$/) }),
      ]),
    );
  });

  it('in down.sql is refused before anything is rolled back, naming down.sql', async () => {
    const migrationsDir = await migrationsFolder({
      '20240101000000_first': { up: 'CREATE TABLE "First" ("id" INTEGER);\n', down: 'DROP TABLE "First";\n\0\n' },
    });
    const url = await createTestDatabase('nuldown');
    expect((await cli(url, migrationsDir, 'migrate', 'up')).code).toBe(0);
    const down = await cli(url, migrationsDir, 'migrate', 'down', '--json');
    expect(down.code).toBe(2);
    expect(down.json().error).toMatchObject({
      code: 'MIGRATION_INVALID',
      message: expect.stringMatching(/20240101000000_first\/down\.sql:2:1: the file holds a NUL byte/),
    });
    expect((await history(url)).map((row) => [row.migration_name, row.rolled_back_at])).toEqual([['20240101000000_first', null]]);
  });
});
