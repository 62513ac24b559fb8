import { describe, expect, it, vi } from 'vitest';
import { createMigrator } from '../src/index.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { migrationsFolder, query, tableMigration } from './helpers/migrations.js';

const MIGRATIONS = {
  '20990101000000_notes': tableMigration('notes'),
  '20990102000000_labels': tableMigration('labels'),
  '20990103000000_projects': tableMigration('projects'),
};

/** Everything written to stdout and stderr while fn runs: the library must print nothing. */
async function printedDuring<T>(fn: () => Promise<T>): Promise<{ value: T; printed: string }> {
  let printed = '';
  const capture = (chunk: unknown) => {
    printed += String(chunk);
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    return { value: await fn(), printed };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('createMigrator', () => {
  it('applies, reports and rolls back like the CLI, and prints nothing', async () => {
    const databaseUrl = await createTestDatabase('api');
    const migrationsDir = await migrationsFolder(MIGRATIONS);
    const migrator = createMigrator({ databaseUrl, migrationsDir });
    const cli = async (...args: string[]) =>
      (await runCli(['migrate', ...args, '--json', '--migrations-dir', migrationsDir], { env: { DATABASE_URL: databaseUrl } })).json();

    const { value: before, printed } = await printedDuring(async () => {
      const pending = await migrator.status();
      const dryRun = await migrator.up({ dryRun: true });
      const applied = await migrator.up({ to: '20990102000000_labels' });
      return { pending, dryRun, applied };
    });
    expect(printed).toBe('');
    expect(before.pending).toMatchObject({ upToDate: false, counts: { pending: 3, applied: 0 } });
    expect(before.dryRun.plan.map((step) => step.name)).toEqual(Object.keys(MIGRATIONS));
    expect(before.applied.applied.map((step) => step.name)).toEqual(['20990101000000_notes', '20990102000000_labels']);

    // The same report the CLI prints with --json, from the same history.
    expect((await cli('status')).data).toEqual(await migrator.status());
    expect((await cli('up')).data.applied.map((step: { name: string }) => step.name)).toEqual(['20990103000000_projects']);
    expect(await migrator.up()).toMatchObject({ applied: [], plan: [] });

    const down = await migrator.down({ steps: 2 });
    expect(down.rolledBack.map((step) => step.name)).toEqual(['20990103000000_projects', '20990102000000_labels']);
    expect(await query(databaseUrl, "select to_regclass('public.labels') as labels, to_regclass('public.notes') as notes")).toEqual([
      { labels: null, notes: 'notes' },
    ]);
    expect((await cli('status')).data).toEqual(await migrator.status());
    expect((await migrator.status()).counts).toMatchObject({ applied: 1, 'rolled-back': 2 });
  });

  it('applies each migration once when up() is called 10 times at once in one process', async () => {
    const databaseUrl = await createTestDatabase('api');
    const migrationsDir = await migrationsFolder(MIGRATIONS);
    const migrator = createMigrator({ databaseUrl, migrationsDir });
    const reports = await Promise.all(Array.from({ length: 10 }, () => migrator.up()));
    const applied = reports.flatMap((report) => report.applied.map((step) => step.name)).sort();
    expect(applied).toEqual(Object.keys(MIGRATIONS));
    const history = await query(databaseUrl, 'select migration_name, count(*)::int as n from _prisma_migrations group by 1 order by 1');
    expect(history).toEqual(Object.keys(MIGRATIONS).map((name) => ({ migration_name: name, n: 1 })));
  });

  it('fails as the CLI does, with a TodoDbError naming the problem', async () => {
    const migrator = createMigrator({ databaseUrl: await createTestDatabase('api'), migrationsDir: await migrationsFolder(MIGRATIONS) });
    await expect(migrator.up({ to: 'no_such_migration' })).rejects.toMatchObject({ code: 'MIGRATION_NOT_FOUND', kind: 'usage' });
    expect(() => createMigrator({ databaseUrl: 'mysql://localhost/todo' })).toThrow(expect.objectContaining({ kind: 'usage' }));
  });
});
