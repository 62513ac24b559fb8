// Production's shape on one machine: a PostgreSQL with TLS (sslmode=verify-full, a CA made now), reached through
// the latency proxy at --rtt ms per round trip, side by side with the same runs on loopback (TLS too, no proxy).
//   100 migrations             todo-db vs node-pg-migrate (<= 0.5x), and vs loopback + 100 round trips (<= 1.2x)
//   no-op up, check-connection, health     vs pg connect + select 1 through the same path (<= 1.1x)
//   smoke                      vs a minimal Prisma Client create/read/delete through the same path (<= 1.2x), and
//                              for reference vs that script with its WebAssembly compiled baseline-only, as smoke's is
// The proxy runs as its own process: the timed commands are spawned synchronously.
// Usage: node bench/distance.mjs [--rtt 20] [--apply-runs 3] [--runs 7] [--only <command>] [--json]
//   --only smoke: the pairs of that command alone, without the 100 migrations (for one change at a time).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNodePgMigrateFolder, writeTodoDbFolder } from './folder.mjs';
import { startTlsServer } from './latency.mjs';
import { cli, createDatabase, dropDatabases, intFlag, median, root, stringFlag, time } from './lib.mjs';

const rtt = intFlag('--rtt', 20);
const applyRuns = intFlag('--apply-runs', 3);
const runs = intFlag('--runs', 7);
const only = stringFlag('--only');
const log = (line) => process.stderr.write(`${line}\n`);

const server = await startTlsServer();
const proxy = await startProxyProcess(new URL(server.url), rtt);
const work = mkdtempSync(join(tmpdir(), 'todo-db-bench-distance-'));
const folders = { todoDb: join(work, 'todo-db'), nodePgMigrate: join(work, 'node-pg-migrate') };
writeTodoDbFolder(folders.todoDb);
writeNodePgMigrateFolder(folders.nodePgMigrate);
const created = [];
const paths = {
  loopback: (database) => tlsUrl(server.url, server.caFile, database, new URL(server.url).port),
  distance: (database) => tlsUrl(server.url, server.caFile, database, proxy.port),
};
const env = { ...process.env, CI: 'true' };
delete env.DATABASE_URL;
delete env.DIRECT_DATABASE_URL;
const database = async (name) => {
  created.push(name);
  await createDatabase(server.url, name);
  return name;
};
const nodeTime = (args, extraEnv) => time(process.execPath, args, { env: { ...env, ...extraEnv } });
const todoDb = (args, url) => nodeTime([...cli, ...args, '--database-url', url]);
const nodePgMigrate = (url) =>
  nodeTime(['node_modules/node-pg-migrate/bin/node-pg-migrate.js', 'up', '--migrations-dir', folders.nodePgMigrate], { DATABASE_URL: url });
const pgBaseline = (url) => nodeTime(['bench/pg-baseline.mjs'], { BENCH_DATABASE_URL: url });
const prismaBaseline = (url) => nodeTime(['bench/smoke-baseline.mjs'], { BENCH_DATABASE_URL: url });
// smoke compiles Prisma's query compiler baseline-only (src/core/wasm-tier.ts); the same for the script, to show what
// the round trips alone make of the difference.
const prismaBaselineOnly = (url) => nodeTime(['--liftoff-only', 'bench/smoke-baseline.mjs'], { BENCH_DATABASE_URL: url });

const report = { rttMs: rtt, tls: 'verify-full', node: process.version, apply: {}, commands: {} };
try {
  // 1. 100 migrations into a fresh database per run, interleaved.
  for (const path of only ? [] : ['loopback', 'distance']) {
    const samples = { 'todo-db': [], 'node-pg-migrate': [] };
    for (let r = 0; r < applyRuns; r++) {
      const a = paths[path](await database(`bench_apply_todo_db_${path}_${r}`));
      const b = paths[path](await database(`bench_apply_npm_${path}_${r}`));
      const order = r % 2 ? ['node-pg-migrate', 'todo-db'] : ['todo-db', 'node-pg-migrate'];
      for (const tool of order)
        samples[tool].push(tool === 'todo-db' ? todoDb(['migrate', 'up', '--migrations-dir', folders.todoDb, '--quiet'], a) : nodePgMigrate(b));
      log(
        `${path} apply ${r + 1}/${applyRuns}: todo-db ${samples['todo-db'].at(-1).toFixed(0)} ms, node-pg-migrate ${samples['node-pg-migrate'].at(-1).toFixed(0)} ms`,
      );
    }
    report.apply[path] = Object.fromEntries(Object.entries(samples).map(([tool, ms]) => [tool, +median(ms).toFixed(0)]));
  }

  // 2. Commands on a migrated, seeded database, each beside its baseline.
  const app = await database('bench_distance_app');
  todoDb(['migrate', 'up', '--quiet'], paths.loopback(app));
  nodeTime([...cli, 'seed-dev', '--bcrypt-cost', '4', '--quiet', '--database-url', paths.loopback(app)]);
  const pairs = [
    { name: 'migrate up (no-op)', target: (url) => todoDb(['migrate', 'up', '--quiet'], url), baseline: pgBaseline, limit: 1.1 },
    { name: 'check-connection', target: (url) => todoDb(['check-connection', '--quiet'], url), baseline: pgBaseline, limit: 1.1 },
    { name: 'health', target: (url) => todoDb(['health', '--quiet'], url), baseline: pgBaseline, limit: 1.1 },
    { name: 'smoke', target: (url) => todoDb(['smoke', '--quiet'], url), baseline: prismaBaseline, limit: 1.2 },
    { name: 'smoke (script too)', target: (url) => todoDb(['smoke', '--quiet'], url), baseline: prismaBaselineOnly, limit: null },
  ].filter((pair) => only === null || pair.name.startsWith(only));
  for (const path of ['loopback', 'distance']) {
    const url = paths[path](app);
    for (const pair of pairs) {
      pair.target(url);
      pair.baseline(url);
      const target = [];
      const baseline = [];
      for (let r = 0; r < runs; r++) {
        target.push(pair.target(url));
        baseline.push(pair.baseline(url));
      }
      const row = { medianMs: +median(target).toFixed(0), baselineMs: +median(baseline).toFixed(0) };
      row.ratio = +(row.medianMs / row.baselineMs).toFixed(2);
      if (path === 'distance' && pair.limit !== null) row.met = row.ratio <= pair.limit;
      report.commands[pair.name] ??= {};
      report.commands[pair.name][path] = row;
      log(`${path} ${pair.name}: ${row.medianMs} ms vs ${row.baselineMs} ms (${row.ratio})`);
    }
  }
} finally {
  await dropDatabases(server.url, created).catch(() => {});
  proxy.stop();
  server.destroy();
  rmSync(work, { recursive: true, force: true });
}

const { loopback, distance } = report.apply;
if (!only) {
  report.targets = {
    'todo-db / node-pg-migrate at distance (<= 0.5)': +(distance['todo-db'] / distance['node-pg-migrate']).toFixed(2),
    'todo-db at distance / (loopback + 100 round trips) (<= 1.2)': +(distance['todo-db'] / (loopback['todo-db'] + 100 * rtt)).toFixed(2),
  };
}
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(`round trip ${rtt} ms through the proxy, TLS verify-full; node ${process.version}; medians of ${applyRuns} applies and ${runs} command runs`);
  if (!only) {
    console.log(`100 migrations      loopback: todo-db ${loopback['todo-db']} ms, node-pg-migrate ${loopback['node-pg-migrate']} ms`);
    console.log(`                    distance: todo-db ${distance['todo-db']} ms, node-pg-migrate ${distance['node-pg-migrate']} ms`);
    for (const [name, value] of Object.entries(report.targets)) console.log(`  ${name}: ${value}`);
  }
  for (const [name, rows] of Object.entries(report.commands)) {
    const cell = (row) => `${String(row.medianMs).padStart(6)} ms vs ${String(row.baselineMs).padStart(6)} ms (${row.ratio.toFixed(2)})`;
    const verdict = rows.distance.met === undefined ? 'for reference' : rows.distance.met ? 'met' : 'MISSED';
    console.log(`${name.padEnd(20)}loopback ${cell(rows.loopback)}   distance ${cell(rows.distance)} ${verdict}`);
  }
}

function tlsUrl(base, caFile, database, port) {
  const u = new URL(base);
  u.hostname = 'localhost';
  u.port = String(port);
  u.pathname = `/${database}`;
  u.searchParams.set('sslmode', 'verify-full');
  u.searchParams.set('sslrootcert', caFile);
  return u.toString();
}

/** bench/latency.mjs as a child process; resolves once it listens. */
function startProxyProcess(target, rttMs) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('latency.mjs', import.meta.url)), '--rtt', String(rttMs), '--target', `${target.hostname}:${target.port}`],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.stdout.once('data', (chunk) => {
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(String(chunk))?.[1]);
      resolve({ port, stop: () => child.kill('SIGTERM') });
    });
  });
}
