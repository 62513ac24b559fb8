import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMigration } from '../src/drafts/create.js';

const NOW = new Date('2026-12-02T01:00:00Z');

async function folderWith(...names: string[]): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'todo-db-create-')), 'migrations');
  for (const name of names) await mkdir(join(dir, name), { recursive: true });
  return dir;
}

async function codeOf(work: Promise<unknown>): Promise<{ code: string; message: string; hint: string }> {
  try {
    await work;
  } catch (error) {
    return error as { code: string; message: string; hint: string };
  }
  throw new Error('it did not refuse');
}

describe('migrate create names', () => {
  it('counts on a second after a newest folder that is only just ahead (a burst of creates)', async () => {
    const dir = await folderWith('20261202010005_just_ahead');
    expect((await createMigration({ migrationsDir: dir, name: 'next', now: NOW })).name).toBe('20261202010006_next');
  });

  it.each(['99991231235959_last_second', '21000101000000_next_century'])(
    'refuses after %s, in the future, instead of an invalid or false name',
    async (newest) => {
      const dir = await folderWith(newest);
      const error = await codeOf(createMigration({ migrationsDir: dir, name: 'next', now: NOW }));
      expect(error.code).toBe('MIGRATION_TIMESTAMP_IN_FUTURE');
      expect(error.message).toBe(
        `The newest migration folder, ${newest}, is dated in the future (the UTC time now is 20261202010000), so a new migration cannot be named after it with a true timestamp.`,
      );
      expect(error.hint).toMatch(/Rename that folder/);
    },
  );

  it('refuses after a folder whose timestamp is not a real date (it gave "Invalid time value")', async () => {
    const dir = await folderWith('20991399000000_month_13');
    expect((await codeOf(createMigration({ migrationsDir: dir, name: 'next', now: NOW }))).code).toBe('MIGRATION_TIMESTAMP_INVALID');
  });
});
