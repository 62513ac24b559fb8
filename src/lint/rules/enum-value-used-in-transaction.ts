import type { RuleText } from './rule.js';

export const enumValueUsedInTransaction = {
  id: 'enum-value-used-in-transaction',
  severity: 'error',
  firesOn: 'a label added with ADD VALUE used later in the same transactional migration',
  why: 'PostgreSQL refuses a label added with ADD VALUE until that transaction commits, and this migration is one transaction',
  fix: 'Use the new label in a later migration',
  examples: [
    { unsafe: 'alter type task_priority add value \'urgent\' after \'high\';\nupdate tasks set priority = \'urgent\' where title = \'x\';', safe: 'alter type task_priority add value \'urgent\' after \'high\';' },
  ],
} as const satisfies RuleText;
