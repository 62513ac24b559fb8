import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { addMigration, migrationsFolder, query } from './helpers/migrations.js';
import { PRISMA_HISTORY } from './helpers/prisma-history.js';

/**
 * The lint's exemption for new objects follows the objects through a whole run of pending migrations: what an
 * earlier pending migration created (a table, an index, a column, a type), under whatever name renames gave it.
 */
const NAMES = Object.keys(PRISMA_HISTORY);
const errorsOf = (data: any) => data.findings.filter((finding: any) => finding.severity === 'error' && !finding.allowed);
const where = (finding: any) => `${finding.migration} ${finding.rule}: ${finding.message}`;

describe('the lint on a fresh database deploy of a long Prisma history', () => {
  it('lets ENVIRONMENT=production migrate up apply it: every DROP INDEX, DROP TABLE, DROP TYPE and change after a rename is on new objects', async () => {
    const url = await createTestDatabase('lintfresh');
    const dir = await migrationsFolder(PRISMA_HISTORY);
    const pending = await runCli(['migrate', 'lint', '--json', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    expect(errorsOf(pending.json().data).map(where)).toEqual([]);
    expect(pending.code).toBe(0);

    const up = await runCli(['migrate', 'up', '--json', '--migrations-dir', dir], { env: { DATABASE_URL: url, ENVIRONMENT: 'production' } });
    expect(up.stderr).not.toContain('LINT_FAILED');
    expect(up.code).toBe(0);
    expect(up.json().data.applied.map((step: any) => step.name)).toEqual(NAMES);
    expect(up.json().data.lint.errors).toBe(0);
    expect(await query(url, 'select to_regclass(\'"Account"\') is not null as account, to_regclass(\'"Article"\') is null as article_gone')).toEqual([
      { account: true, article_gone: true },
    ]);
  });

  it('still judges each migration alone when nothing says they run together (--offline, or once applied)', async () => {
    const dir = await migrationsFolder(PRISMA_HISTORY);
    const offline = await runCli(['migrate', 'lint', '--offline', '--json', '--migrations-dir', dir]);
    expect(offline.code).toBe(1);
    const rules = errorsOf(offline.json().data).map((finding: any) => `${finding.migration} ${finding.rule}`);
    expect(rules).toEqual(
      expect.arrayContaining([
        '20240104000000_post_author_index index-without-concurrently',
        '20240109000000_drop_profile drop-object',
        '20240107000000_remove_guest_role drop-object',
        '20240114000000_drop_article drop-object',
      ]),
    );
  });

  it('does not exempt what the database already holds: the same drops after the history was applied are errors', async () => {
    const url = await createTestDatabase('lintapplied');
    const dir = await migrationsFolder(Object.fromEntries(Object.entries(PRISMA_HISTORY).slice(0, 6)));
    expect((await runCli(['migrate', 'up', '--migrations-dir', dir], { env: { DATABASE_URL: url } })).code).toBe(0);
    await addMigration(dir, '20240201000000_drop_old', {
      up: 'DROP INDEX "Article_slug_key";\nDROP TABLE "Profile";\nALTER TABLE "Article" RENAME COLUMN "body" TO "text";\n',
    });
    const lint = await runCli(['migrate', 'lint', '--json', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    expect(lint.code).toBe(1);
    expect(errorsOf(lint.json().data).map((finding: any) => finding.rule)).toEqual(['index-without-concurrently', 'drop-object', 'rename']);
  });

  it('exempts a column an earlier pending migration added to an existing table from drop and rename, but not from a rewrite of that table', async () => {
    const url = await createTestDatabase('lintcolumn');
    const dir = await migrationsFolder({
      '20240101000000_notes': { up: 'CREATE TABLE "Note" ("id" TEXT NOT NULL, CONSTRAINT "Note_pkey" PRIMARY KEY ("id"));\n' },
    });
    expect((await runCli(['migrate', 'up', '--migrations-dir', dir], { env: { DATABASE_URL: url } })).code).toBe(0);
    await addMigration(dir, '20240102000000_add', {
      up: 'ALTER TABLE "Note" ADD COLUMN "draft" TEXT;\nCREATE INDEX CONCURRENTLY "Note_draft_idx" ON "Note"("draft");\n'.replace(
        /^/,
        '-- todo-db: no-transaction\n',
      ),
    });
    await addMigration(dir, '20240103000000_rename', {
      up: 'ALTER TABLE "Note" RENAME COLUMN "draft" TO "body";\nALTER TABLE "Note" ALTER COLUMN "body" TYPE INTEGER USING 0;\n',
    });
    await addMigration(dir, '20240104000000_drop', {
      up: '-- todo-db: no-transaction\nDROP INDEX CONCURRENTLY "Note_draft_idx";\nALTER TABLE "Note" DROP COLUMN "body";\n',
    });
    const lint = await runCli(['migrate', 'lint', '--json', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    expect(errorsOf(lint.json().data).map(where)).toEqual([expect.stringMatching(/^20240103000000_rename alter-column-type: changes Note\.body to int4/)]);
  });
});

describe('migrate lint --all against a database', () => {
  it('judges applied migrations by the static rules alone: no live sizes, no lock plan, no escalation', async () => {
    const url = await createTestDatabase('lintall');
    const dir = await migrationsFolder({
      '20240101000000_items': { up: "create table items (id bigint generated always as identity primary key, name text not null check (name <> ''));\n" },
    });
    expect((await runCli(['migrate', 'up', '--migrations-dir', dir], { env: { DATABASE_URL: url } })).code).toBe(0);
    await query(url, "insert into items (name) select 'item ' || g from generate_series(1, 20000) g; analyze items");
    const change = 'alter table items add column rank int;\nalter table items validate constraint items_name_check;\n';
    await addMigration(dir, '20240102000000_rank', { up: change });
    const pending = await runCli(['migrate', 'lint', '--all', '--json', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    // Pending: the VALIDATE scans 20 000 rows under the ADD COLUMN's ACCESS EXCLUSIVE.
    expect(errorsOf(pending.json().data).map((finding: any) => [finding.migration, finding.rule])).toEqual([['20240102000000_rank', 'large-table-lock']]);

    expect((await runCli(['migrate', 'up', '--migrations-dir', dir], { env: { DATABASE_URL: url } })).code).toBe(0);
    const applied = await runCli(['migrate', 'lint', '--all', '--json', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    expect(applied.code).toBe(0);
    const data = applied.json().data;
    expect([data.findings, data.plan, data.offline]).toEqual([[], [], false]);
  });
});

describe("migrate up and the lint's warnings", () => {
  it('prints one summary line for 1000 migrations with warnings (counted by rule, with the command that lists them); --json keeps every finding', async () => {
    const url = await createTestDatabase('lintsummary');
    const migrations = Object.fromEntries(
      Array.from({ length: 1000 }, (_, n) => [
        `2024${String(n).padStart(10, '0')}_table_${n}`,
        { up: `CREATE TABLE "t${n}" ("id" SERIAL NOT NULL, "at" TIMESTAMP(3), CONSTRAINT "t${n}_pkey" PRIMARY KEY ("id"));\n` },
      ]),
    );
    const dir = await migrationsFolder(migrations);
    const up = await runCli(['migrate', 'up', '--json', '--migrations-dir', dir], { env: { DATABASE_URL: url }, timeoutMs: 120_000 });
    expect(up.code).toBe(0);
    const warnings = up.stderr.split('\n').filter((line) => line.startsWith('warning:'));
    expect(warnings).toEqual([
      'warning: The lint found 0 errors and 3000 warnings in 1000 of the 1000 pending migrations (int-primary-key 1000, serial-instead-of-identity 1000, timestamp-without-time-zone 1000); todo-db migrate lint --all lists them.',
    ]);
    const lint = up.json().data.lint;
    expect([lint.findings.length, lint.warnings, lint.migrations.length]).toEqual([3000, 3000, 1000]);
  }, 180_000);
});
