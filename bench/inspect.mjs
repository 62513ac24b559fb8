// inspect-indexes and migrate diff on a database of 100 000 tasks (10 000 for one user), whole-process wall time
// including the shadow database they build from the migrations. Target for inspect-indexes: median under 1.5 s;
// migrate diff is reported without a target.
// Usage: node bench/inspect.mjs [--runs N] [--json]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cleanEnv, cli, createDatabase, dropDatabases, intFlag, median, root, startLocal, time, withClient } from './lib.mjs';

const TARGET_MS = 1500;
const runs = intFlag('--runs', 10);
const env = cleanEnv();
const local = startLocal(env);
const url = await createDatabase(local, 'bench_inspect');
const benchEnv = { ...env, DATABASE_URL: url };

const SEED = readFileSync(new URL('many-tasks.sql', import.meta.url), 'utf8');

try {
  execFileSync(process.execPath, [...cli, 'migrate', 'up', '--quiet'], { cwd: root, env: benchEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  await withClient(url, (client) => client.query(SEED));
  const forms = [
    ['inspect-indexes'],
    ['inspect-indexes', '--explain'],
    ['inspect-indexes', '--explain', '--analyze'],
    ['migrate', 'diff'],
    ['migrate', 'diff', '--schema'],
  ];
  const report = forms.map((args) => {
    const command = [...cli, ...args];
    time(process.execPath, command, { env: benchEnv });
    const samples = Array.from({ length: runs }, () => time(process.execPath, command, { env: benchEnv }));
    const medianMs = +median(samples).toFixed(1);
    if (args[0] !== 'inspect-indexes') return { command: `todo-db ${args.join(' ')}`, medianMs };
    return { command: `todo-db ${args.join(' ')}`, medianMs, target: TARGET_MS, met: medianMs <= TARGET_MS };
  });
  console.log(`runs per command: ${runs}, 100 000 tasks, node ${process.version}`);
  for (const r of report)
    console.log(`${r.command.padEnd(44)} ${String(r.medianMs).padStart(7)} ms${r.target ? `   (target <= ${r.target} ms) ${r.met ? 'met' : 'MISSED'}` : ''}`);
  if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
} finally {
  await dropDatabases(local, ['bench_inspect']);
}
