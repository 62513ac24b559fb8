// Times whole processes side by side in one run, each todo-db command next to its baseline:
//   todo-db --version            vs  node -e ''
//   todo-db check-connection     vs  a 3-line pg script (connect + select 1)
// and each beside todo-db built at --before (default: where this branch left main), to show a build change's cost.
// Usage: node bench/startup.mjs [--runs 20] [--before REV] [--json]
import { execFileSync } from 'node:child_process';
import { buildRevision, cleanEnv, cli, comparePairs, intFlag, printReport, root, startLocal, stringFlag } from './lib.mjs';

const runs = intFlag('--runs', 15);
const env = cleanEnv();
const benchEnv = { ...env, BENCH_DATABASE_URL: startLocal(env) };
const before = buildRevision(stringFlag('--before') ?? execFileSync('git', ['merge-base', 'HEAD', 'main'], { cwd: root }).toString().trim());

const report = comparePairs(
  [
    { name: '--version', target: [...cli, '--version'], baseline: ['-e', ''], baselineName: "node -e ''", limit: 1.3 },
    {
      name: 'check-connection --json',
      target: [...cli, 'check-connection', '--json'],
      baseline: ['bench/pg-baseline.mjs'],
      baselineName: 'pg connect + select 1',
      limit: 1.3,
    },
    { name: '--version', target: [...cli, '--version'], baseline: [...before.cli, '--version'], baselineName: `todo-db ${before.commit}`, limit: 1.05 },
    {
      name: 'check-connection --json',
      target: [...cli, 'check-connection', '--json'],
      baseline: [...before.cli, 'check-connection', '--json'],
      baselineName: `todo-db ${before.commit}`,
      limit: 1.05,
    },
  ],
  runs,
  benchEnv,
);
printReport(`runs per command: ${runs}, node ${process.version}`, report);
