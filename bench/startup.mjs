// Times whole processes side by side in one run, each todo-db command next to its baseline:
//   todo-db --version            vs  node -e ''
//   todo-db check-connection     vs  a 3-line pg script (connect + select 1)
// Runs are interleaved so that machine noise hits both sides alike. Usage: npm run bench [-- --runs 20]
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag === -1 ? 15 : Number(process.argv[runsFlag + 1]);
const cli = ['bin/todo-db.js'];
const env = { ...process.env };
delete env.DATABASE_URL;

execFileSync(process.execPath, [...cli, 'local', 'start', '--quiet'], { cwd: root, env, stdio: 'inherit' });
const local = JSON.parse(execFileSync(process.execPath, [...cli, 'local', 'url', '--show-password', '--json'], { cwd: root, env }).toString());
const benchEnv = { ...env, BENCH_DATABASE_URL: local.data.url };

const pairs = [
  { name: '--version', target: [...cli, '--version'], baseline: ['-e', ''], baselineName: "node -e ''", limit: 1.3 },
  { name: 'check-connection --json', target: [...cli, 'check-connection', '--json'], baseline: ['bench/pg-baseline.mjs'], baselineName: 'pg connect + select 1', limit: 1.3 },
];

function time(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: root, env: benchEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const report = [];
for (const pair of pairs) {
  time(pair.target);
  time(pair.baseline);
  const target = [];
  const baseline = [];
  for (let i = 0; i < runs; i++) {
    target.push(time(pair.target));
    baseline.push(time(pair.baseline));
  }
  const ratio = median(target) / median(baseline);
  report.push({ command: `todo-db ${pair.name}`, medianMs: +median(target).toFixed(1), baseline: pair.baselineName, baselineMedianMs: +median(baseline).toFixed(1), ratio: +ratio.toFixed(2), target: pair.limit, met: ratio <= pair.limit });
}

console.log(`runs per command: ${runs}, node ${process.version}`);
for (const r of report) {
  console.log(`${r.command.padEnd(34)} ${String(r.medianMs).padStart(7)} ms   ${r.baseline.padEnd(22)} ${String(r.baselineMedianMs).padStart(7)} ms   ratio ${r.ratio.toFixed(2)} (target <= ${r.target}) ${r.met ? 'met' : 'MISSED'}`);
}
if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
