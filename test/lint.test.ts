import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultMigrationsDir } from '../src/config/package-root.js';
import { lintMigrations } from '../src/lint/lint.js';
import { LOCK_LEVELS } from '../src/lint/lock-levels.js';
import { PLAN_STEPS_LISTED } from '../src/lint/plan-steps.js';
import type { Migration } from '../src/migrations/folder.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { addMigration, migrateProject, migrationsFolder, query } from './helpers/migrations.js';

/**
 * The lint against a real server: the project's schema with 100 000 tasks (bench/many-tasks.sql), and a
 * migrations folder that is the project's plus the migration under test, pending.
 */
let url = '';
beforeAll(async () => {
  url = await createTestDatabase('lint');
  await migrateProject(url);
  await query(url, await readFile(new URL('../bench/many-tasks.sql', import.meta.url), 'utf8'));
}, 120_000);

async function folderWith(sql: string, down?: string): Promise<string> {
  const dir = await migrationsFolder();
  for (const name of ['20261123000000_init', '20261203000000_better_auth_users'])
    await cp(join(defaultMigrationsDir(), name), join(dir, name), { recursive: true });
  await addMigration(dir, '20990101000000_change', { up: sql, down });
  return dir;
}

const lint = (dir: string, ...args: string[]) => runCli(['migrate', 'lint', '--migrations-dir', dir, '--json', ...args], { env: { DATABASE_URL: url } });

async function lintJson(sql: string, ...args: string[]) {
  const result = await lint(await folderWith(sql), ...args);
  return { code: result.code, data: result.json().data, stderr: result.stderr };
}

const errors = (data: any) => data.findings.filter((finding: any) => finding.severity === 'error' && !finding.allowed);

describe('migrate lint with the live database', () => {
  it('makes CREATE INDEX without CONCURRENTLY on 100 000 tasks an error that says the row count, and plans its SHARE lock', async () => {
    const { code, data } = await lintJson('create index tasks_title_idx on tasks (title);\n');
    expect(code).toBe(1);
    expect(data.offline).toBe(false);
    expect(data.selection).toBe('pending');
    expect(data.migrations).toEqual(['20990101000000_change']);
    expect(errors(data)).toEqual([
      expect.objectContaining({ rule: 'index-without-concurrently', table: expect.objectContaining({ name: 'tasks', rows: 100_000 }) }),
    ]);
    expect(errors(data)[0].message).toMatch(/tasks has about 100,000 rows \([\d.]+ MB\), above --max-blocking-rows 10000/);
    expect(data.plan).toEqual([
      expect.objectContaining({
        statement: 'create index tasks_title_idx on tasks (title)',
        locks: [
          expect.objectContaining({ table: 'tasks', lock: 'SHARE', effect: 'scan', blocksWrites: true, blocksReads: false, rows: 100_000, newTable: false }),
        ],
      }),
    ]);
  });

  it('makes ALTER COLUMN title TYPE varchar(100) an error: a rewrite of 100 000 rows under ACCESS EXCLUSIVE', async () => {
    const { code, data } = await lintJson('alter table tasks alter column title type varchar(100);\n');
    expect(code).toBe(1);
    expect(errors(data).map((finding: any) => finding.rule)).toEqual(['alter-column-type']);
    expect(errors(data)[0].message).toContain('character varying(200) to varchar(100) rewrites every row');
    expect(errors(data)[0].message).toContain('about 100,000 rows');
    expect(data.plan[0].locks.filter((lock: any) => lock.kind === 'table')).toEqual([
      expect.objectContaining({ table: 'tasks', lock: 'ACCESS EXCLUSIVE', effect: 'rewrite', blocksReads: true }),
    ]);
    // Every index is rebuilt with the table.
    const indexes = data.plan[0].locks.filter((lock: any) => lock.kind === 'index');
    expect(indexes.length).toBeGreaterThan(0);
    expect(indexes.every((lock: any) => lock.of === 'tasks' && lock.lock === 'ACCESS EXCLUSIVE' && lock.effect === 'rewrite')).toBe(true);
  });

  it('plans ADD COLUMN ... REFERENCES as no scan of 100 000 tasks (the new column is NULL) with SHARE ROW EXCLUSIVE on the referenced table', async () => {
    const { code, data } = await lintJson('alter table tasks add column reviewer_id text references "user" (id);\n');
    expect([code, errors(data)]).toEqual([0, []]);
    expect(data.plan[0].locks.map((lock: any) => [lock.table, lock.lock, lock.effect])).toEqual([
      ['tasks', 'ACCESS EXCLUSIVE', 'none'],
      ['user', 'SHARE ROW EXCLUSIVE', 'none'],
    ]);
  });

  it("plans REINDEX INDEX as ACCESS EXCLUSIVE on the index, so the table's reads wait too", async () => {
    const { data } = await lintJson('reindex index tasks_status_idx;\n');
    expect(data.plan[0].locks.map((lock: any) => [lock.kind, lock.table, lock.lock, lock.blocksReads])).toEqual([
      ['table', 'tasks', 'SHARE', false],
      ['index', 'tasks_status_idx', 'ACCESS EXCLUSIVE', true],
    ]);
    const [server] = await query(url, "select current_setting('server_version_num')::int / 10000 as version");
    expect(data.planFor).toEqual({ version: server.version, live: true });
  });

  it('reports neither on a table created in the same migration', async () => {
    const { code, data } = await lintJson(
      'create table notes (id uuid primary key, title varchar(200) not null);\ncreate index notes_title_idx on notes (title);\nalter table notes alter column title type varchar(100);\n',
    );
    expect(errors(data)).toEqual([]);
    expect(code).toBe(0);
    expect(data.plan.every((step: any) => step.locks.every((lock: any) => lock.newTable))).toBe(true);
  });

  it('does not report a binary-coercible type change with no CHECK on the column: neither rewrite nor scan', async () => {
    const { code, data } = await lintJson('alter table "user" alter column name type varchar;\n');
    expect(data.findings).toEqual([]);
    expect(code).toBe(0);
    expect(data.plan[0].locks).toEqual([expect.objectContaining({ table: 'user', lock: 'ACCESS EXCLUSIVE', effect: 'none' })]);
  });

  it('says a rewrite-free type change still scans when a CHECK uses the column, and makes it an error on 100 000 rows', async () => {
    const { code, data } = await lintJson('alter table tasks alter column description type varchar(2000);\n');
    expect(code).toBe(1);
    expect(data.plan[0].locks[0]).toMatchObject({ table: 'tasks', effect: 'scan', because: expect.stringContaining('tasks_description_length_check') });
    expect(errors(data)).toEqual([
      expect.objectContaining({
        rule: 'alter-column-type',
        message: expect.stringMatching(/without a rewrite, but tasks_description_length_check uses the column.*about 100,000 rows/),
      }),
    ]);
    // Below --max-blocking-rows the scan is only a warning.
    const small = await lintJson('alter table tasks alter column description type varchar(2000);\n', '--max-blocking-rows', '1000000');
    expect(small.code).toBe(0);
    expect(small.data.findings.map((finding: any) => [finding.rule, finding.severity])).toEqual([['alter-column-type', 'warning']]);
  });

  it('makes a scan that no static rule forbids an error on a large table when an earlier statement of the transaction holds a blocking lock (large-table-lock)', async () => {
    const validate = 'alter table tasks validate constraint tasks_title_length_check;\n';
    const alone = await lintJson(validate);
    expect([alone.code, alone.data.findings]).toEqual([0, []]);
    expect(alone.data.plan[0].locks[0]).toMatchObject({ lock: 'SHARE UPDATE EXCLUSIVE', heldFromEarlier: null, effect: 'scan', blocksWrites: false });

    const { code, data } = await lintJson(`alter table tasks add column rank int;\n${validate}`);
    expect(code).toBe(1);
    expect(data.plan[1].locks[0]).toMatchObject({
      lock: 'SHARE UPDATE EXCLUSIVE',
      heldFromEarlier: 'ACCESS EXCLUSIVE',
      effect: 'scan',
      blocksWrites: true,
      blocksReads: true,
    });
    expect(errors(data)).toEqual([
      expect.objectContaining({
        rule: 'large-table-lock',
        line: 2,
        message: expect.stringMatching(
          /^scans tasks \(checks every row\) under ACCESS EXCLUSIVE, taken earlier in this transaction; tasks has about 100,000 rows/,
        ),
      }),
    ]);

    // Outside a transaction each statement's lock ends with it.
    const apart = await lintJson(`-- todo-db: no-transaction\nalter table tasks add column rank int;\n${validate}`);
    expect([apart.code, apart.data.findings]).toEqual([0, []]);
    // An UPDATE of every row takes only ROW EXCLUSIVE, but keeps every row locked until commit: writes wait.
    const update = await lintJson('update tasks set title = btrim(title);\n');
    expect(update.data.plan[0].locks[0]).toMatchObject({ lock: 'ROW EXCLUSIVE', effect: 'scan', blocksWrites: true, blocksReads: false });
    expect([update.code, errors(update.data).map((finding: any) => [finding.rule, finding.table?.rows])]).toEqual([1, [['update-without-where', 100_000]]]);
  });

  it('knows from pg_proc that a default calls a volatile function of the database (a rewrite), and a stable one not', async () => {
    await query(
      url,
      "create or replace function lint_next_rank() returns int language sql volatile as 'select 1'; create or replace function lint_default_rank() returns int language sql stable as 'select 1'",
    );
    const volatile = await lintJson('alter table tasks add column rank int default lint_next_rank();\n');
    expect(errors(volatile.data)).toEqual([
      expect.objectContaining({ rule: 'add-column-rewrite', message: expect.stringContaining('the default lint_next_rank() is volatile') }),
    ]);
    expect(volatile.data.plan[0].locks[0]).toMatchObject({ effect: 'rewrite' });
    const stable = await lintJson('alter table tasks add column rank int default lint_default_rank();\n');
    expect(stable.data.findings).toEqual([]);
    expect(stable.data.plan[0].locks[0]).toMatchObject({ lock: 'ACCESS EXCLUSIVE', effect: 'none' });
  });

  it('lets an allow comment with a reason silence a finding, still listed in --json as allowed', async () => {
    const sql =
      '-- todo-db-lint: allow index-without-concurrently -- the tasks page is in maintenance mode during this release\ncreate index tasks_title_idx on tasks (title);\n';
    const { code, data } = await lintJson(sql);
    expect(code).toBe(0);
    expect(data.findings).toEqual([
      expect.objectContaining({
        rule: 'index-without-concurrently',
        allowed: true,
        allowReason: 'the tasks page is in maintenance mode during this release',
        line: 2,
      }),
    ]);
    expect([data.errors, data.allowed]).toEqual([0, 1]);
    const unreasoned = await lintJson('-- todo-db-lint: allow index-without-concurrently\ncreate index tasks_title_idx on tasks (title);\n');
    expect(unreasoned.code).toBe(1);
    expect(errors(unreasoned.data).map((finding: any) => finding.rule)).toEqual(['allow-comment-invalid', 'index-without-concurrently']);
  });

  it('prints each finding with file:line:column, the statement, why and the fix; --offline needs no database', async () => {
    const dir = await folderWith('create index tasks_title_idx on tasks (title);\n');
    const human = await runCli(['migrate', 'lint', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`${join(dir, '20990101000000_change', 'migration.sql')}:1:1  index-without-concurrently  error`);
    expect(human.stdout).toContain('  create index tasks_title_idx on tasks (title)');
    expect(human.stdout).toMatch(/fix: Use CREATE INDEX CONCURRENTLY/);
    expect(human.stdout).toMatch(/SHARE on tasks: blocks writes; scans the table \(builds the index from every row\); ~100,000 rows/);
    expect(human.stdout).toMatch(/error: 1 error, 0 warnings in the pending migrations \(1 migration\)$/m);

    const offline = await runCli(['migrate', 'lint', '--offline', '--json', '--migrations-dir', dir], {
      env: { DATABASE_URL: 'postgresql://nobody:secret@127.0.0.1:1/none' },
    });
    expect(offline.code).toBe(1);
    const data = offline.json().data;
    expect([data.offline, data.selection, data.migrations]).toEqual([
      true,
      'all',
      ['20261123000000_init', '20261203000000_better_auth_users', '20990101000000_change'],
    ]);
    expect(data.planFor).toEqual({ version: 18, live: false });
    expect(errors(data)).toEqual([expect.objectContaining({ rule: 'index-without-concurrently', table: null })]);
  });

  it("lints the project's own migrations clean", async () => {
    const result = await runCli(['migrate', 'lint', '--all', '--json'], { env: { DATABASE_URL: url } });
    expect(result.code).toBe(0);
    // The Better Auth migration's DO block is code the lint cannot plan: a warning, never silence.
    const open = result.json().data.findings.filter((finding: any) => !finding.allowed);
    expect(open.map((finding: any) => [finding.migration, finding.rule, finding.severity, finding.statement])).toEqual([
      ['20261203000000_better_auth_users', 'unknown-lock-plan', 'warning', 'DO $$'],
    ]);
  });
});

describe('the lock plan', () => {
  const STATEMENTS = [
    'create index tasks_title_idx on tasks (title)',
    'alter table tasks add column rank int',
    'alter table tasks alter column title set statistics 200',
    'alter table tasks validate constraint tasks_title_length_check',
    'alter table tasks add constraint tasks_owner_fkey foreign key (user_id) references "user" (id) not valid',
    'create trigger tasks_noop before update on tasks for each row execute function todo_set_updated_at()',
    'alter table tasks enable trigger tasks_set_updated_at',
    'alter table tasks alter column description type varchar(2000)',
    'alter table tasks set (fillfactor = 90)',
    'alter table tasks cluster on tasks_pkey',
    'alter table tasks rename column title to name',
    'drop index tasks_status_idx',
    'reindex index tasks_status_idx',
    "update tasks set title = title where title = ''",
    'truncate tasks',
  ];

  /** The strongest lock this session holds on each app table, as PostgreSQL's pg_locks names it. */
  async function heldLocks(client: pg.Client, sql: string): Promise<Record<string, string>> {
    await client.query('begin');
    try {
      await client.query(sql);
      const { rows } = await client.query<{ relname: string; mode: string }>(
        "select c.relname, l.mode from pg_locks l join pg_class c on c.oid = l.relation where l.pid = pg_backend_pid() and l.granted and c.relname in ('tasks', 'user')",
      );
      const level = (mode: string) =>
        mode
          .replace(/Lock$/, '')
          .replace(/([a-z])([A-Z])/g, '$1 $2')
          .toUpperCase() as (typeof LOCK_LEVELS)[number];
      const strongest: Record<string, string> = {};
      for (const { relname, mode } of rows)
        if (!strongest[relname] || LOCK_LEVELS.indexOf(level(mode)) > LOCK_LEVELS.indexOf(strongest[relname] as never)) strongest[relname] = level(mode);
      return strongest;
    } finally {
      await client.query('rollback');
    }
  }

  it('names the lock PostgreSQL really takes, on every table it takes it on (checked in pg_locks)', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const sql of STATEMENTS) {
        const migration: Migration = {
          name: '20990101000000_lock',
          path: '/m/20990101000000_lock/migration.sql',
          sql: `${sql};\n`,
          checksum: '',
          readDown: () => undefined,
          transactional: true,
        };
        const report = await lintMigrations([{ migration, pending: true }], { db: client });
        // Tables only: test/lock-plans.test.ts proves the rest (indexes, rewrites, scans, waits).
        const planned = Object.fromEntries(
          report.plan.flatMap((step) => step.locks.filter((lock) => lock.kind === 'table').map((lock) => [lock.table, lock.lock])),
        );
        expect({ sql, tables: Object.keys(planned) }).toEqual({ sql, tables: sql.includes('foreign key') ? ['tasks', 'user'] : ['tasks'] });
        const held = await heldLocks(client, sql);
        // A statement also takes weaker locks (ACCESS SHARE on a referenced table to read it): only the plan's tables count.
        expect({ sql, locks: Object.fromEntries(Object.keys(planned).map((table) => [table, held[table]])) }).toEqual({ sql, locks: planned });
      }
    } finally {
      await client.end();
    }
  }, 60_000);

  it(`lists a file's first ${PLAN_STEPS_LISTED} statements one by one, then counts the statements with the same locks as one listed after them`, async () => {
    const insert = (i: number) => `insert into tasks (user_id, title) values ('nobody', 'task ${i}')`;
    const statements = [...Array.from({ length: PLAN_STEPS_LISTED + 200 }, (_, i) => insert(i)), 'create index tasks_title_idx on tasks (title)', insert(-1)];
    const dir = await folderWith(`${statements.join(';\n')};\n`);
    const { data } = (await lint(dir)).json();
    const file = '20990101000000_change/migration.sql';
    // The last INSERT runs under the index's SHARE lock, held since: other locks, an entry of its own.
    expect(data.plan).toHaveLength(PLAN_STEPS_LISTED + 3);
    expect(data.plan.slice(0, PLAN_STEPS_LISTED).every((step: any) => step.sameLocks === undefined)).toBe(true);
    const [inserts, index, last] = data.plan.slice(PLAN_STEPS_LISTED);
    expect(inserts).toMatchObject({
      location: expect.stringContaining(`${file}:${PLAN_STEPS_LISTED + 1}:1`),
      statement: insert(PLAN_STEPS_LISTED),
      sameLocks: { more: 199, lastLocation: expect.stringContaining(`${file}:${PLAN_STEPS_LISTED + 200}:1`) },
    });
    expect(index).toMatchObject({ statement: 'create index tasks_title_idx on tasks (title)', locks: [expect.objectContaining({ lock: 'SHARE' })] });
    expect(index.sameLocks).toBeUndefined();
    expect(last).toMatchObject({ statement: insert(-1), locks: [expect.objectContaining({ table: 'tasks', heldFromEarlier: expect.any(String) })] });
    expect(last.sameLocks).toBeUndefined();

    const text = await runCli(['migrate', 'lint', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    expect(text.stdout).toMatch(new RegExp(`and 199 more statements with these same locks, the last at \\S*${file}:${PLAN_STEPS_LISTED + 200}:1`));
  });
});

describe('migrate up and the lint', () => {
  const sql = 'create index tasks_title_idx on tasks (title);\n';
  const indexExists = async () => (await query(url, "select to_regclass('public.tasks_title_idx') as index"))[0].index !== null;

  it('refuses lint errors in production before anything runs (LINT_FAILED, exit 1) unless --allow-lint-errors', async () => {
    const dir = await folderWith(sql, 'drop index tasks_title_idx;\n');
    const refused = await runCli(['migrate', 'up', '--migrations-dir', dir], { env: { DATABASE_URL: url, ENVIRONMENT: 'production' } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[LINT_FAILED]');
    expect(refused.stderr).toMatch(/migration\.sql:1:1 {2}index-without-concurrently: CREATE INDEX on tasks without CONCURRENTLY.*100,000 rows/);
    expect(await indexExists()).toBe(false);

    const accepted = await runCli(['migrate', 'up', '--allow-lint-errors', '--migrations-dir', dir], { env: { DATABASE_URL: url, ENVIRONMENT: 'production' } });
    expect(accepted.code).toBe(0);
    expect(accepted.stderr).toMatch(
      /warning: The lint found 1 error and 0 warnings in 1 of the 1 pending migration \(index-without-concurrently \(error\) 1\); todo-db migrate lint 20990101000000_change lists them\./,
    );
    expect(await indexExists()).toBe(true);
    await runCli(['migrate', 'down', '--yes', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    expect(await indexExists()).toBe(false);
  });

  it('warns and goes on in development; --dry-run prints the lock plan before the SQL', async () => {
    const dir = await folderWith(sql, 'drop index tasks_title_idx;\n');
    const dryRun = await runCli(['migrate', 'up', '--dry-run', '--migrations-dir', dir], { env: { DATABASE_URL: url, ENVIRONMENT: 'production' } });
    expect(dryRun.code).toBe(0);
    const planAt = dryRun.stdout.indexOf('SHARE on tasks: blocks writes');
    expect(planAt).toBeGreaterThan(-1);
    expect(planAt).toBeLessThan(dryRun.stdout.indexOf('-- 20990101000000_change'));
    expect(dryRun.stdout.indexOf('-- 20990101000000_change')).toBeLessThan(dryRun.stdout.lastIndexOf(sql.trim()));

    const applied = await runCli(['migrate', 'up', '--json', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    expect(applied.code).toBe(0);
    expect(applied.stderr).toMatch(/warning: The lint found 1 error .*index-without-concurrently \(error\) 1/);
    expect(applied.json().data.lint.findings.map((finding: any) => finding.rule)).toEqual(['index-without-concurrently']);
    expect(await indexExists()).toBe(true);
    await runCli(['migrate', 'down', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
  });
});
