import { beforeAll, describe, expect, it } from 'vitest';
import { destructiveSteps, isEmptyDraft, needsNoTransaction, type Statement, withoutTransactionControl } from '../src/drafts/draft-sql.js';
import { loadSqlParser, type SqlParser } from '../src/sql/parser.js';

/** The pure decisions of a draft, on scripts shaped like the engine's, with PostgreSQL's parser and no database. */
let parser: SqlParser;
beforeAll(async () => {
  parser = await loadSqlParser();
});
const parse = (sql: string): Statement[] => parser.parse(sql);

describe('draft SQL', () => {
  it("removes the engine's BEGIN and COMMIT lines and nothing else", () => {
    const sql = '-- AlterEnum\nBEGIN;\nCREATE TYPE "s_new" AS ENUM (\'a\');\nCOMMIT;\n\n-- DropIndex\nDROP INDEX "i";\n';
    expect(withoutTransactionControl(sql, parse(sql))).toBe('-- AlterEnum\nCREATE TYPE "s_new" AS ENUM (\'a\');\n\n-- DropIndex\nDROP INDEX "i";\n');
  });

  it('counts an engine script of comments alone as nothing to draft', () => {
    expect(isEmptyDraft(parse('-- This is an empty migration.'))).toBe(true);
    expect(isEmptyDraft(parse('ALTER TABLE "t" ADD COLUMN "c" TEXT;'))).toBe(false);
  });

  it.each([
    ['an enum value used later in the file', `ALTER TYPE "s" ADD VALUE 'archived';\nALTER TABLE "t" ALTER COLUMN "s" SET DEFAULT 'archived';`, true],
    ['an enum value added alone', `ALTER TYPE "s" ADD VALUE 'archived';\nALTER TABLE "t" ADD COLUMN "c" TEXT;`, false],
    ['CREATE INDEX CONCURRENTLY', 'CREATE INDEX CONCURRENTLY "i" ON "t" ("c");', true],
    ['a plain index', 'CREATE INDEX "i" ON "t" ("c");', false],
    ['REINDEX CONCURRENTLY', 'REINDEX INDEX CONCURRENTLY "i";', true],
    ['DROP INDEX CONCURRENTLY', 'DROP INDEX CONCURRENTLY "i";', true],
  ])('needs no-transaction for %s: %s', (_, sql, expected) => {
    expect(needsNoTransaction(parse(sql))).toBe(expected);
  });

  it('names every destructive kind, and a drop with an add in one ALTER TABLE as a rename', () => {
    const steps = destructiveSteps(
      parse(
        `ALTER TABLE "users" DROP COLUMN "name",\nADD COLUMN "display_name" TEXT;\nALTER TABLE "t" DROP COLUMN "old";\nDROP TABLE "gone";\nALTER TABLE "t" ALTER COLUMN "c" TYPE BIGINT;\nDROP INDEX "i";`,
      ),
    );
    expect(steps.map((step) => step.kind)).toEqual(['rename', 'drop-column', 'drop-table', 'type-change']);
    expect(steps[0]?.saferAlternative).toContain('ALTER TABLE "users" RENAME COLUMN "name" TO "display_name"');
    expect(steps[2]?.saferAlternative).toContain('ALTER TABLE "gone" RENAME TO');
  });
});
