import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertMigrationsWritable, projectRoot } from '../src/config/package-root.js';
import { openDatabase } from '../src/database.js';
import { defaultLocalDir } from '../src/local/paths.js';
import { runCli } from './helpers/cli.js';

/** An app with todo-db installed as a copy (npm install) and as a workspace link (npm workspaces). */
async function appLayout() {
  const app = await mkdtemp(join(tmpdir(), 'todo-db-app-'));
  const installed = join(app, 'node_modules', 'todo-db');
  const workspace = join(app, 'packages', 'todo-db');
  for (const dir of [join(installed, 'prisma', 'migrations'), join(workspace, 'prisma', 'migrations'), join(app, 'src', 'routes'), join(app, 'node_modules', '@acme')]) await mkdir(dir, { recursive: true });
  await writeFile(join(app, 'package.json'), '{"name":"todo-app"}');
  await writeFile(join(installed, 'package.json'), '{"name":"todo-db"}');
  await writeFile(join(workspace, 'package.json'), '{"name":"todo-db"}');
  await symlink(workspace, join(app, 'node_modules', '@acme', 'todo-db'));
  return { app, installed, workspace, linked: join(app, 'node_modules', '@acme', 'todo-db') };
}

describe('where todo-db writes', () => {
  it('puts the local database in the project that uses todo-db, never under node_modules', async () => {
    const { app, installed, workspace } = await appLayout();
    expect(projectRoot(app)).toBe(app);
    expect(projectRoot(join(app, 'src', 'routes'))).toBe(app);
    expect(projectRoot(installed)).toBe(app);
    expect(projectRoot(join(installed, 'prisma'))).toBe(app);
    // Working in the package's own checkout or workspace, that is the project.
    expect(projectRoot(workspace)).toBe(workspace);
    expect(defaultLocalDir(installed)).toBe(join(app, '.todo-db'));
    const nowhere = await mkdtemp(join(tmpdir(), 'todo-db-no-package-'));
    expect(projectRoot(nowhere)).toBe(nowhere);
  });

  it('refuses to write migrations into an installed copy, and allows a workspace link', async () => {
    const { installed, linked } = await appLayout();
    expect(() => assertMigrationsWritable(join(installed, 'prisma', 'migrations'))).toThrow(expect.objectContaining({ code: 'MIGRATIONS_READ_ONLY', kind: 'usage' }));
    expect(() => assertMigrationsWritable(join(linked, 'prisma', 'migrations'))).not.toThrow();
    expect(() => assertMigrationsWritable(join(linked, 'prisma', 'migrations', 'not-yet'))).not.toThrow();

    const refused = await runCli(['migrate', 'create', 'add_notes', '--migrations-dir', join(installed, 'prisma', 'migrations')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('[MIGRATIONS_READ_ONLY]');
    expect(refused.stderr).toMatch(/inside node_modules/);
    expect(refused.stderr).toMatch(/todo-db's own checkout or workspace/);
    expect(await readdir(join(installed, 'prisma', 'migrations'))).toEqual([]);

    const created = await runCli(['migrate', 'create', 'add_notes', '--migrations-dir', join(linked, 'prisma', 'migrations')]);
    expect(created.code, created.stderr).toBe(0);
    expect((await readdir(join(linked, 'prisma', 'migrations'))).some((name) => name.endsWith('_add_notes'))).toBe(true);
  });
});

describe('openDatabase with no URL', () => {
  it('does not start the local database unless asked to, and says how', async () => {
    const localDir = join(await mkdtemp(join(tmpdir(), 'todo-db-not-running-')), '.todo-db');
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      const error = await openDatabase({ localDir }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'LOCAL_DATABASE_NOT_RUNNING' });
      expect((error as Error).message).toContain(localDir);
      expect((error as { hint: string }).hint).toContain("{ local: 'start' }");
      expect(existsSync(localDir)).toBe(false);
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
  });
});
