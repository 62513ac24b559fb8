import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli, runProgram } from './helpers/cli.js';

const BIN = fileURLToPath(new URL('../bin/todo-db.js', import.meta.url));
const ESCAPE = '\u001b[';

/** `migrate create` on a real pseudo-terminal (util-linux script), as a person at a terminal runs it. */
async function onTerminal(env: Record<string, string | undefined>) {
  const dir = join(await mkdtemp(join(tmpdir(), 'todo-db-tty-')), 'migrations');
  return runProgram('script', ['-qec', `'${process.execPath}' '${BIN}' migrate create first --migrations-dir '${dir}'`, '/dev/null'], { env });
}

describe('output for people and for machines', () => {
  it('paints on a terminal, and not with NO_COLOR or CI there', async () => {
    const painted = await onTerminal({ CI: undefined });
    expect(painted.code, painted.stderr).toBe(0);
    expect(painted.stdout).toContain(`${ESCAPE}32m✓${ESCAPE}39m Created`);
    for (const env of [{ CI: undefined, NO_COLOR: '1' }, { CI: 'true' }]) {
      const plain = await onTerminal(env);
      expect(plain.stdout).toContain('ok Created');
      expect(plain.stdout).not.toContain(ESCAPE);
    }
  });

  it('never paints into a pipe', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'todo-db-pipe-')), 'migrations');
    const piped = await runCli(['migrate', 'create', 'first', '--migrations-dir', dir], { env: { CI: undefined } });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toMatch(/^ok Created \d{14}_first\n/);
    expect(piped.stdout).not.toContain(ESCAPE);
  });
});
