import { names } from '../ast.js';
import { defineRule, NO_TX } from './rule.js';
import { addedConstraints } from './statements.js';

export const addUniqueConstraint = defineRule({
  id: 'add-unique-constraint',
  severity: 'error',
  on: ['AlterTableStmt'],
  firesOn: 'ADD UNIQUE or PRIMARY KEY without USING INDEX (build a unique index CONCURRENTLY first)',
  why: 'ADD UNIQUE or PRIMARY KEY builds its index under ACCESS EXCLUSIVE: no reads or writes until it is built',
  fix: 'CREATE UNIQUE INDEX CONCURRENTLY t_c_key ON t (c) in a no-transaction migration, then ALTER TABLE t ADD CONSTRAINT t_c_key UNIQUE USING INDEX t_c_key',
  check: (statement, context) =>
    addedConstraints(statement, context, ['UNIQUE', 'PRIMARY']).flatMap(({ table, constraint, type, conname }) => {
      // USING INDEX: the index was built before, CONCURRENTLY.
      if (constraint.indexname) return [];
      const keyword = type === 'PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE';
      const index = conname ?? `${table}_${names(constraint.keys).join('_')}_${type === 'PRIMARY' ? 'pkey' : 'key'}`.slice(0, 63);
      const sql = `${NO_TX}CREATE UNIQUE INDEX CONCURRENTLY ${index} ON ${table} (${names(constraint.keys).join(', ')});\n-- in the next migration:\nALTER TABLE ${table} ADD CONSTRAINT ${index} ${keyword} USING INDEX ${index};`;
      return [{ message: `adds ${keyword} ${conname ? `${conname} ` : ''}on ${table} directly, building its index under ACCESS EXCLUSIVE`, sql }];
    }),
  examples: [
    {
      unsafe: 'alter table users add constraint users_name_key unique (name);',
      safe: 'alter table users add constraint users_name_key unique using index users_name_key;',
    },
    { unsafe: 'alter table users add primary key (email);', safe: 'create table notes (id uuid, primary key (id));' },
  ],
});
