import type { RuleText } from './rule.js';

export const jsonInsteadOfJsonb = {
  id: 'json-instead-of-jsonb',
  severity: 'warning',
  style: true,
  firesOn: 'a `json` column',
  why: 'json stores text, re-parses on every access and cannot be indexed or compared',
  fix: 'Use jsonb',
  examples: [
    { unsafe: 'create table notes (body json);', safe: 'create table notes (body jsonb);' },
  ],
} as const satisfies RuleText;
