import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tracked = () => execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);

describe('the design notes', () => {
  it('live in the repository: every relative link in README.md and docs/ resolves, and nothing points outside', () => {
    const notes = ['README.md', ...tracked().filter((file) => file.startsWith('docs/') && file.endsWith('.md'))];
    expect(notes).toEqual(expect.arrayContaining(['docs/README.md', 'docs/cli.md', 'docs/migrations.md', 'docs/connections.md']));
    for (const note of notes) {
      const links = [...readFileSync(join(ROOT, note), 'utf8').matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((match) => match[1] as string).filter((link) => !/^[a-z]+:/.test(link));
      for (const link of links) expect(existsSync(join(ROOT, dirname(note), link)), `${note} links to ${link}`).toBe(true);
    }
    const outside = tracked().filter((file) => !file.startsWith('test/docs.test.ts') && existsSync(join(ROOT, file)) && readFileSync(join(ROOT, file), 'utf8').includes('../shared/'));
    expect(outside).toEqual([]);
  });
});
