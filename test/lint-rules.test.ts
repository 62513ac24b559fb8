import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { RULES, type RuleId } from '../src/lint/catalog.js';
import { lintMigrations, type LintTarget } from '../src/lint/lint.js';
import type { Migration } from '../src/migrations/folder.js';

/** A migration from memory: the lint reads nothing else of it. */
function memoryMigration(sql: string, { name = '20990101000000_change', down }: { name?: string; down?: string } = {}): Migration {
  return { name, path: `/migrations/${name}/migration.sql`, sql, checksum: '', readDown: () => (down === undefined ? undefined : { sql: down }), transactional: !sql.startsWith('-- todo-db: no-transaction') };
}

async function lint(sql: string, options: { down?: string } = {}) {
  const targets: LintTarget[] = [{ migration: memoryMigration(sql, options), pending: true }];
  return lintMigrations(targets);
}

async function rulesOf(sql: string): Promise<RuleId[]> {
  return (await lint(sql)).findings.filter((finding) => !finding.allowed).map((finding) => finding.rule);
}

const NO_TX = '-- todo-db: no-transaction\n';

/** Each rule: SQL that must fire it on an existing table (tasks, users), and its safe rewrite, which must not. */
const CORPUS: Array<{ rule: RuleId; unsafe: string; safe: string }> = [
  { rule: 'index-without-concurrently', unsafe: 'create index tasks_title_idx on tasks (title);', safe: `${NO_TX}create index concurrently tasks_title_idx on tasks (title);` },
  { rule: 'index-without-concurrently', unsafe: 'drop index tasks_status_idx;', safe: `${NO_TX}drop index concurrently tasks_status_idx;` },
  { rule: 'index-without-concurrently', unsafe: 'reindex index tasks_status_idx;', safe: `${NO_TX}reindex index concurrently tasks_status_idx;` },
  { rule: 'index-without-concurrently', unsafe: 'create index notes_idx on notes (body);', safe: 'create table notes (body text);\ncreate index notes_idx on notes (body);' },
  { rule: 'concurrently-in-transaction', unsafe: 'create index concurrently tasks_title_idx on tasks (title);', safe: `${NO_TX}create index concurrently tasks_title_idx on tasks (title);` },
  { rule: 'add-column-not-null-without-default', unsafe: 'alter table tasks add column rank int not null;', safe: 'alter table tasks add column rank int not null default 0;' },
  { rule: 'add-column-rewrite', unsafe: 'alter table tasks add column token uuid default gen_random_uuid();', safe: 'alter table tasks add column token uuid;' },
  { rule: 'add-column-rewrite', unsafe: 'alter table tasks add column n bigserial;', safe: 'alter table tasks add column n bigint;' },
  { rule: 'add-column-rewrite', unsafe: 'alter table tasks add column n bigint generated always as identity;', safe: 'create table notes (n bigint generated always as identity primary key);' },
  { rule: 'add-column-rewrite', unsafe: 'alter table tasks add column t text generated always as (lower(title)) stored;', safe: 'alter table tasks add column t text generated always as (lower(title)) virtual;' },
  { rule: 'set-not-null', unsafe: 'alter table tasks alter column description set not null;', safe: 'alter table tasks add constraint tasks_description_not_null check (description is not null);\nalter table tasks alter column description set not null;' },
  { rule: 'constraint-without-not-valid', unsafe: 'alter table tasks add constraint tasks_rank_check check (priority is not null);', safe: 'alter table tasks add constraint tasks_rank_check check (priority is not null) not valid;' },
  { rule: 'constraint-without-not-valid', unsafe: 'alter table tasks add constraint tasks_owner_fkey foreign key (user_id) references users (id);', safe: 'alter table tasks add constraint tasks_owner_fkey foreign key (user_id) references users (id) not valid;' },
  { rule: 'validate-in-same-migration', unsafe: 'alter table tasks add constraint c check (priority is not null) not valid;\nalter table tasks validate constraint c;', safe: 'alter table tasks validate constraint c;' },
  { rule: 'add-unique-constraint', unsafe: 'alter table users add constraint users_name_key unique (name);', safe: 'alter table users add constraint users_name_key unique using index users_name_key;' },
  { rule: 'add-unique-constraint', unsafe: 'alter table users add primary key (email);', safe: 'create table notes (id uuid, primary key (id));' },
  { rule: 'alter-column-type', unsafe: 'alter table tasks alter column title type int using 0;', safe: 'alter table tasks add column title_number int;' },
  { rule: 'rename', unsafe: 'alter table tasks rename column title to name;', safe: 'alter table tasks add column name varchar(200);' },
  { rule: 'rename', unsafe: 'alter table tasks rename to todos;', safe: 'create view todos as select * from tasks;' },
  { rule: 'drop-object', unsafe: 'alter table tasks drop column description;', safe: 'alter table tasks add column notes text;\nalter table tasks drop column notes;' },
  { rule: 'drop-object', unsafe: 'drop table tasks;', safe: 'create table scratch (id int);\ndrop table scratch;' },
  { rule: 'drop-object', unsafe: 'drop type task_priority;', safe: "create type mood as enum ('ok');\ndrop type mood;" },
  { rule: 'drop-object', unsafe: 'drop schema audit cascade;', safe: 'create schema audit;\ndrop schema audit;' },
  { rule: 'truncate-table', unsafe: 'truncate tasks;', safe: "delete from tasks where status = 'completed';" },
  { rule: 'truncate-table', unsafe: 'truncate table tasks, users cascade;', safe: 'create table scratch (id int);\ntruncate scratch;' },
  { rule: 'delete-without-where', unsafe: 'delete from tasks;', safe: "delete from tasks where status = 'completed';" },
  { rule: 'delete-without-where', unsafe: 'delete from tasks where true;', safe: 'delete from tasks where priority is null;' },
  { rule: 'delete-without-where', unsafe: 'delete from tasks using users;', safe: 'delete from tasks using users where users.id = tasks.user_id and users.name is null;' },
  { rule: 'delete-without-where', unsafe: 'with gone as (delete from tasks returning id) select count(*) from gone;', safe: "with gone as (delete from tasks where title = '' returning id) select count(*) from gone;" },
  { rule: 'update-without-where', unsafe: 'update tasks set description = null;', safe: "update tasks set description = null where description = '';" },
  { rule: 'update-without-where', unsafe: 'update tasks set description = null where 1 = 1;', safe: 'update tasks set description = null where 1 = 2;' },
  { rule: 'update-without-where', unsafe: 'update tasks set title = users.name from users;', safe: 'update tasks set title = users.name from users where users.id = tasks.user_id;' },
  { rule: 'update-without-where', unsafe: "with moved as (update tasks set status = 'pending' returning id) insert into notes select id from moved;", safe: "create table notes (id uuid);\nwith moved as (update notes set id = null returning id) select 1;" },
  { rule: 'unknown-lock-plan', unsafe: "do $$ begin perform 1; end $$;", safe: 'select 1;' },
  { rule: 'unknown-lock-plan', unsafe: 'drop type task_priority cascade;', safe: 'drop type task_priority;' },
  { rule: 'drop-not-null', unsafe: 'alter table tasks alter column title drop not null;', safe: "alter table tasks alter column title set default '';" },
  { rule: 'enum-rename-value', unsafe: "alter type task_status rename value 'pending' to 'open';", safe: "alter type task_status add value 'open' before 'pending';" },
  { rule: 'enum-add-value-unordered', unsafe: "alter type task_priority add value 'urgent';", safe: "alter type task_priority add value 'urgent' after 'high';" },
  { rule: 'enum-value-used-in-transaction', unsafe: "alter type task_priority add value 'urgent' after 'high';\nupdate tasks set priority = 'urgent' where title = 'x';", safe: "alter type task_priority add value 'urgent' after 'high';" },
  { rule: 'transaction-control', unsafe: 'commit and chain;', safe: 'savepoint before_change;' },
  { rule: 'transaction-control', unsafe: 'begin;\ncreate table notes (id int);', safe: 'create table notes (id int);' },
  { rule: 'data-change-with-ddl', unsafe: "alter table tasks add column done boolean;\nupdate tasks set done = status = 'completed';", safe: "update tasks set title = btrim(title) where title <> btrim(title);" },
  { rule: 'data-change-with-ddl', unsafe: 'create index tasks_t_idx on tasks (title);\ndelete from tasks where title is null;', safe: 'create table notes (id int);\ninsert into notes select 1;' },
  { rule: 'foreign-key-without-index', unsafe: 'create table notes (id bigint generated always as identity primary key, task_id uuid references tasks (id));', safe: 'create table notes (id bigint generated always as identity primary key, task_id uuid references tasks (id));\ncreate index notes_task_id_idx on notes (task_id);' },
  { rule: 'identifier-too-long', unsafe: `create table notes (${'x'.repeat(64)} text);`, safe: `create table notes (${'x'.repeat(63)} text);` },
  { rule: 'timestamp-without-time-zone', unsafe: 'create table notes (at timestamp);', safe: 'create table notes (at timestamptz);' },
  { rule: 'json-instead-of-jsonb', unsafe: 'create table notes (body json);', safe: 'create table notes (body jsonb);' },
  { rule: 'serial-instead-of-identity', unsafe: 'create table notes (id bigserial primary key);', safe: 'create table notes (id bigint generated always as identity primary key);' },
  { rule: 'int-primary-key', unsafe: 'create table notes (id int primary key);', safe: 'create table notes (id bigint primary key);' },
  { rule: 'int-primary-key', unsafe: 'create table notes (id integer, primary key (id));', safe: 'create table notes (id uuid, primary key (id));' },
  { rule: 'syntax-error', unsafe: 'create tabel notes (id int);', safe: 'create table notes (id int);' },
];

describe('the static rules (no database)', () => {
  it.each(CORPUS)('$rule fires on the unsafe form and not on its safe rewrite: $unsafe', async ({ rule, unsafe, safe }) => {
    expect(await rulesOf(unsafe)).toContain(rule);
    expect(await rulesOf(safe)).not.toContain(rule);
  });

  it('has a corpus entry for every rule but the one that needs live numbers', () => {
    const covered = new Set([...CORPUS.map((entry) => entry.rule), 'large-table-lock', 'allow-comment-invalid']);
    expect(Object.keys(RULES).filter((rule) => !covered.has(rule))).toEqual([]);
  });

  it('gives each finding its severity, file:line:column, first line, why and fix', async () => {
    const report = await lint('-- a comment\n\nalter table tasks\n  alter column title type int using 0;\n');
    expect(report.findings).toEqual([
      expect.objectContaining({ rule: 'alter-column-type', severity: 'error', location: '/migrations/20990101000000_change/migration.sql:3:1', line: 3, column: 1, statement: 'alter table tasks', why: RULES['alter-column-type'].why, fix: RULES['alter-column-type'].fix, allowed: false }),
    ]);
    expect(report.errors).toBe(1);
  });

  it('says REINDEX and DROP INDEX block reads too (ACCESS EXCLUSIVE on the index), CREATE INDEX writes only', async () => {
    const messages = async (sql: string) => (await lint(sql)).findings.map((finding) => finding.message);
    expect(await messages('reindex index tasks_status_idx;')).toEqual(['REINDEX of tasks_status_idx without CONCURRENTLY blocks reads and writes of the table while it runs']);
    expect(await messages('reindex table tasks;')).toEqual(['REINDEX of tasks without CONCURRENTLY blocks reads and writes of tasks while it runs']);
    expect(await messages('create index tasks_title_idx on tasks (title);')).toEqual(['CREATE INDEX on tasks without CONCURRENTLY blocks writes to tasks while it runs']);
  });

  it('reports style rules as warnings, and an offline type change that may be a widening as a warning', async () => {
    const report = await lint('create table notes (at timestamp);\nalter table tasks alter column title type varchar(300);');
    expect(report.findings.map((finding) => [finding.rule, finding.severity])).toEqual([['timestamp-without-time-zone', 'warning'], ['alter-column-type', 'warning']]);
    expect(report.errors).toBe(0);
  });

  it('judges down.sql as what runs after its migration: undoing its drops are warnings, other drops errors', async () => {
    const report = await lint('create table notes (id uuid primary key);\nalter table tasks add column note_id uuid;', { down: 'alter table tasks drop column note_id;\ndrop table notes;\ndrop table users;' });
    const down = report.findings.filter((finding) => finding.file === 'down.sql').map((finding) => [finding.rule, finding.severity, finding.line]);
    expect(down).toEqual([['drop-object', 'warning', 1], ['drop-object', 'warning', 2], ['drop-object', 'error', 3]]);
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
    const pendingBoth = await lintMigrations([{ migration: first, pending: true }, { migration: second, pending: true }]);
    expect(pendingBoth.findings.map((finding) => finding.rule)).toEqual([]);
    const appliedFirst = await lintMigrations([{ migration: first, pending: false }, { migration: second, pending: true }]);
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
      for (const step of (sql ?? '').split(/\n-- in (?:a later|the next) migration:\n/)) expect({ step, rules: await rulesOf(step) }).toEqual({ step, rules: [] });
    }
  });
});

describe('allow comments', () => {
  const unsafe = 'create index tasks_title_idx on tasks (title);';

  it('silence the rule for the next statement, with a reason, and stay in the report as allowed', async () => {
    const report = await lint(`-- CreateIndex\n-- todo-db-lint: allow index-without-concurrently -- tasks is empty until the launch\n${unsafe}\n${unsafe.replace('title_idx', 'title2_idx')}`);
    expect(report.findings.map((finding) => [finding.rule, finding.line, finding.allowed, finding.allowReason])).toEqual([
      ['index-without-concurrently', 3, true, 'tasks is empty until the launch'],
      ['index-without-concurrently', 4, false, null],
    ]);
    expect([report.errors, report.allowed]).toEqual([1, 1]);
  });

  it('without a reason do not apply and are an error themselves', async () => {
    const report = await lint(`-- todo-db-lint: allow index-without-concurrently\n${unsafe}`);
    expect(report.findings.map((finding) => [finding.rule, finding.line, finding.allowed])).toEqual([['allow-comment-invalid', 1, false], ['index-without-concurrently', 2, false]]);
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
});
