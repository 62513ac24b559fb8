import type { RuleText } from './rule.js';

export const syntaxError = {
  id: 'syntax-error',
  severity: 'error',
  firesOn: 'SQL that PostgreSQL\'s parser refuses',
  why: 'PostgreSQL refuses the file',
  fix: 'Fix the SQL at the position shown',
  examples: [
    { unsafe: 'create tabel notes (id int);', safe: 'create table notes (id int);' },
  ],
} as const satisfies RuleText;
