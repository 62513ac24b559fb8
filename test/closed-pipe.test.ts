import { readdirSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';

/** Output piped into a reader that stops early (`todo-db migrate status | head -3`): the reader closes first here. */
function withClosedStdout(args: string[], env: Record<string, string> = {}) {
  const running = startCli(args, { env });
  running.child.stdout?.destroy();
  return running.exited;
}

describe('a reader that closes the pipe early', () => {
  it('gets no EPIPE stack, and the command keeps its exit code', async () => {
    const result = await withClosedStdout(['migrate', 'lint', '--offline']);
    expect(result.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(result.code).toBe(0);
  });

  it('never cuts a migration run short: every migration is applied and recorded', async () => {
    const url = await createTestDatabase('pipe');
    const result = await withClosedStdout(['migrate', 'up'], { DATABASE_URL: url });
    expect(result.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(result.code).toBe(0);
    const client = new pg.Client(url);
    await client.connect();
    const { rows } = await client.query('select count(*)::int as n from _prisma_migrations where finished_at is not null');
    await client.end();
    const folders = readdirSync('prisma/migrations', { withFileTypes: true }).filter((entry) => entry.isDirectory());
    expect(rows[0].n).toBe(folders.length);
  });
});
