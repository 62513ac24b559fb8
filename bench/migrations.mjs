// Times migration runs side by side on the local server, todo-db next to node-pg-migrate and dbmate:
//   apply 100 small migrations (a table and an index each) to an empty database, a fresh one per run;
//   a no-op `up` on an up-to-date database, next to a bare pg connect + select 1 process;
//   and todo-db against itself at an earlier revision (--before, default: where this branch left main), for the
//   no-op `up` and for `up` of one pending migration (the project's own), which shows what parsing costs.
// Every tool runs as a whole process; runs are interleaved (and the order rotated) so that machine noise hits
// all alike. Databases are created and checked outside the timing, and dropped at the end.
// Usage: node bench/migrations.mjs [--runs N] [--apply-runs N] [--noop-runs N] [--before REV] [--json]
//   --runs sets all counts (defaults: 5 applies, 15 no-ops and one-pending runs); --json prints only the report, as JSON.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveBinary as dbmateBinary } from 'dbmate';
import { downSql, eachMigration, MIGRATIONS, upSql, writeNodePgMigrateFolder, writeTodoDbFolder } from './folder.mjs';
import {
  buildRevision,
  cleanEnv,
  cli,
  createDatabase,
  dropDatabases,
  intFlag,
  root,
  run,
  startLocal,
  stringFlag,
  summarize,
  time,
  withClient,
} from './lib.mjs';

const applyRuns = intFlag('--apply-runs', intFlag('--runs', 5));
const noopRuns = intFlag('--noop-runs', intFlag('--runs', 15));
const beforeRevision = stringFlag('--before') ?? execFileSync('git', ['merge-base', 'HEAD', 'main'], { cwd: root }).toString().trim();
const json = process.argv.includes('--json');
const log = (line) => process.stderr.write(`${line}\n`);

// ---- the same 100 migrations, in each tool's own format ----
const work = mkdtempSync(join(tmpdir(), 'todo-db-bench-'));
const dirs = { todoDb: join(work, 'todo-db'), nodePgMigrate: join(work, 'node-pg-migrate'), dbmate: join(work, 'dbmate', 'db', 'migrations') };
writeTodoDbFolder(dirs.todoDb);
writeNodePgMigrateFolder(dirs.nodePgMigrate);
mkdirSync(dirs.dbmate, { recursive: true });
eachMigration((name, table) => {
  writeFileSync(join(dirs.dbmate, `${name}.sql`), `-- migrate:up\n${upSql(table)}\n-- migrate:down\n${downSql(table)}`);
});

// One pending migration: the project's own first migration, alone in a folder.
dirs.onePending = join(work, 'one-pending');
mkdirSync(dirs.onePending);
cpSync(join(root, 'prisma', 'migrations'), dirs.onePending, { recursive: true });

// ---- the tools: how to run `up` against a database URL, and where each keeps its history ----
const env = cleanEnv();
const withSslDisabled = (url) => {
  const u = new URL(url);
  u.searchParams.set('sslmode', 'disable'); // the local server has no TLS, and dbmate's default is to require it
  return u.toString();
};
const tools = [
  {
    name: 'todo-db',
    slug: 'todo_db',
    history: 'SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    up: (url) => ({ command: process.execPath, args: [...cli, 'migrate', 'up', '--migrations-dir', dirs.todoDb, '--database-url', url, '--json'], env }),
  },
  {
    name: 'node-pg-migrate',
    slug: 'node_pg_migrate',
    history: 'SELECT count(*)::int AS n FROM pgmigrations',
    up: (url) => ({
      command: process.execPath,
      args: ['node_modules/node-pg-migrate/bin/node-pg-migrate.js', 'up', '--migrations-dir', dirs.nodePgMigrate],
      env: { ...env, DATABASE_URL: url },
    }),
  },
  {
    name: 'dbmate',
    slug: 'dbmate',
    history: 'SELECT count(*)::int AS n FROM schema_migrations',
    // The native binary itself: `npx dbmate` would add npx's and a Node wrapper's start-up to every run.
    // `migrate`, not `up`: `up` also connects to check (and create) the database, which `todo-db migrate up` never does.
    up: (url) => ({ command: dbmateBinary(), args: ['--url', withSslDisabled(url), '--migrations-dir', dirs.dbmate, '--no-dump-schema', 'migrate'], env }),
  },
];

const before = buildRevision(beforeRevision);
const todoDbUp = (entry, dir) => (url) => ({
  command: process.execPath,
  args: [...entry, 'migrate', 'up', '--migrations-dir', dir, '--database-url', url, '--json'],
  env,
});
const beforeTool = { name: `todo-db ${before.commit}`, up: todoDbUp(before.cli, dirs.todoDb) };

const localUrl = startLocal(env);
const created = [];
const database = async (name) => {
  created.push(name);
  return createDatabase(localUrl, name);
};
const timeUp = (tool, url) => {
  const { command, args, env: toolEnv } = tool.up(url);
  return time(command, args, { env: toolEnv });
};
async function verify(tool, url) {
  const found = await withClient(url, async (client) => ({
    tables: (await client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename ~ '^bench_[0-9]{3}$'`)).rows[0].n,
    indexes: (await client.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = 'public' AND indexname ~ '^bench_[0-9]{3}_name_idx$'`)).rows[0]
      .n,
    history: (await client.query(tool.history)).rows[0].n,
  }));
  if (found.tables !== MIGRATIONS || found.indexes !== MIGRATIONS || found.history !== MIGRATIONS) {
    throw new Error(`${tool.name} did not apply ${MIGRATIONS} migrations: ${JSON.stringify(found)}`);
  }
}
const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length]);

const report = { node: process.version, migrations: MIGRATIONS, runs: { apply: applyRuns, noop: noopRuns } };
try {
  report.server = await withClient(localUrl, async (client) => {
    const show = async (setting) => (await client.query(`SHOW ${setting}`)).rows[0][setting];
    return { version: await show('server_version'), fsync: await show('fsync'), synchronous_commit: await show('synchronous_commit') };
  });

  // Warm-up and check, untimed: each tool applies all 100 once. todo-db's engine may not exist yet.
  const active = [];
  const unavailable = {};
  for (const tool of tools) {
    const url = await database(`bench_${tool.slug}_0`);
    const { command, args, env: toolEnv } = tool.up(url);
    const result = run(command, args, { env: toolEnv });
    const output = `${result.stdout}${result.stderr}`;
    if (result.status !== 0 && /unknown command/i.test(output)) {
      unavailable[tool.name] = `not available yet: ${output.match(/unknown command[^\n"]*/i)[0]}`;
      log(`${tool.name}: ${unavailable[tool.name]}; reporting the others`);
      continue;
    }
    if (result.status !== 0) throw new Error(`${tool.name} exited ${result.status}:\n${output}`);
    await verify(tool, url);
    active.push(tool);
  }
  report.unavailable = unavailable;
  await dropDatabases(localUrl, created.splice(0));

  // 1. Apply 100 migrations to an empty database, a fresh one per tool and run (todo-db before as well).
  const applying = active.some((tool) => tool.name === 'todo-db') ? [...active, { ...beforeTool, slug: 'todo_db_before', history: tools[0].history }] : active;
  const apply = Object.fromEntries(applying.map((tool) => [tool.name, []]));
  for (let r = 1; r <= applyRuns; r++) {
    const urls = {};
    for (const tool of applying) urls[tool.name] = await database(`bench_${tool.slug}_${r}`);
    for (const tool of rotate(applying, r)) {
      apply[tool.name].push(timeUp(tool, urls[tool.name]));
      await verify(tool, urls[tool.name]);
    }
    await dropDatabases(localUrl, created.splice(0));
    log(`apply run ${r}/${applyRuns}: ${applying.map((t) => `${t.name} ${apply[t.name].at(-1).toFixed(0)} ms`).join(', ')}`);
  }

  // 2. A no-op up on an up-to-date database, next to a bare pg connect + select 1.
  const noopUrls = {};
  for (const tool of active) {
    noopUrls[tool.name] = await database(`bench_${tool.slug}_noop`);
    timeUp(tool, noopUrls[tool.name]);
    await verify(tool, noopUrls[tool.name]);
  }
  const baseline = { name: 'pg baseline', time: () => time(process.execPath, ['bench/pg-baseline.mjs'], { env: { ...env, BENCH_DATABASE_URL: localUrl } }) };
  const todoDbNow = active.find((tool) => tool.name === 'todo-db');
  const beforeNoop = todoDbNow ? [{ name: beforeTool.name, time: () => timeUp(beforeTool, noopUrls['todo-db']) }] : [];
  const contenders = [...active.map((tool) => ({ name: tool.name, time: () => timeUp(tool, noopUrls[tool.name]) })), ...beforeNoop, baseline];
  for (const c of contenders) c.time(); // warm-up
  const noop = Object.fromEntries(contenders.map((c) => [c.name, []]));
  for (let r = 1; r <= noopRuns; r++) {
    for (const c of rotate(contenders, r)) noop[c.name].push(c.time());
  }
  log(`no-op: ${noopRuns} runs each`);

  // 3. One pending migration (the project's own), before and after: what loading and running the parser costs.
  const pendingTools = [
    { name: 'todo-db', up: todoDbUp(cli, dirs.onePending) },
    { name: beforeTool.name, up: todoDbUp(before.cli, dirs.onePending) },
  ];
  const onePending = Object.fromEntries(pendingTools.map((tool) => [tool.name, []]));
  for (let r = 0; r <= noopRuns; r++) {
    for (const [i, tool] of rotate(pendingTools, r).entries()) {
      const url = await database(`bench_one_pending_${r}_${i}`);
      const ms = timeUp(tool, url);
      if (r > 0) onePending[tool.name].push(ms); // run 0 warms up
    }
    await dropDatabases(localUrl, created.splice(0));
  }
  log(`one pending migration: ${noopRuns} runs each`);

  report.apply = summarize(apply);
  report.noop = summarize(noop);
  report.onePending = summarize(onePending);
  report.before = before.commit;

  const ratio = (phase, a, b) => (report[phase][a] && report[phase][b] ? +(report[phase][a].medianMs / report[phase][b].medianMs).toFixed(2) : null);
  const compare = (name, phase, a, b, limit = null) => {
    const value = ratio(phase, a, b);
    return { name, phase, of: a, to: b, ratio: value, limit, met: limit === null || value === null ? null : value <= limit };
  };
  report.targets = [
    compare('no-op up: todo-db / node-pg-migrate', 'noop', 'todo-db', 'node-pg-migrate', 0.6),
    compare('no-op up: todo-db / pg baseline', 'noop', 'todo-db', 'pg baseline', 1.3),
    compare('100 migrations: todo-db / node-pg-migrate', 'apply', 'todo-db', 'node-pg-migrate', 1.0),
    compare(`no-op up: todo-db / todo-db ${before.commit}`, 'noop', 'todo-db', beforeTool.name, 1.05),
  ];
  report.comparisons = [
    compare('no-op up: todo-db / dbmate', 'noop', 'todo-db', 'dbmate'),
    compare('100 migrations: todo-db / dbmate', 'apply', 'todo-db', 'dbmate'),
    compare('no-op up: node-pg-migrate / pg baseline', 'noop', 'node-pg-migrate', 'pg baseline'),
    compare('no-op up: dbmate / pg baseline', 'noop', 'dbmate', 'pg baseline'),
    compare('100 migrations: dbmate / node-pg-migrate', 'apply', 'dbmate', 'node-pg-migrate'),
    compare(`no-op up: todo-db ${before.commit} / pg baseline`, 'noop', beforeTool.name, 'pg baseline'),
    compare(`one pending migration: todo-db / todo-db ${before.commit}`, 'onePending', 'todo-db', beforeTool.name),
    compare(`100 migrations: todo-db / todo-db ${before.commit}`, 'apply', 'todo-db', beforeTool.name),
  ];
} finally {
  await dropDatabases(localUrl, created);
  rmSync(work, { recursive: true, force: true });
}

if (json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const ms = (entry) => `${entry.medianMs.toFixed(1).padStart(8)} ms`;
  console.log(
    `runs: ${applyRuns} applies of ${MIGRATIONS} migrations, ${noopRuns} no-op ups; node ${process.version}, PostgreSQL ${report.server.version} (fsync ${report.server.fsync}, synchronous_commit ${report.server.synchronous_commit})`,
  );
  for (const [name, reason] of Object.entries(report.unavailable)) console.log(`${name}: ${reason}`);
  console.log(`${''.padEnd(17)} ${'100 migrations'.padStart(14)} ${'no-op up'.padStart(14)} ${'one pending'.padStart(14)}`);
  for (const name of [...tools.map((t) => t.name), beforeTool.name, 'pg baseline']) {
    const cell = (phase) => (report[phase][name] ? ms(report[phase][name]) : '').padStart(14);
    console.log(`${name.padEnd(17)} ${cell('apply')} ${cell('noop')} ${cell('onePending')}`);
  }
  const line = (c, verdict) => console.log(`${c.name.padEnd(44)} ${c.ratio === null ? '  n/a' : c.ratio.toFixed(2).padStart(5)}${verdict}`);
  console.log('targets:');
  for (const t of report.targets) line(t, ` (target <= ${t.limit}) ${t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED'}`);
  console.log('beside them:');
  for (const c of report.comparisons) line(c, '');
}
