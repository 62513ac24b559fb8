import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../src/config/settings.js';

async function project(packageJson: object): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'todo-db-external-'));
  await writeFile(join(dir, 'package.json'), JSON.stringify(packageJson));
  await mkdir(join(dir, 'src'));
  return join(dir, 'src');
}

const external = (env: NodeJS.ProcessEnv, cwd: string) => resolveSettings({}, env, cwd).externalTables;

describe('externalTables', () => {
  it("defaults to Better Auth's five tables", async () => {
    expect(external({}, await project({ name: 'app' }))).toEqual({ names: ['user', 'session', 'account', 'verification', 'jwks'], source: 'default' });
  });

  it("reads the project's package.json, and TODO_DB_EXTERNAL_TABLES wins over it", async () => {
    const cwd = await project({ name: 'app', 'todo-db': { externalTables: ['user', 'session', 'audit_log'] } });
    expect(external({}, cwd)).toEqual({ names: ['user', 'session', 'audit_log'], source: 'package.json' });
    expect(external({ TODO_DB_EXTERNAL_TABLES: ' jwks , user' }, cwd)).toEqual({ names: ['jwks', 'user'], source: 'TODO_DB_EXTERNAL_TABLES' });
    expect(external({ TODO_DB_EXTERNAL_TABLES: '' }, cwd)).toEqual({ names: [], source: 'TODO_DB_EXTERNAL_TABLES' });
    expect(external({}, await project({ name: 'app', 'todo-db': { externalTables: [] } }))).toEqual({ names: [], source: 'package.json' });
  });

  it('refuses a setting that is not a list of names, saying how to write it', async () => {
    const cwd = await project({ name: 'app', 'todo-db': { externalTables: 'user,session' } });
    expect(() => external({}, cwd)).toThrow(expect.objectContaining({ code: 'EXTERNAL_TABLES_INVALID', kind: 'usage', hint: expect.stringContaining('"externalTables": ["user"') }));
    expect(() => external({ TODO_DB_EXTERNAL_TABLES: 'user,,session' }, cwd)).toThrow(expect.objectContaining({ code: 'TODO_DB_EXTERNAL_TABLES_INVALID' }));
  });
});
