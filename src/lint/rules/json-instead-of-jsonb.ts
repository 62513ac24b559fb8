import { defineRule } from './rule.js';
import { definedColumns, TABLE_DEFINITIONS } from './statements.js';

export const jsonInsteadOfJsonb = defineRule({
  id: 'json-instead-of-jsonb',
  severity: 'warning',
  on: TABLE_DEFINITIONS,
  style: true,
  firesOn: 'a `json` column',
  why: 'json stores text, re-parses on every access and cannot be indexed or compared',
  fix: 'Use jsonb',
  check: (statement) => definedColumns(statement).flatMap(({ where, column }) => (column.type.name === 'json' ? [{ message: `${where} is json` }] : [])),
  examples: [{ unsafe: 'create table notes (body json);', safe: 'create table notes (body jsonb);' }],
});
