import { relationName } from '../ast.js';
import { isNewColumn, isNewTable } from '../context.js';
import { defineRule } from './rule.js';

export const rename = defineRule({
  id: 'rename',
  severity: 'error',
  on: ['RenameStmt'],
  firesOn: 'RENAME of a column or table',
  why: 'the deployed code still uses the old name and fails as soon as the migration commits',
  fix: 'Expand and contract: add the new column (or a view with the new table name), write both, backfill, move reads, then drop the old one in a later release',
  check: ({ node }, context) => {
    const table = relationName(node.relation);
    if (isNewTable(context, table)) return [];
    if (node.renameType === 'OBJECT_COLUMN' && isNewColumn(context, table ?? '', String(node.subname))) return [];
    if (node.renameType === 'OBJECT_COLUMN') return [{ message: `renames column ${table}.${node.subname} to ${node.newname}` }];
    if (node.renameType === 'OBJECT_TABLE') return [{ message: `renames table ${table} to ${node.newname}` }];
    return [];
  },
  examples: [
    { unsafe: 'alter table tasks rename column title to name;', safe: 'alter table tasks add column name varchar(200);' },
    { unsafe: 'alter table tasks rename to todos;', safe: 'create view todos as select * from tasks;' },
  ],
});
