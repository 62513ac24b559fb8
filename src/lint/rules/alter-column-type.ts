import { typeRef, unwrap } from '../ast.js';
import { describeType, typeChange } from '../lock-plans.js';
import { mayBeWidening } from '../types.js';
import { defineRule, type RawFinding } from './rule.js';
import { commandsOn } from './statements.js';

export const alterColumnType = defineRule({
  id: 'alter-column-type',
  severity: 'error',
  on: ['AlterTableStmt'],
  firesOn:
    'ALTER COLUMN TYPE that rewrites the table; a rewrite-free change that scans for a CHECK is a warning (an error on a large table); offline, a target that may be a widening is a warning',
  why: 'changing a column type rewrites the table and its indexes under ACCESS EXCLUSIVE, and breaks the deployed code that reads the old type',
  fix: 'Add a column of the new type, write both from the app, backfill in batches, move reads, then drop the old column; widening varchar(n) or numeric precision needs no rewrite',
  check: (statement, context) =>
    commandsOn(statement, context, 'AT_AlterColumnType').flatMap(({ table, command, name: column }): RawFinding[] => {
      const next = typeRef(unwrap(command.def)?.[1]?.typeName);
      const change = typeChange(table, column, next, context);
      const target = `${table}.${column} to ${describeType(next)}`;
      if (change.effect === 'none') return [];
      if (change.effect === 'scan') return [scanForChecks(target, change.checks.join(', '))];
      if (change.effect === 'rewrite') return [{ message: `changes ${target}: ${change.because}` }];
      if (mayBeWidening(next))
        return [{ severity: 'warning', message: `changes ${target}: no rewrite only if it widens the current type (lint with a database to know)` }];
      return [{ message: `changes ${target}: rewrites the table and its indexes` }];
    }),
  examples: [{ unsafe: 'alter table tasks alter column title type int using 0;', safe: 'alter table tasks add column title_number int;' }],
});

/** No rewrite, but every CHECK that uses the column is checked again: a warning of its own. */
const scanForChecks = (target: string, checks: string): RawFinding => ({
  severity: 'warning',
  message: `changes ${target} without a rewrite, but ${checks} uses the column`,
  why: 'PostgreSQL re-checks every CHECK constraint that uses the column against every row, under ACCESS EXCLUSIVE',
  fix: `Drop ${checks} in the same migration, change the type, add it back NOT VALID, and VALIDATE CONSTRAINT in a later migration`,
});
