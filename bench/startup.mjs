// Times whole processes side by side in one run, each todo-db command next to its baseline:
//   todo-db --version            vs  node -e ''
//   todo-db check-connection     vs  a 3-line pg script (connect + select 1)
// Usage: node bench/startup.mjs [--runs 20] [--json]
import { cleanEnv, cli, comparePairs, intFlag, printReport, startLocal } from './lib.mjs';

const runs = intFlag('--runs', 15);
const env = cleanEnv();
const benchEnv = { ...env, BENCH_DATABASE_URL: startLocal(env) };

const report = comparePairs(
  [
    { name: '--version', target: [...cli, '--version'], baseline: ['-e', ''], baselineName: "node -e ''", limit: 1.3 },
    { name: 'check-connection --json', target: [...cli, 'check-connection', '--json'], baseline: ['bench/pg-baseline.mjs'], baselineName: 'pg connect + select 1', limit: 1.3 },
  ],
  runs,
  benchEnv,
);
printReport(`runs per command: ${runs}, node ${process.version}`, report);
