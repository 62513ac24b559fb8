import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { staleDistReason, writeBuildStamp } from '../scripts/build-stamp.mjs';
import { ROOT } from './helpers/pack.js';

/**
 * The stamp that keeps the suite off a stale dist/ (test/helpers/global-setup.ts refuses to start on one), on a
 * copy of this checkout's build inputs: a build stamps it, and any change of contents makes it stale.
 */
let root = '';
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'todo-db-stamp-'));
  mkdirSync(join(root, 'scripts'));
  for (const file of ['package.json', 'tsconfig.json', 'tsconfig.types.json', 'scripts/build.mjs', 'src/index.ts', 'src/cli/main.ts'])
    cpSync(join(ROOT, file), join(root, file));
  mkdirSync(join(root, 'dist'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the build stamp in dist/', () => {
  it('is missing before the first build, and matches right after one', () => {
    expect(staleDistReason(root)).toMatch(/^dist\/ has no build stamp .*: run npm run build$/);
    writeBuildStamp(root);
    expect(staleDistReason(root)).toBeUndefined();
  });

  it('holds when only mtimes change (a git checkout), and is stale when a file under src/ changes, appears or goes', () => {
    writeBuildStamp(root);
    utimesSync(join(root, 'src', 'index.ts'), new Date(), new Date(Date.now() + 60_000));
    expect(staleDistReason(root)).toBeUndefined();

    writeFileSync(join(root, 'src', 'index.ts'), '// edited\n', { flag: 'a' });
    expect(staleDistReason(root)).toMatch(/^dist\/ is stale: .*run npm run build$/);
    writeBuildStamp(root);
    writeFileSync(join(root, 'src', 'cli', 'new.ts'), 'export {};\n');
    expect(staleDistReason(root)).toMatch(/^dist\/ is stale/);
    writeBuildStamp(root);
    rmSync(join(root, 'src', 'cli', 'main.ts'));
    expect(staleDistReason(root)).toMatch(/^dist\/ is stale/);
  });

  it('is stale when the build configuration changes (package.json, a tsconfig, the bundler script)', () => {
    for (const file of ['package.json', 'tsconfig.json', 'tsconfig.types.json', 'scripts/build.mjs']) {
      writeBuildStamp(root);
      writeFileSync(join(root, file), '\n', { flag: 'a' });
      expect(staleDistReason(root), file).toMatch(/^dist\/ is stale/);
    }
  });

  it("matches this checkout's own dist/, which the suite has just checked", () => {
    expect(staleDistReason(ROOT)).toBeUndefined();
  });
});
