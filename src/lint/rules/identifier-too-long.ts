import { defineRule } from './rule.js';

export const identifierTooLong = defineRule({
  id: 'identifier-too-long',
  severity: 'warning',
  on: 'every statement',
  style: true,
  firesOn: 'an identifier over 63 bytes (PostgreSQL truncates it silently)',
  why: 'PostgreSQL silently truncates identifiers to 63 bytes, so the object gets another name than the one written',
  fix: 'Use a name of at most 63 bytes',
  /**
   * From the text, not the tree: the parser truncates long identifiers as the server does, which is the problem.
   * String literals, dollar-quoted bodies and comments are removed first.
   */
  check: ({ sql }) => {
    const code = sql.replace(/\$([A-Za-z_]*)\$[\s\S]*?\$\1\$|'(?:[^']|'')*'|--[^\n]*|\/\*[\s\S]*?\*\//g, ' ');
    const identifiers = [...code.matchAll(/"((?:[^"]|"")+)"|[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*/g)].map(
      (match) => match[1]?.replace(/""/g, '"') ?? match[0],
    );
    return [...new Set(identifiers)]
      .filter((name) => Buffer.byteLength(name) > 63)
      .map((name) => ({ message: `"${name}" is ${Buffer.byteLength(name)} bytes; PostgreSQL keeps the first 63` }));
  },
  examples: [{ unsafe: `create table notes (${'x'.repeat(64)} text);`, safe: `create table notes (${'x'.repeat(63)} text);` }],
});
