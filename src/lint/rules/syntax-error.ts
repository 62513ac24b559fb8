import { defineRule } from './rule.js';

export const syntaxError = defineRule({
  id: 'syntax-error',
  severity: 'error',
  firesOn: "SQL that PostgreSQL's parser refuses",
  why: 'PostgreSQL refuses the file',
  fix: 'Fix the SQL at the position shown',
  checkFile: ({ syntaxError }) => (syntaxError ? [{ offset: syntaxError.offset, message: syntaxError.message }] : []),
  examples: [{ unsafe: 'create tabel notes (id int);', safe: 'create table notes (id int);' }],
});
