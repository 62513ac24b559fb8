// Round trips and connections per command, counted by the latency proxy on a scratch database of the local
// server (no delay needed: the count does not depend on it). Commands run in the order a newcomer meets them.
// Usage: node bench/round-trips.mjs [--json]
import { spawn } from 'node:child_process';
import { startLatencyProxy, throughProxy } from './latency.mjs';
import { cleanEnv, cli, createDatabase, dropDatabases, root, startLocal } from './lib.mjs';

const env = cleanEnv();
const local = startLocal(env);
const direct = await createDatabase(local, 'bench_round_trips');
const target = new URL(direct);
const proxy = await startLatencyProxy({ target: { host: target.hostname, port: Number(target.port) }, rttMs: 0 });
const url = throughProxy(direct, proxy, '127.0.0.1');
const runEnv = { ...env, DATABASE_URL: url, BENCH_DATABASE_URL: url };
// Asynchronous: the proxy runs in this process, so its event loop must keep turning while the command runs.
const node = (args) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env: runEnv, stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} exited ${code}`))));
  });
const deleteSeedUser = [
  '-e',
  "const pg=require('pg');const c=new pg.Client({connectionString:process.env.BENCH_DATABASE_URL});c.connect().then(()=>c.query('delete from \"user\" where email=\\'test@example.com\\'')).then(()=>c.end())",
];

const steps = [
  { name: 'pg connect + select 1 (baseline)', args: ['bench/pg-baseline.mjs'] },
  { name: 'check-connection', args: [...cli, 'check-connection'] },
  { name: 'migrate up (pending: all)', args: [...cli, 'migrate', 'up'] },
  { name: 'migrate up (no-op)', args: [...cli, 'migrate', 'up'] },
  { name: 'migrate status', args: [...cli, 'migrate', 'status'] },
  { name: 'health', args: [...cli, 'health'] },
  { name: 'seed-dev (first run)', args: [...cli, 'seed-dev', '--bcrypt-cost', '4'], before: deleteSeedUser },
  { name: 'seed-dev (second run)', args: [...cli, 'seed-dev'] },
  { name: 'smoke', args: [...cli, 'smoke'] },
  { name: 'setup (already set up)', args: [...cli, 'setup'] },
  { name: 'inspect-indexes', args: [...cli, 'inspect-indexes'] },
  { name: 'migrate diff', args: [...cli, 'migrate', 'diff'] },
];

const report = [];
try {
  for (const step of steps) {
    if (step.before) await node(step.before);
    proxy.reset();
    await node(step.args);
    report.push({ command: step.name, ...proxy.counts() });
  }
} finally {
  await proxy.close();
  await dropDatabases(local, ['bench_round_trips']);
}
if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
else for (const row of report) console.log(`${row.command.padEnd(36)} ${String(row.roundTrips).padStart(4)} round trips  ${row.connections} connection(s)`);
