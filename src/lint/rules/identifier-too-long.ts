import type { RuleText } from './rule.js';

export const identifierTooLong = {
  id: 'identifier-too-long',
  severity: 'warning',
  style: true,
  firesOn: 'an identifier over 63 bytes (PostgreSQL truncates it silently)',
  why: 'PostgreSQL silently truncates identifiers to 63 bytes, so the object gets another name than the one written',
  fix: 'Use a name of at most 63 bytes',
  examples: [
    { unsafe: `create table notes (${'x'.repeat(64)} text);`, safe: `create table notes (${'x'.repeat(63)} text);` },
  ],
} as const satisfies RuleText;
