import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { adminQuery, createTestDatabase } from './helpers/database.js';
import { EXTERNAL_SQL, EXTERNAL_TABLES, EXTERNAL_TABLES_SETTING } from './helpers/external-tool.js';
import { migrateProject, query } from './helpers/migrations.js';

const inspect = (url: string, ...args: string[]) => runCli(['inspect-indexes', ...args], { env: { DATABASE_URL: url } });

/** A migrated database of its own for each test, so one test's hand-made index never shows in another's. */
async function migratedDatabase(): Promise<string> {
  const url = await createTestDatabase('indexes');
  await migrateProject(url);
  return url;
}

const EXPECTED = [
  ['account', 'account_pkey', 'btree', ['id']],
  ['account', 'account_userId_idx', 'btree', ['"userId"']],
  ['jwks', 'jwks_pkey', 'btree', ['id']],
  ['session', 'session_pkey', 'btree', ['id']],
  ['session', 'session_token_key', 'btree', ['token']],
  ['session', 'session_userId_idx', 'btree', ['"userId"']],
  ['tasks', 'tasks_created_at_idx', 'btree', ['created_at']],
  ['tasks', 'tasks_due_date_idx', 'btree', ['due_date']],
  ['tasks', 'tasks_pkey', 'btree', ['id']],
  ['tasks', 'tasks_priority_idx', 'btree', ['priority']],
  ['tasks', 'tasks_status_idx', 'btree', ['status']],
  ['tasks', 'tasks_tags_idx', 'gin', ['tags']],
  ['tasks', 'tasks_user_id_created_at_idx', 'btree', ['user_id', 'created_at DESC']],
  ['tasks', 'tasks_user_id_status_idx', 'btree', ['user_id', 'status']],
  ['user', 'user_email_key', 'btree', ['email']],
  ['user', 'user_pkey', 'btree', ['id']],
  ['verification', 'verification_identifier_idx', 'btree', ['identifier']],
  ['verification', 'verification_pkey', 'btree', ['id']],
] as const;

describe('inspect-indexes', () => {
  it('lists every expected index with its method and order on a freshly migrated database, and exits 0', async () => {
    const url = await migratedDatabase();
    const result = await inspect(url, '--json');
    expect(result.code).toBe(0);
    const data = result.json().data;
    const listed = data.indexes.map((index: any) => [index.table, index.name, index.method, index.columns]);
    expect(listed).toEqual(EXPECTED);
    expect(data.indexes.every((index: any) => index.valid && index.ready && index.sizeBytes > 0 && index.scans === 0)).toBe(true);
    expect(data.comparison.expected).toHaveLength(EXPECTED.length);
    // No finding on the project's own schema but unused indexes: (user_id) alone, redundant beside the two it
    // leads, is gone.
    expect(data.findings.filter((finding: any) => finding.kind !== 'unused')).toEqual([]);
    // Zero scans is worth knowing, but never about an index that enforces uniqueness.
    expect(data.findings.map((finding: any) => finding.name)).not.toContain('user_email_key');

    const human = await inspect(url);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/tasks_tags_idx\s+tags\s+gin/);
    expect(human.stdout).toMatch(/tasks_user_id_created_at_idx\s+user_id, created_at DESC\s+btree/);
    expect(human.stdout).toMatch(/user_email_key\s+email\s+btree\s+unique/);
    expect(human.stdout).toMatch(/account_userId_idx\s+"userId"\s+btree/);
  });

  it('exits 1 when an expected index is missing, and gives the CREATE INDEX that restores it', async () => {
    const url = await migratedDatabase();
    await query(url, 'drop index tasks_status_idx');
    const result = await inspect(url);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('missing: tasks_status_idx is expected by the migrations but absent.');
    expect(result.stdout).toContain('fix: CREATE INDEX tasks_status_idx ON public.tasks USING btree (status);');
    expect(result.stdout).toContain('error: 17 indexes on account, jwks, session, tasks, user, verification: 1 missing, 0 invalid');

    const json = await inspect(url, '--json');
    expect(json.json()).toMatchObject({ ok: false, status_code: 503, error: { code: 'INDEXES_MISSING_OR_INVALID' } });
    expect(json.json().data.findings[0]).toEqual({
      kind: 'missing',
      severity: 'error',
      table: 'tasks',
      name: 'tasks_status_idx',
      reason: 'tasks_status_idx is expected by the migrations but absent.',
      fix: 'CREATE INDEX tasks_status_idx ON public.tasks USING btree (status);',
    });
  });

  it('reports an index added by hand as unexpected, and still exits 0', async () => {
    const url = await migratedDatabase();
    await query(url, 'create index tasks_title_idx on tasks (lower(title))');
    const result = await inspect(url, '--json');
    expect(result.code).toBe(0);
    const data = result.json().data;
    expect(data.indexes.find((index: any) => index.name === 'tasks_title_idx')).toMatchObject({ columns: ['lower(title::text)'], method: 'btree' });
    expect(data.findings).toContainEqual(expect.objectContaining({ kind: 'unexpected', severity: 'info', name: 'tasks_title_idx' }));
  });

  it('flags a duplicate index and names both', async () => {
    const url = await migratedDatabase();
    await query(url, 'create index tasks_status_dup_idx on tasks (status)');
    const result = await inspect(url);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'duplicate: tasks_status_idx and tasks_status_dup_idx index the same columns of tasks (status) with btree; tasks_status_dup_idx is redundant.',
    );
    expect(result.stdout).toContain('fix: DROP INDEX CONCURRENTLY public."tasks_status_dup_idx";');
  });

  it('reports an index that leads others on the same table as redundant, naming the covering indexes', async () => {
    const url = await migratedDatabase();
    // What the migrations made before the app's users were Better Auth's: (user_id) alone.
    await query(url, 'create index tasks_user_id_idx on tasks (user_id)');
    const result = await inspect(url);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'redundant: tasks_user_id_idx (user_id) is a leading prefix of tasks_user_id_created_at_idx (user_id, created_at DESC) and tasks_user_id_status_idx (user_id, status) on tasks with btree',
    );
    expect(result.stdout).toMatch(/0 duplicate, 1 redundant/);

    // A different predicate or method is a different index, and a unique index enforces a rule.
    await query(
      url,
      `create index tasks_open_idx on tasks (status) where status = 'pending'; create index tasks_status_priority_idx on tasks (status, priority); create unique index user_email_name_idx on "user" (email, name)`,
    );
    const json = await inspect(url, '--json');
    const redundant = json.json().data.findings.filter((finding: any) => finding.kind === 'redundant');
    expect(redundant.map((finding: any) => finding.name)).toEqual(['tasks_status_idx', 'tasks_user_id_idx']);
    expect(redundant[0]).toMatchObject({
      severity: 'info',
      reason: expect.stringContaining('leading prefix of tasks_status_priority_idx (status, priority)'),
      fix: 'DROP INDEX CONCURRENTLY public."tasks_status_idx";',
    });
  });

  it("lists external tables' indexes with --all-tables, quoted as PostgreSQL writes them, and leaves them out of the comparison", async () => {
    const url = await migratedDatabase();
    await query(url, EXTERNAL_SQL);
    const external = (...args: string[]) =>
      runCli(['inspect-indexes', ...args], { env: { DATABASE_URL: url, TODO_DB_EXTERNAL_TABLES: EXTERNAL_TABLES_SETTING } });
    const result = await external('--all-tables', '--json');
    expect(result.code, result.stderr).toBe(0);
    const data = result.json().data;
    expect(data.leftOut).toEqual(EXTERNAL_TABLES);
    expect(data.indexes.find((index: any) => index.name === 'member_organizationId_idx')).toMatchObject({
      table: 'member',
      columns: ['"organizationId"'],
      method: 'btree',
    });
    expect(data.indexes.find((index: any) => index.name === 'organization_slug_key')).toMatchObject({ table: 'organization', columns: ['slug'], unique: true });
    expect(data.findings.filter((finding: any) => EXTERNAL_TABLES.includes(finding.table))).toEqual([]);

    const human = await external('--all-tables');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/member_organizationId_idx\s+"organizationId"\s+btree/);
    expect(human.stdout).toContain(
      `3 tables left out, managed by other tools (externalTables): ${EXTERNAL_TABLES.join(', ')}: their indexes are listed, not compared.`,
    );

    // None are external by default: they are judged like any table; a foreign key on a quoted column without an index is named.
    await query(url, 'drop index "member_organizationId_idx"');
    const judged = await inspect(url, '--all-tables', '--json');
    expect(judged.code, judged.stderr).toBe(0);
    expect(judged.json().data.findings).toContainEqual(expect.objectContaining({ kind: 'unexpected', name: 'audit_log_at_idx' }));
    expect(judged.json().data.findings).toContainEqual(
      expect.objectContaining({
        kind: 'unindexed-foreign-key',
        name: 'member_organizationId_fkey',
        fix: 'CREATE INDEX CONCURRENTLY "member_organizationId_idx" ON public."member" ("organizationId");',
      }),
    );
  });

  it('flags an index left invalid by a failed CREATE UNIQUE INDEX CONCURRENTLY, and exits 1', async () => {
    const url = await migratedDatabase();
    await query(url, `insert into "user" (id, email, name) values ('a', 'a@example.com', 'A'), ('b', 'b@example.com', 'B')`);
    await query(url, `insert into tasks (user_id, title) values ('a', 'Same'), ('b', 'Same')`);
    await expect(query(url, 'create unique index concurrently tasks_title_unique on tasks (title)')).rejects.toThrow(/could not create unique index/);

    const result = await inspect(url, '--json');
    expect(result.code).toBe(1);
    const data = result.json().data;
    expect(data.indexes.find((index: any) => index.name === 'tasks_title_unique')).toMatchObject({ valid: false, unique: true });
    expect(data.findings[0]).toMatchObject({
      kind: 'invalid',
      severity: 'error',
      name: 'tasks_title_unique',
      fix: 'DROP INDEX CONCURRENTLY public."tasks_title_unique";',
    });
    expect(data.findings[0].reason).toContain('remove the duplicates first');
    expect(result.json().error.message).toBe('Indexes missing or invalid: invalid tasks_title_unique.');
  });

  it('treats a --table value as a name, never as SQL: an unknown table is a usage error naming it', async () => {
    const url = await migratedDatabase();
    const result = await inspect(url, '--table', 'tasks; drop table "user"');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('No table named "tasks; drop table \\"user\\"" in schema public');
    expect(result.stderr).toContain('[TABLE_NOT_FOUND]');
    expect(await query(url, `select to_regclass('public."user"')::text as users`)).toEqual([{ users: '"user"' }]);

    const users = await inspect(url, '--table', 'user', '--json');
    expect(users.code).toBe(0);
    expect(users.json().data.indexes.map((index: any) => index.name)).toEqual(['user_email_key', 'user_pkey']);
    // Only user's indexes are expected, so tasks' are not reported missing.
    expect(users.json().data.comparison.expected).toEqual(['user_email_key', 'user_pkey']);
  });

  it('with --explain, shows which index each canonical query uses on 100 000 tasks', async () => {
    const url = await migratedDatabase();
    await query(url, await readFile(new URL('../bench/many-tasks.sql', import.meta.url), 'utf8'));
    const result = await inspect(url, '--explain', '--json');
    expect(result.code).toBe(0);
    const plans = Object.fromEntries(result.json().data.explain.map((plan: any) => [plan.id, plan]));
    expect(Object.values(plans).every((plan: any) => plan.parameterSource === 'database' && plan.seqScans.length === 0 && plan.totalCost > 0)).toBe(true);
    expect(plans['tasks-newest-first'].indexes).toEqual(['tasks_user_id_created_at_idx']);
    expect(plans['tasks-by-status'].indexes).toEqual(['tasks_user_id_status_idx']);
    expect(plans['tasks-by-status'].parameters[1]).toBe('completed');
    // The GIN index; by ANALYZE's random sample the planner may also AND it with another index's bitmap.
    expect(plans['tasks-with-tag'].indexes).toContain('tasks_tags_idx');
    expect(plans['tasks-with-tag'].parameters[1]).toBe('urgent');
    expect(plans['tasks-due-soon'].indexes).toContain('tasks_due_date_idx');
    expect(plans['user-by-email'].indexes).toEqual(['user_email_key']);
    expect(plans['accounts-of-user'].indexes).toEqual(['account_userId_idx']);
    expect(plans['session-by-token'].indexes).toEqual(['session_token_key']);
    expect(plans['tasks-newest-first'].actualTimeMs).toBeNull();

    const analyzed = await inspect(url, '--explain', '--analyze');
    expect(analyzed.code).toBe(0);
    expect(analyzed.stdout).toMatch(/a user's tasks, newest first, first page of 50\s+tasks_user_id_created_at_idx\s+[\d.]+\s+[\d.]+ ms/);
    expect(analyzed.stdout).toMatch(/a user by email \(Better Auth signInEmail\)\s+user_email_key/);
  });

  describe('without CREATEDB', () => {
    const role = `indexes_${randomBytes(4).toString('hex')}`;
    let database = '';
    afterAll(async () => {
      // The role owns the database, so the database goes first.
      if (database) await adminQuery(`drop database if exists "${database}" with (force)`);
      await adminQuery(`drop role if exists "${role}"`);
    });

    it('warns that there is no comparison and still lists the indexes, exit 0', async () => {
      const url = new URL(await createTestDatabase('indexes'));
      database = url.pathname.slice(1);
      await adminQuery(`create role "${role}" login nocreatedb password 'inspect-pw'`);
      await adminQuery(`alter database "${database}" owner to "${role}"`);
      url.username = role;
      url.password = 'inspect-pw';
      await migrateProject(url.toString());

      const result = await inspect(url.toString(), '--json');
      expect(result.code).toBe(0);
      expect(result.stderr).toContain('Not compared with the migrations: Could not create a temporary shadow database');
      expect(result.stderr).toContain('--shadow-database-url');
      const data = result.json().data;
      expect(data.comparison).toBeNull();
      expect(data.comparisonUnavailable).toMatchObject({ code: 'SHADOW_DATABASE_UNAVAILABLE' });
      expect(data.indexes.map((index: any) => index.name)).toEqual(EXPECTED.map(([, name]) => name));

      const human = await inspect(url.toString());
      expect(human.code).toBe(0);
      expect(human.stdout).toContain('Not compared with the migrations (no shadow database); only validity was checked');
    });
  });
});
