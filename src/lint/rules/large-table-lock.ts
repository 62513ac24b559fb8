import type { RuleText } from './rule.js';

export const largeTableLock = {
  id: 'large-table-lock',
  severity: 'error',
  firesOn: '(live only) any rewrite or scan under a write-blocking lock of a table above `--max-blocking-rows`',
  why: 'rewrites or scans a large table while holding a lock that blocks writes',
  fix: 'Split the change so that the long part runs under a weaker lock (NOT VALID then VALIDATE, CONCURRENTLY, a new column and a backfill)',
  examples: [],
} as const satisfies RuleText;
