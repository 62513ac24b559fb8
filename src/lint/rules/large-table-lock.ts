import { EFFECT_VERB } from '../effect.js';
import { defineRule } from './rule.js';

export const largeTableLock = defineRule({
  id: 'large-table-lock',
  severity: 'error',
  on: 'every statement',
  firesOn: '(live only) any rewrite or scan under a write-blocking lock of a table above `--max-blocking-rows`',
  why: 'rewrites or scans a large table while holding a lock that blocks writes',
  fix: 'Split the change so that the long part runs under a weaker lock (NOT VALID then VALIDATE, CONCURRENTLY, a new column and a backfill)',
  // Only where no other rule reported the statement: the table's size makes that finding the error instead.
  checkLocks: (_statement, { blocking, escalated }) => {
    if (!blocking || escalated) return [];
    return [
      {
        message: `${EFFECT_VERB[blocking.effect]} ${blocking.table} (${blocking.because ?? 'every row'}) under ${blocking.heldFromEarlier ? `${blocking.heldFromEarlier}, taken earlier in this transaction` : blocking.lock}`,
      },
    ];
  },
  examples: [],
});
