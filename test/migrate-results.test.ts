import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { migrationsFolder, tableMigration } from './helpers/migrations.js';

/** Kysely's result set: a run says what it did, what failed and what it did not run; a failed one in its error's data. */
describe('results on failure', () => {
  it('migrate up lists the applied, failed and not-run migrations, in --json data and in the text', async () => {
    const dir = await migrationsFolder({
      '20260101000000_a': tableMigration('a'),
      '20260102000000_broken': { up: 'create table b (id int);\nselect 1/0;\n', down: 'drop table b;\n' },
      '20260103000000_c': tableMigration('c'),
    });
    const url = await createTestDatabase('results');
    const json = await runCli(['migrate', 'up', '--migrations-dir', dir, '--json'], { env: { DATABASE_URL: url } });
    expect(json.code).toBe(1);
    expect(json.json()).toMatchObject({
      ok: false,
      data: { verb: 'applied', done: ['20260101000000_a'], failed: '20260102000000_broken', notRun: ['20260103000000_c'] },
      error: { code: 'MIGRATION_FAILED' },
    });
    const text = await runCli(['migrate', 'up', '--migrations-dir', dir], { env: { DATABASE_URL: url } });
    expect(text.code).toBe(1);
    // The first one is applied now, so this run starts at the broken one.
    expect(text.stderr).toMatch(/Applied before the failure: none\n\s+Failed: 20260102000000_broken\n\s+Not run: 20260103000000_c/);
  });

  it('migrate down lists the rolled-back, failed and not-run migrations', async () => {
    const dir = await migrationsFolder({
      '20260101000000_a': tableMigration('a'),
      '20260102000000_b': { up: 'create table b (id int);\n', down: 'drop table no_such_table;\n' },
      '20260103000000_c': tableMigration('c'),
    });
    const url = await createTestDatabase('resultsdown');
    expect((await runCli(['migrate', 'up', '--migrations-dir', dir], { env: { DATABASE_URL: url } })).code).toBe(0);
    const result = await runCli(['migrate', 'down', '--steps', '3', '--migrations-dir', dir, '--json'], { env: { DATABASE_URL: url } });
    expect(result.code).toBe(1);
    expect(result.json().data).toEqual({ verb: 'rolled back', done: ['20260103000000_c'], failed: '20260102000000_b', notRun: ['20260101000000_a'] });
  });
});

describe('results on success', () => {
  it('migrate up, a dry run and migrate down carry the same result set a failure carries: all done, none failed', async () => {
    const names = ['20260101000000_a', '20260102000000_b'];
    const dir = await migrationsFolder({ [names[0] as string]: tableMigration('a'), [names[1] as string]: tableMigration('b') });
    const url = await createTestDatabase('resultsok');
    const run = async (...args: string[]) =>
      (await runCli(['migrate', ...args, '--migrations-dir', dir, '--json'], { env: { DATABASE_URL: url } })).json().data.results;
    expect(await run('up', '--dry-run')).toEqual({ verb: 'applied', done: [], failed: null, notRun: names });
    expect(await run('up')).toEqual({ verb: 'applied', done: names, failed: null, notRun: [] });
    expect(await run('up')).toEqual({ verb: 'applied', done: [], failed: null, notRun: [] });
    expect(await run('down', '--steps', '2')).toEqual({ verb: 'rolled back', done: [...names].reverse(), failed: null, notRun: [] });
  });
});
