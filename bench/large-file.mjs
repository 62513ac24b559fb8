// One migration of 100 000 statements (single-row INSERTs into tasks, with a block of DDL every 1 000), applied
// by `todo-db migrate up` (which parses, judges and lints it first) beside `psql -1 -f` of the same file, each on a
// fresh database with the project's migrations applied outside the timing; runs interleaved. Prints both wall
// times and both peak RSS (GNU time's maximum resident set), and the floor of a node process that connects with
// pg and loads the WebAssembly parser, so that what the file itself costs (peak above the floor) can be set
// against its size. With --before <rev> a build of that revision runs too, on its own fresh databases.
// Usage: node bench/large-file.mjs [--statements N] [--runs N] [--before REV] [--json]
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRevision, cleanEnv, cli, createDatabase, dropDatabases, intFlag, median, root, run, startLocal, stringFlag } from './lib.mjs';

const statements = intFlag('--statements', 100_000);
const runs = intFlag('--runs', 3);
const beforeRevision = stringFlag('--before');
const json = process.argv.includes('--json');
const log = (line) => process.stderr.write(`${line}\n`);
const TIME_LIMIT = 3;

const PSQL = ['/usr/lib/postgresql/15/bin/psql', '/usr/lib/postgresql/18/bin/psql', '/usr/bin/psql'].find(existsSync);
if (!PSQL) throw new Error('no psql found (apt-get install postgresql-client)');

/** The file: a user, then INSERTs, and every 1 000 statements a table with a foreign key, its index, a column, a comment. */
function largeFile(count) {
  const lines = [`insert into "user" (id, email, name) values ('bench-user', 'bench@example.com', 'Bench');`];
  for (let i = 1; i < count; ) {
    if (i % 1000 === 0) {
      const table = `bench_notes_${i / 1000}`;
      lines.push(
        `create table ${table} (id bigint generated always as identity primary key, task_id uuid not null references tasks (id), body text not null);`,
        `create index ${table}_task_id_idx on ${table} (task_id);`,
        `alter table ${table} add column seen boolean not null default false;`,
        `comment on table ${table} is 'notes, block ${i / 1000}';`,
      );
      i += 4;
    } else {
      lines.push(`insert into tasks (user_id, title, tags) values ('bench-user', 'task ${i}', array['tag${i % 20}']);`);
      i += 1;
    }
  }
  return `${lines.join('\n')}\n`;
}

const work = mkdtempSync(join(tmpdir(), 'todo-db-bench-large-'));
const folder = join(work, 'migrations');
cpSync(join(root, 'prisma', 'migrations'), folder, { recursive: true });
const migration = join(folder, '20990101000000_large_file');
mkdirSync(migration);
const file = join(migration, 'migration.sql');
writeFileSync(file, largeFile(statements));
const bytes = statSync(file).size;

const env = cleanEnv();
const localUrl = startLocal(env);
const created = [];
let serial = 0;
/** A fresh database with the project's migrations applied (untimed). */
async function freshDatabase() {
  const name = `bench_large_${serial++}`;
  created.push(name);
  const url = await createDatabase(localUrl, name);
  mustSucceed(process.execPath, [...cli, 'migrate', 'up', '--migrations-dir', join(root, 'prisma', 'migrations'), '--database-url', url]);
  return url;
}

function mustSucceed(command, args) {
  const result = run(command, args, { env });
  if (result.status !== 0) throw new Error(`${[command, ...args].join(' ')} exited ${result.status}: ${result.stderr}`);
  return result;
}

/** Wall time and peak RSS of a whole process, from GNU time (which prints them last on stderr). */
function measured(command, args) {
  const result = mustSucceed('/usr/bin/time', ['-f', '%e %M', command, ...args]);
  const [seconds, kilobytes] = result.stderr.toString().trim().split('\n').at(-1).split(' ').map(Number);
  return { ms: seconds * 1000, rssMb: kilobytes / 1024 };
}

const floorScript = `import pg from 'pg';
const client = new pg.Client({ connectionString: process.env.BENCH_DATABASE_URL });
await client.connect(); await client.query('select 1');
const parser = await import('libpg-query'); await parser.loadModule(); parser.parseSync('select 1');
await client.end();`;
const floorFile = join(root, 'node_modules', '.cache', 'todo-db-bench-large-floor.mjs');
mkdirSync(join(root, 'node_modules', '.cache'), { recursive: true });
writeFileSync(floorFile, floorScript);

const tools = [
  { name: 'psql -1 -f', run: (url) => measured(PSQL, ['-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', '-f', file, '-d', url]) },
  { name: 'todo-db migrate up', run: (url) => measured(process.execPath, [...cli, 'migrate', 'up', '--migrations-dir', folder, '--database-url', url]) },
];
if (beforeRevision) {
  const before = buildRevision(beforeRevision);
  tools.push({
    name: `todo-db ${before.commit} migrate up`,
    run: (url) => measured(process.execPath, [...before.cli, 'migrate', 'up', '--migrations-dir', folder, '--database-url', url]),
  });
}

const samples = new Map(tools.map((tool) => [tool.name, []]));
let floor;
try {
  log(`${statements} statements, ${(bytes / 1e6).toFixed(1)} MB; ${runs} runs of each`);
  for (let i = 0; i < runs; i++) {
    // Rotated, so neither always runs first after a fresh database.
    for (const tool of i % 2 ? [...tools].reverse() : tools) {
      const url = await freshDatabase();
      const sample = tool.run(url);
      samples.get(tool.name).push(sample);
      log(`  ${tool.name}: ${(sample.ms / 1000).toFixed(2)} s, ${sample.rssMb.toFixed(0)} MB`);
    }
  }
  env.BENCH_DATABASE_URL = await freshDatabase();
  floor = median(Array.from({ length: 3 }, () => measured(process.execPath, [floorFile]).rssMb));
} finally {
  await dropDatabases(localUrl, created);
  rmSync(work, { recursive: true, force: true });
  rmSync(floorFile, { force: true });
}

const fileMb = bytes / 1024 / 1024;
const rows = tools.map(({ name }) => {
  const taken = samples.get(name);
  return { command: name, medianMs: Math.round(median(taken.map((s) => s.ms))), peakRssMb: Math.round(median(taken.map((s) => s.rssMb))) };
});
const psql = rows[0];
const report = {
  statements,
  fileMb: +fileMb.toFixed(1),
  floorRssMb: Math.round(floor),
  rows: rows.map((row, i) =>
    i === 0
      ? row
      : {
          ...row,
          timeRatio: +(row.medianMs / psql.medianMs).toFixed(2),
          timeTarget: TIME_LIMIT,
          aboveFloorMb: Math.round(row.peakRssMb - floor),
          aboveFloorPerFileMb: +((row.peakRssMb - floor) / fileMb).toFixed(1),
        },
  ),
};
if (json) console.log(JSON.stringify(report, null, 2));
else {
  console.log(`A file of ${statements} statements (${report.fileMb} MiB); floor (node + pg connect + wasm parser loaded): ${report.floorRssMb} MB RSS`);
  for (const row of report.rows) {
    const side =
      row.timeRatio === undefined
        ? ''
        : `   time ${row.timeRatio.toFixed(2)}x psql (target <= ${TIME_LIMIT}) ${row.timeRatio <= TIME_LIMIT ? 'met' : 'MISSED'}; ${row.aboveFloorMb} MB above the floor = ${row.aboveFloorPerFileMb}x the file`;
    console.log(`${row.command.padEnd(32)} ${(row.medianMs / 1000).toFixed(2).padStart(6)} s ${String(row.peakRssMb).padStart(5)} MB peak RSS${side}`);
  }
}
