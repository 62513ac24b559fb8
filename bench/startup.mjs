// Times whole processes side by side in one run, each todo-db command next to its baseline:
//   todo-db --version            vs  node -e ''
//   todo-db check-connection     vs  a 3-line pg script (connect + select 1)
// Runs are interleaved so that machine noise hits both sides alike. Usage: npm run bench [-- --runs 20]
import { cleanEnv, cli, intFlag, median, startLocal, time } from './lib.mjs';

const runs = intFlag('--runs', 15);
const env = cleanEnv();
const benchEnv = { ...env, BENCH_DATABASE_URL: startLocal(env) };

const pairs = [
  { name: '--version', target: [...cli, '--version'], baseline: ['-e', ''], baselineName: "node -e ''", limit: 1.3 },
  { name: 'check-connection --json', target: [...cli, 'check-connection', '--json'], baseline: ['bench/pg-baseline.mjs'], baselineName: 'pg connect + select 1', limit: 1.3 },
];

const timeNode = (args) => time(process.execPath, args, { env: benchEnv });

const report = [];
for (const pair of pairs) {
  timeNode(pair.target);
  timeNode(pair.baseline);
  const target = [];
  const baseline = [];
  for (let i = 0; i < runs; i++) {
    target.push(timeNode(pair.target));
    baseline.push(timeNode(pair.baseline));
  }
  const ratio = median(target) / median(baseline);
  report.push({ command: `todo-db ${pair.name}`, medianMs: +median(target).toFixed(1), baseline: pair.baselineName, baselineMedianMs: +median(baseline).toFixed(1), ratio: +ratio.toFixed(2), target: pair.limit, met: ratio <= pair.limit });
}

console.log(`runs per command: ${runs}, node ${process.version}`);
for (const r of report) {
  console.log(`${r.command.padEnd(34)} ${String(r.medianMs).padStart(7)} ms   ${r.baseline.padEnd(22)} ${String(r.baselineMedianMs).padStart(7)} ms   ratio ${r.ratio.toFixed(2)} (target <= ${r.target}) ${r.met ? 'met' : 'MISSED'}`);
}
if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
