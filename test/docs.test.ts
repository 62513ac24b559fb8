import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { program } from '../src/cli/main.js';
import { EXIT } from '../src/core/errors.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const tracked = () => execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);

describe('the design notes', () => {
  it('live in the repository: every relative link in README.md and docs/ resolves, and nothing points outside', () => {
    const notes = ['README.md', ...tracked().filter((file) => file.startsWith('docs/') && file.endsWith('.md'))];
    expect(notes).toEqual(expect.arrayContaining(['docs/README.md', 'docs/cli.md', 'docs/migrations.md', 'docs/connections.md']));
    for (const note of notes) {
      const links = [...readFileSync(join(ROOT, note), 'utf8').matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
        .map((match) => match[1] as string)
        .filter((link) => !/^[a-z]+:/.test(link));
      for (const link of links) expect(existsSync(join(ROOT, dirname(note), link)), `${note} links to ${link}`).toBe(true);
    }
    const outside = tracked().filter(
      (file) => !file.startsWith('test/docs.test.ts') && existsSync(join(ROOT, file)) && readFileSync(join(ROOT, file), 'utf8').includes('../shared/'),
    );
    expect(outside).toEqual([]);
  });
});

/** A markdown section's text: from its heading to the next heading of the same or a higher level. */
function section(file: string, heading: string): string {
  const text = read(file);
  const start = text.indexOf(`\n${heading}\n`);
  expect(start, `${file} has a section ${heading}`).toBeGreaterThan(-1);
  const rest = text.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`^#{1,${heading.indexOf(' ')}} `, 'm'));
  return end === -1 ? rest : rest.slice(0, end);
}

/** Every command that runs something (not `migrate` or `local` themselves), by its path: `migrate up`. */
function runnableCommands(command: Command, path: string[] = []): Array<{ path: string; command: Command }> {
  return command.commands.flatMap((sub) => {
    const subPath = [...path, sub.name()];
    return sub.commands.length > 0 ? runnableCommands(sub, subPath) : [{ path: subPath.join(' '), command: sub }];
  });
}

describe('the notes hold to the code', () => {
  it("docs/cli.md's Global options table has every option of todo-db itself", () => {
    const table = section('docs/cli.md', '## Global options');
    const missing = program.options.map((option) => option.flags).filter((flags) => !table.includes(`| \`${flags}\` |`));
    expect(missing, 'global options missing from docs/cli.md').toEqual([]);
  });

  it("docs/cli.md's Options of each command has a line per command with exactly the flags commander gives it", () => {
    const lines = section('docs/cli.md', '## Options of each command').split('\n');
    const commands = runnableCommands(program);
    expect(commands.map(({ path }) => path)).toEqual(expect.arrayContaining(['check-connection', 'migrate up', 'local url']));
    for (const { path, command } of commands) {
      const line = lines.find((text) => text === `todo-db ${path}` || text.startsWith(`todo-db ${path} `));
      expect(line, `a line for todo-db ${path}`).toBeDefined();
      const documented = [...(line as string).matchAll(/\[(-[^\]]+)\]/g)].map((match) => match[1] as string);
      const flags = command.options.map((option) => option.flags);
      const drift = { missing: flags.filter((flag) => !documented.includes(flag)), unknown: documented.filter((flag) => !flags.includes(flag)) };
      expect(drift, `todo-db ${path} in docs/cli.md`).toEqual({ missing: [], unknown: [] });
    }
  });

  it("docs/cli.md's Exit codes table has every code in EXIT (src/core/errors.ts)", () => {
    const table = section('docs/cli.md', '## Exit codes');
    const missing = Object.values(EXIT).filter((code) => !new RegExp(`^\\| ${code} \\|`, 'm').test(table));
    expect(missing, 'exit codes missing from docs/cli.md').toEqual([]);
  });

  it("docs/README.md's map of the tree has every folder of src/", () => {
    const map = section('docs/README.md', '## Shape');
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).filter((entry) => entry.isDirectory() && entry.name !== 'generated');
    expect(folders.length).toBeGreaterThan(10);
    const missing = folders.map((folder) => `src/${folder.name}/`).filter((folder) => !map.includes(folder));
    expect(missing, "folders missing from docs/README.md's map").toEqual([]);
  });

  it('README.md names every script in bench/', () => {
    const readme = read('README.md');
    const scripts = readdirSync(join(ROOT, 'bench')).filter((file) => file.endsWith('.mjs'));
    expect(scripts).toContain('startup.mjs');
    const missing = scripts.map((script) => `bench/${script}`).filter((script) => !readme.includes(script));
    expect(missing, 'bench scripts missing from README.md').toEqual([]);
  });
});
