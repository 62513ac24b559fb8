import type { RuleText } from './rule.js';

export const unknownLockPlan = {
  id: 'unknown-lock-plan',
  severity: 'warning',
  firesOn: 'a statement with no proven lock plan (DO, DROP ... CASCADE, a VACUUM FULL or CLUSTER of every table, ...)',
  why: 'the lint knows no lock plan for this statement, so nobody has checked which tables it locks, rewrites or scans',
  fix: 'Check its locks by hand (run it in a transaction on a copy and read pg_locks), then allow it with what you found as the reason',
  examples: [
    { unsafe: 'do $$ begin perform 1; end $$;', safe: 'select 1;' },
    { unsafe: 'drop type task_priority cascade;', safe: 'drop type task_priority;' },
  ],
} as const satisfies RuleText;
