import { relationName, unwrap } from '../ast.js';
import { isNewTable } from '../context.js';
import { defineRule } from './rule.js';

/** The data changes this rule looks at, as its messages name them. */
const VERBS: Record<string, string> = { UpdateStmt: 'UPDATE', DeleteStmt: 'DELETE', InsertStmt: 'INSERT ... SELECT' };

export const dataChangeWithDdl = defineRule({
  id: 'data-change-with-ddl',
  severity: 'error',
  on: Object.keys(VERBS),
  firesOn: 'UPDATE, DELETE or INSERT ... SELECT on a table that gets DDL in the same migration',
  why: "an UPDATE, DELETE or INSERT ... SELECT in the same transaction as DDL on the table holds the DDL's lock while every row is changed",
  fix: 'Move the data change to a migration of its own (and batch it on a large table)',
  check: ({ kind, node }, context) => {
    const table = relationName(node.relation);
    const select = unwrap(node.selectStmt)?.[1];
    if (kind === 'InsertStmt' && (!select || select.valuesLists)) return [];
    if (!table || isNewTable(context, table) || !context.ddlTables.has(table)) return [];
    return [{ message: `${VERBS[kind]} on ${table} in the same migration as DDL on ${table}` }];
  },
  examples: [
    {
      unsafe: "alter table tasks add column done boolean;\nupdate tasks set done = status = 'completed';",
      safe: 'update tasks set title = btrim(title) where title <> btrim(title);',
    },
    {
      unsafe: 'create index tasks_t_idx on tasks (title);\ndelete from tasks where title is null;',
      safe: 'create table notes (id int);\ninsert into notes select 1;',
    },
  ],
});
