import type { ParsedStatement } from '../../sql/parser.js';
import { defineRule } from './rule.js';

export const unknownLockPlan = defineRule({
  id: 'unknown-lock-plan',
  severity: 'warning',
  on: 'every statement',
  firesOn: 'a statement with no proven lock plan (DO, DROP ... CASCADE, a VACUUM FULL or CLUSTER of every table, ...)',
  why: 'the lint knows no lock plan for this statement, so nobody has checked which tables it locks, rewrites or scans',
  fix: 'Check its locks by hand (run it in a transaction on a copy and read pg_locks), then allow it with what you found as the reason',
  checkLocks: (statement, { locks }) => (locks ? [] : [{ message: `no known lock plan for this ${describeKind(statement)}` }]),
  examples: [
    { unsafe: 'do $$ begin perform 1; end $$;', safe: 'select 1;' },
    { unsafe: 'drop type task_priority cascade;', safe: 'drop type task_priority;' },
  ],
});

/** `DROP ... CASCADE statement`, `Do statement`: what the lint has no plan for. */
function describeKind({ kind, node }: ParsedStatement): string {
  return `${kind.replace(/Stmt$/, '')}${node.behavior === 'DROP_CASCADE' ? ' ... CASCADE' : ''} statement`;
}
