import { defineRule } from './rule.js';
import { definedColumns, TABLE_DEFINITIONS } from './statements.js';

export const intPrimaryKey = defineRule({
  id: 'int-primary-key',
  severity: 'warning',
  on: TABLE_DEFINITIONS,
  style: true,
  firesOn: 'an `integer` or `smallint` primary key',
  why: 'an integer key runs out at 2 147 483 647 rows, and widening it later rewrites the table',
  fix: 'Use bigint (GENERATED ALWAYS AS IDENTITY) or uuid',
  check: (statement) =>
    definedColumns(statement).flatMap(({ where, column, primary }) => {
      if (!primary || !SMALL_INTEGERS.has(column.type.name) || column.type.array) return [];
      return [{ message: `primary key ${where} is ${column.type.name === 'int4' ? 'integer' : column.type.name}` }];
    }),
  examples: [
    { unsafe: 'create table notes (id int primary key);', safe: 'create table notes (id bigint primary key);' },
    { unsafe: 'create table notes (id integer, primary key (id));', safe: 'create table notes (id uuid, primary key (id));' },
  ],
});

const SMALL_INTEGERS = new Set(['int4', 'int2', 'serial', 'serial4', 'smallserial', 'serial2']);
