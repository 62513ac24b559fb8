import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { runProgram } from './cli.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `npm pack` of this checkout into dir: the tarball an app installs. Returns its path. */
export async function packTodoDb(dir: string): Promise<string> {
  // --ignore-scripts: `npm test` has just built dist/ (pretest); prepare would only build it again.
  const pack = await runProgram('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
  expect(pack.code, pack.stderr).toBe(0);
  return join(dir, (JSON.parse(pack.stdout) as Array<{ filename: string }>)[0]?.filename as string);
}
