import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { type LintTarget, lintMigrations } from '../src/lint/lint.js';
import { RULE_LIST, RULES, type RuleId } from '../src/lint/rules/index.js';
import { NO_TX } from '../src/lint/rules/rule.js';
import type { Migration } from '../src/migrations/folder.js';

/** A migration from memory: the lint reads nothing else of it. */
function memoryMigration(sql: string, { name = '20990101000000_change', down }: { name?: string; down?: string } = {}): Migration {
  return {
    name,
    path: `/migrations/${name}/migration.sql`,
    sql,
    checksum: '',
    readDown: () => (down === undefined ? undefined : { sql: down }),
    transactional: !sql.startsWith('-- todo-db: no-transaction'),
  };
}

async function lint(sql: string, options: { down?: string } = {}) {
  const targets: LintTarget[] = [{ migration: memoryMigration(sql, options), pending: true }];
  return lintMigrations(targets);
}

async function rulesOf(sql: string): Promise<RuleId[]> {
  return (await lint(sql)).findings.filter((finding) => !finding.allowed).map((finding) => finding.rule);
}

/** Each rule's examples (src/lint/rules/<rule>.ts): SQL that must fire it on an existing table (tasks, users), and its safe rewrite, which must not. */
const CORPUS: Array<{ rule: RuleId; unsafe: string; safe: string }> = RULE_LIST.flatMap((rule) =>
  rule.examples.map((example) => ({ rule: rule.id, ...example })),
);

describe('the static rules (no database)', () => {
  it.each(CORPUS)('$rule fires on the unsafe form and not on its safe rewrite: $unsafe', async ({ rule, unsafe, safe }) => {
    expect(await rulesOf(unsafe)).toContain(rule);
    expect(await rulesOf(safe)).not.toContain(rule);
  });

  it('runs every rule module of src/lint/rules: each <id>.ts is in the registry under its id', async () => {
    const modules = (await readdir(new URL('../src/lint/rules/', import.meta.url))).map((file) => file.replace(/\.ts$/, ''));
    expect(modules.filter((id) => !['index', 'rule', 'statements'].includes(id)).sort()).toEqual(RULE_LIST.map((rule) => rule.id).sort());
  });

  it('has a corpus entry for every rule but the one that needs live numbers', () => {
    const covered = new Set([...CORPUS.map((entry) => entry.rule), 'large-table-lock', 'allow-comment-invalid']);
    expect(Object.keys(RULES).filter((rule) => !covered.has(rule))).toEqual([]);
  });

  it('gives each finding its severity, file:line:column, first line, why and fix', async () => {
    const report = await lint('-- a comment\n\nalter table tasks\n  alter column title type int using 0;\n');
    expect(report.findings).toEqual([
      expect.objectContaining({
        rule: 'alter-column-type',
        severity: 'error',
        location: '/migrations/20990101000000_change/migration.sql:3:1',
        line: 3,
        column: 1,
        statement: 'alter table tasks',
        why: RULES['alter-column-type'].why,
        fix: RULES['alter-column-type'].fix,
        allowed: false,
      }),
    ]);
    expect(report.errors).toBe(1);
  });

  it('says REINDEX and DROP INDEX block reads too (ACCESS EXCLUSIVE on the index), CREATE INDEX writes only', async () => {
    const messages = async (sql: string) => (await lint(sql)).findings.map((finding) => finding.message);
    expect(await messages('reindex index tasks_status_idx;')).toEqual([
      'REINDEX of tasks_status_idx without CONCURRENTLY blocks reads and writes of the table while it runs',
    ]);
    expect(await messages('reindex table tasks;')).toEqual(['REINDEX of tasks without CONCURRENTLY blocks reads and writes of tasks while it runs']);
    expect(await messages('create index tasks_title_idx on tasks (title);')).toEqual([
      'CREATE INDEX on tasks without CONCURRENTLY blocks writes to tasks while it runs',
    ]);
  });

  it('reports style rules as warnings, and an offline type change that may be a widening as a warning', async () => {
    const report = await lint('create table notes (at timestamp);\nalter table tasks alter column title type varchar(300);');
    expect(report.findings.map((finding) => [finding.rule, finding.severity])).toEqual([
      ['timestamp-without-time-zone', 'warning'],
      ['alter-column-type', 'warning'],
    ]);
    expect(report.errors).toBe(0);
  });

  it('judges down.sql as what runs after its migration: undoing its drops are warnings, other drops errors', async () => {
    const report = await lint('create table notes (id uuid primary key);\nalter table tasks add column note_id uuid;', {
      down: 'alter table tasks drop column note_id;\ndrop table notes;\ndrop table users;',
    });
    const down = report.findings.filter((finding) => finding.file === 'down.sql').map((finding) => [finding.rule, finding.severity, finding.line]);
    expect(down).toEqual([
      ['drop-object', 'warning', 1],
      ['drop-object', 'warning', 2],
      ['drop-object', 'error', 3],
    ]);
  });

  it('expects down.sql to drop the index its migration built on an existing table, without CONCURRENTLY (a warning)', async () => {
    const up = `${NO_TX}create index concurrently tasks_title_idx on tasks (title);`;
    const report = await lint(up, { down: 'drop index tasks_title_idx;\ndrop index tasks_status_idx;' });
    expect(report.findings.map((finding) => [finding.file, finding.rule, finding.severity, finding.line])).toEqual([
      ['down.sql', 'index-without-concurrently', 'warning', 1],
      ['down.sql', 'index-without-concurrently', 'error', 2],
    ]);
  });

  it('treats tables created by an earlier pending migration as new, but not those of an applied one', async () => {
    const first = memoryMigration('create table notes (id uuid primary key, body text);', { name: '20990101000000_notes' });
    const second = memoryMigration('create index notes_body_idx on notes (body);', { name: '20990101000001_notes_body' });
    const pendingBoth = await lintMigrations([
      { migration: first, pending: true },
      { migration: second, pending: true },
    ]);
    expect(pendingBoth.findings.map((finding) => finding.rule)).toEqual([]);
    const appliedFirst = await lintMigrations([
      { migration: first, pending: false },
      { migration: second, pending: true },
    ]);
    expect(appliedFirst.findings.map((finding) => finding.rule)).toEqual(['index-without-concurrently']);
  });
});

describe('the safe SQL written for the statement itself', () => {
  const SAFE_SQL: Array<[string, string]> = [
    ['create unique index tasks_title_key on tasks (title);', '-- todo-db: no-transaction\ncreate unique index CONCURRENTLY tasks_title_key on tasks (title);'],
    ['drop index tasks_status_idx;', '-- todo-db: no-transaction\ndrop index CONCURRENTLY tasks_status_idx;'],
    ['reindex table tasks;', '-- todo-db: no-transaction\nreindex table CONCURRENTLY tasks;'],
    [
      'alter table tasks add constraint tasks_owner_fkey foreign key (user_id) references users (id);',
      'alter table tasks add constraint tasks_owner_fkey foreign key (user_id) references users (id) NOT VALID;\n-- in a later migration:\nALTER TABLE tasks VALIDATE CONSTRAINT tasks_owner_fkey;',
    ],
    [
      'alter table users add constraint users_name_key unique (name);',
      '-- todo-db: no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY users_name_key ON users (name);\n-- in the next migration:\nALTER TABLE users ADD CONSTRAINT users_name_key UNIQUE USING INDEX users_name_key;',
    ],
  ];

  it.each(SAFE_SQL)('%s', async (unsafe, sql) => {
    expect((await lint(unsafe)).findings.map((finding) => finding.sql)).toEqual([sql]);
  });

  it('is itself clean, each step linted as the migration it is meant to be', async () => {
    for (const [unsafe] of SAFE_SQL) {
      const [sql] = (await lint(unsafe)).findings.map((finding) => finding.sql ?? '');
      for (const step of (sql ?? '').split(/\n-- in (?:a later|the next) migration:\n/))
        expect({ step, rules: await rulesOf(step) }).toEqual({ step, rules: [] });
    }
  });
});

describe('allow comments', () => {
  const unsafe = 'create index tasks_title_idx on tasks (title);';

  it('silence the rule for the next statement, with a reason, and stay in the report as allowed', async () => {
    const report = await lint(
      `-- CreateIndex\n-- todo-db-lint: allow index-without-concurrently -- tasks is empty until the launch\n${unsafe}\n${unsafe.replace('title_idx', 'title2_idx')}`,
    );
    expect(report.findings.map((finding) => [finding.rule, finding.line, finding.allowed, finding.allowReason])).toEqual([
      ['index-without-concurrently', 3, true, 'tasks is empty until the launch'],
      ['index-without-concurrently', 4, false, null],
    ]);
    expect([report.errors, report.allowed]).toEqual([1, 1]);
  });

  it('without a reason do not apply and are an error themselves', async () => {
    const report = await lint(`-- todo-db-lint: allow index-without-concurrently\n${unsafe}`);
    expect(report.findings.map((finding) => [finding.rule, finding.line, finding.allowed])).toEqual([
      ['allow-comment-invalid', 1, false],
      ['index-without-concurrently', 2, false],
    ]);
    expect(report.findings[0]?.message).toContain('gives no reason');
  });

  it('with an unknown rule id are an error', async () => {
    const report = await lint(`-- todo-db-lint: allow index-not-concurrent -- typo\n${unsafe}`);
    expect(report.findings.map((finding) => finding.rule)).toEqual(['allow-comment-invalid', 'index-without-concurrently']);
    expect(report.findings[0]?.message).toBe('unknown rule "index-not-concurrent" in an allow comment');
  });
});

describe('the README', () => {
  it('documents every rule by its id', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    expect(Object.keys(RULES).filter((rule) => !readme.includes(`| \`${rule}\` |`))).toEqual([]);
  });

  it('has the rule table the registry gives: the same ids in the same order, with their severities and what they fire on', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `([a-z-]+)` \| (error|warning) \| (.*) \|$/gm)].map(([, id, severity, firesOn]) => ({ id, severity, firesOn }));
    expect(rows).toEqual(RULE_LIST.map(({ id, severity, firesOn }) => ({ id, severity, firesOn })));
  });
});
