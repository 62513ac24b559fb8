// Times `migrate lint` and its cost inside `migrate up`, as whole processes on the local server:
//   1. `migrate lint --all` of the migration benchmark's 100-migration folder, with --offline and with a database
//      (an empty one: all 100 pending, their catalog read live);
//   2. `migrate up` of one pending migration in development, this build (which lints it first) beside a build of
//      --baseline <git revision> (default: the last commit before the lint), interleaved run by run, each on a
//      fresh database with the project's init migration applied outside the timing.
// Usage: node bench/lint.mjs [--runs N] [--baseline <rev>] [--json]
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTodoDbFolder } from './folder.mjs';
import { cleanEnv, cli, createDatabase, dropDatabases, intFlag, root, run, startLocal, stringFlag, summarize, time } from './lib.mjs';

const runs = intFlag('--runs', 9);
const baselineRev = stringFlag('--baseline', '1e31c83');
const json = process.argv.includes('--json');
const log = (line) => process.stderr.write(`${line}\n`);

const work = mkdtempSync(join(tmpdir(), 'todo-db-bench-lint-'));
const hundred = join(work, 'hundred');
writeTodoDbFolder(hundred);
// The project's migrations plus one pending change: a table with a foreign key to tasks, its index, a column.
const onePending = join(work, 'one-pending');
cpSync(join(root, 'prisma', 'migrations'), onePending, { recursive: true });
mkdirSync(join(onePending, '20990101000000_notes'));
writeFileSync(
  join(onePending, '20990101000000_notes', 'migration.sql'),
  'CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, task_id uuid NOT NULL REFERENCES tasks (id), body text NOT NULL);\nCREATE INDEX notes_task_id_idx ON notes (task_id);\nALTER TABLE tasks ADD COLUMN note text;\n',
);

// The baseline: the same package at another revision, built here, with this checkout's node_modules.
const baseline = join(work, 'baseline');
mkdirSync(baseline);
execFileSync('sh', ['-c', `git archive ${baselineRev} | tar -x -C ${baseline}`], { cwd: root });
symlinkSync(join(root, 'node_modules'), join(baseline, 'node_modules'));
cpSync(join(root, 'src', 'generated'), join(baseline, 'src', 'generated'), { recursive: true }); // Prisma Client, generated, not in git
execFileSync('npm', ['run', '--silent', 'build'], { cwd: baseline, stdio: 'inherit' });

const env = cleanEnv();
const localUrl = startLocal(env);
const created = [];
const database = async (name) => {
  created.push(name);
  return createDatabase(localUrl, name);
};
const todoDb = (checkout, args) => time(process.execPath, [join(checkout, cli[0]), ...args], { env });
const mustRun = (args) => {
  const result = run(process.execPath, [...cli, ...args], { env });
  if (result.status !== 0) throw new Error(`todo-db ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
};

const report = { node: process.version, runs, baseline: baselineRev };
try {
  // 1. lint of 100 migrations. `migrate lint` exits 1 on errors; this folder has only warnings (serial).
  const lintUrl = await database('bench_lint_hundred');
  const lintArgs = (extra) => ['migrate', 'lint', '--all', '--migrations-dir', hundred, '--json', ...extra];
  const lint = { offline: [], database: [] };
  todoDb(root, lintArgs(['--offline']));
  todoDb(root, lintArgs(['--database-url', lintUrl]));
  for (let r = 0; r < runs; r++) {
    lint.offline.push(todoDb(root, lintArgs(['--offline'])));
    lint.database.push(todoDb(root, lintArgs(['--database-url', lintUrl])));
  }
  log(`lint of 100 migrations: ${runs} runs each`);

  // 2. up of one pending migration, with the lint (this build) and without (the baseline build).
  const up = { 'with lint': [], 'without lint (baseline)': [] };
  const contenders = [
    ['with lint', root],
    ['without lint (baseline)', baseline],
  ];
  for (let r = 0; r <= runs; r++) {
    for (const [name, checkout] of r % 2 ? contenders : [...contenders].reverse()) {
      const url = await database(`bench_lint_up_${r}_${name === 'with lint' ? 'a' : 'b'}`);
      mustRun(['migrate', 'up', '--to', '20261123000000_init', '--migrations-dir', onePending, '--database-url', url, '--quiet']);
      const ms = todoDb(checkout, ['migrate', 'up', '--migrations-dir', onePending, '--database-url', url, '--quiet']);
      if (r > 0) up[name].push(ms); // run 0 is the warm-up
    }
    await dropDatabases(localUrl, created.splice(1));
  }
  log(`up of one pending migration: ${runs} runs each`);

  report.lintHundred = summarize(lint);
  report.upOnePending = summarize(up);
  report.lintCostMs = +(report.upOnePending['with lint'].medianMs - report.upOnePending['without lint (baseline)'].medianMs).toFixed(1);
  report.lintCostRatio = +(report.upOnePending['with lint'].medianMs / report.upOnePending['without lint (baseline)'].medianMs).toFixed(2);
} finally {
  await dropDatabases(localUrl, created);
  rmSync(work, { recursive: true, force: true });
}

const rows = [
  ['migrate lint --all, 100 migrations, --offline', report.lintHundred.offline],
  ['migrate lint --all, 100 migrations, with database', report.lintHundred.database],
  ['migrate up, 1 pending, with lint', report.upOnePending['with lint']],
  ['migrate up, 1 pending, without lint (baseline)', report.upOnePending['without lint (baseline)']],
];
if (json) console.log(JSON.stringify(report, null, 2));
else {
  console.log(`medians of ${runs} runs; node ${process.version}; baseline ${baselineRev}`);
  for (const [label, entry] of rows) console.log(`${label.padEnd(52)} ${entry.medianMs.toFixed(1).padStart(8)} ms`);
  console.log(`${'cost of the lint step'.padEnd(52)} ${report.lintCostMs.toFixed(1).padStart(8)} ms (${report.lintCostRatio.toFixed(2)}x)`);
}
