import { defineRule } from './rule.js';
import { definedColumns, TABLE_DEFINITIONS } from './statements.js';

export const timestampWithoutTimeZone = defineRule({
  id: 'timestamp-without-time-zone',
  severity: 'warning',
  on: TABLE_DEFINITIONS,
  style: true,
  firesOn: 'a `timestamp` column',
  why: 'timestamp without time zone stores wall-clock time with no zone, so the same instant reads differently per client',
  fix: 'Use timestamptz',
  check: (statement) =>
    definedColumns(statement).flatMap(({ where, column }) =>
      column.type.name === 'timestamp' ? [{ message: `${where} is timestamp without time zone` }] : [],
    ),
  examples: [{ unsafe: 'create table notes (at timestamp);', safe: 'create table notes (at timestamptz);' }],
});
