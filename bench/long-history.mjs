// What a long history costs when nothing is pending: `migrate up`, `migrate status` and `health` on a database
// that has every migration applied, at 100 and at 1 000 migrations (a table and an index each, with down.sql),
// each beside the floor of any command that touches the database, a pg connect + `select 1` script. Loopback,
// paired runs alternating target and baseline after a warm-up, medians. Targets: within 1.1x of the pg script
// at 100 migrations, 1.2x at 1 000. With --before <rev> a build of that revision runs the same commands too.
// Usage: node bench/long-history.mjs [--runs N] [--sizes 100,1000] [--before REV] [--json]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCK_FILE } from './folder.mjs';
import { buildRevision, cleanEnv, cli, comparePairs, createDatabase, dropDatabases, intFlag, printReport, run, startLocal, stringFlag } from './lib.mjs';

const runs = intFlag('--runs', 15);
const sizes = (stringFlag('--sizes') ?? '100,1000').split(',').map(Number);
const beforeRevision = stringFlag('--before');
const LIMITS = { 100: 1.1, 1000: 1.2 };

const version = (i) => new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString().replace(/\D/g, '').slice(0, 14); // UTC YYYYMMDDHHMMSS

function writeHistory(dir, count) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'migration_lock.toml'), LOCK_FILE);
  for (let i = 1; i <= count; i++) {
    const table = `history_${String(i).padStart(4, '0')}`;
    const folder = join(dir, `${version(i)}_${table}`);
    mkdirSync(folder);
    writeFileSync(
      join(folder, 'migration.sql'),
      `-- Migration ${i} of ${count}.\nCREATE TABLE ${table} (id serial primary key, name text not null, created_at timestamptz not null default now());\nCREATE INDEX ${table}_name_idx ON ${table} (name);\n`,
    );
    writeFileSync(join(folder, 'down.sql'), `DROP TABLE ${table};\n`);
  }
}

const env = cleanEnv();
const local = startLocal(env);
const work = mkdtempSync(join(tmpdir(), 'todo-db-bench-history-'));
const before = beforeRevision ? buildRevision(beforeRevision) : undefined;
const created = [];
const report = [];
try {
  for (const size of sizes) {
    const dir = join(work, String(size));
    writeHistory(dir, size);
    const name = `bench_history_${size}`;
    created.push(name);
    const url = await createDatabase(local, name);
    const benchEnv = { ...env, DATABASE_URL: url, BENCH_DATABASE_URL: url };
    const applied = run(process.execPath, [...cli, '--migrations-dir', dir, 'migrate', 'up', '--quiet'], { env: benchEnv });
    if (applied.status !== 0) throw new Error(`migrate up of ${size} migrations exited ${applied.status}: ${applied.stderr}`);
    const limit = LIMITS[size] ?? 1.2;
    const commands = [
      ['migrate up (nothing pending)', ['migrate', 'up']],
      ['migrate status', ['migrate', 'status']],
      ['health', ['health']],
    ];
    const pairs = commands.flatMap(([label, args]) => [
      {
        name: `${label}, ${size} migrations`,
        target: [...cli, '--migrations-dir', dir, ...args],
        baseline: ['bench/pg-baseline.mjs'],
        baselineName: 'pg connect + select 1',
        limit,
      },
      ...(before
        ? [
            {
              name: `${label}, ${size} migrations (${before.commit})`,
              target: [...before.cli, '--migrations-dir', dir, ...args],
              baseline: ['bench/pg-baseline.mjs'],
              baselineName: 'pg connect + select 1',
              limit,
            },
          ]
        : []),
    ]);
    report.push(...comparePairs(pairs, runs, benchEnv));
  }
  printReport(`runs per command: ${runs}, node ${process.version}, loopback`, report);
} finally {
  await dropDatabases(local, created);
  rmSync(work, { recursive: true, force: true });
}
