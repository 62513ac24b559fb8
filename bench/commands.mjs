// The commands newcomers and CI live on, each beside its baseline, on a scratch database of the local server:
//   seed-dev, first run (bcrypt cost 12)      reported alone
//   seed-dev, second run                       vs  pg connect + select 1   (target <= 1.5)
//   smoke                                      vs  Prisma Client: create a user and a task, read, delete (<= 1.3)
//   health --json                              vs  pg connect + select 1   (target <= 1.3)
//   setup, on an already set-up database       reported alone
// Usage: node bench/commands.mjs [--runs N] [--json]
import { execFileSync } from 'node:child_process';
import { cleanEnv, cli, comparePairs, createDatabase, dropDatabases, intFlag, printReport, root, startLocal } from './lib.mjs';

const runs = intFlag('--runs', 10);
const env = cleanEnv();
const local = startLocal(env);
const url = await createDatabase(local, 'bench_commands');
const benchEnv = { ...env, DATABASE_URL: url, BENCH_DATABASE_URL: url };
const node = (args) => execFileSync(process.execPath, args, { cwd: root, env: benchEnv, stdio: ['ignore', 'ignore', 'inherit'] });
const deleteSeedUser = () =>
  node([
    '-e',
    "const pg=require('pg');const c=new pg.Client({connectionString:process.env.BENCH_DATABASE_URL});c.connect().then(()=>c.query('delete from \"user\" where email=\\'test@example.com\\'')).then(()=>c.end())",
  ]);

try {
  node([...cli, 'migrate', 'up', '--quiet']);
  node([...cli, 'seed-dev', '--quiet']);
  const report = comparePairs(
    [
      { name: 'seed-dev (first run)', target: [...cli, 'seed-dev'], before: deleteSeedUser },
      { name: 'seed-dev (second run)', target: [...cli, 'seed-dev'], baseline: ['bench/pg-baseline.mjs'], baselineName: 'pg connect + select 1', limit: 1.5 },
      { name: 'smoke', target: [...cli, 'smoke'], baseline: ['bench/smoke-baseline.mjs'], baselineName: 'Prisma create/read/delete', limit: 1.3 },
      { name: 'health --json', target: [...cli, 'health', '--json'], baseline: ['bench/pg-baseline.mjs'], baselineName: 'pg connect + select 1', limit: 1.3 },
      { name: 'setup (already set up)', target: [...cli, 'setup'] },
    ],
    runs,
    benchEnv,
  );
  printReport(`runs per command: ${runs}, node ${process.version}`, report);
} finally {
  await dropDatabases(local, ['bench_commands']);
}
