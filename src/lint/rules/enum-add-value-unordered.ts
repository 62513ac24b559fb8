import type { RuleText } from './rule.js';

export const enumAddValueUnordered = {
  id: 'enum-add-value-unordered',
  severity: 'warning',
  style: true,
  firesOn: 'ALTER TYPE ... ADD VALUE without BEFORE or AFTER',
  why: 'without BEFORE or AFTER the label goes last, which decides how the enum sorts and compares',
  fix: 'ALTER TYPE t ADD VALUE \'x\' BEFORE \'y\' (or AFTER \'y\')',
  examples: [
    { unsafe: 'alter type task_priority add value \'urgent\';', safe: 'alter type task_priority add value \'urgent\' after \'high\';' },
  ],
} as const satisfies RuleText;
