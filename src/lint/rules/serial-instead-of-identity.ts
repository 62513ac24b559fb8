import { SERIAL_TYPES } from '../lock-plans.js';
import { defineRule } from './rule.js';
import { definedColumns, TABLE_DEFINITIONS } from './statements.js';

export const serialInsteadOfIdentity = defineRule({
  id: 'serial-instead-of-identity',
  severity: 'warning',
  on: TABLE_DEFINITIONS,
  style: true,
  firesOn: 'a serial column',
  why: 'serial makes a sequence with separate ownership and grants; identity columns are the SQL standard and follow the table',
  fix: 'Use bigint GENERATED ALWAYS AS IDENTITY',
  check: (statement) =>
    definedColumns(statement).flatMap(({ where, column }) => (SERIAL_TYPES.has(column.type.name) ? [{ message: `${where} is ${column.type.name}` }] : [])),
  examples: [{ unsafe: 'create table notes (id bigserial primary key);', safe: 'create table notes (id bigint generated always as identity primary key);' }],
});
