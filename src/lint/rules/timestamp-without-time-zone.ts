import type { RuleText } from './rule.js';

export const timestampWithoutTimeZone = {
  id: 'timestamp-without-time-zone',
  severity: 'warning',
  style: true,
  firesOn: 'a `timestamp` column',
  why: 'timestamp without time zone stores wall-clock time with no zone, so the same instant reads differently per client',
  fix: 'Use timestamptz',
  examples: [
    { unsafe: 'create table notes (at timestamp);', safe: 'create table notes (at timestamptz);' },
  ],
} as const satisfies RuleText;
