import type { RuleText } from './rule.js';

export const enumRenameValue = {
  id: 'enum-rename-value',
  severity: 'error',
  firesOn: 'ALTER TYPE ... RENAME VALUE',
  why: 'the deployed code still writes and compares the old label',
  fix: 'ADD VALUE the new label, move the rows to it, release code that uses it, and stop using the old one',
  examples: [
    { unsafe: 'alter type task_status rename value \'pending\' to \'open\';', safe: 'alter type task_status add value \'open\' before \'pending\';' },
  ],
} as const satisfies RuleText;
