import { defineRule } from './rule.js';
import { existingEnum } from './statements.js';

export const enumRenameValue = defineRule({
  id: 'enum-rename-value',
  severity: 'error',
  on: ['AlterEnumStmt'],
  firesOn: 'ALTER TYPE ... RENAME VALUE',
  why: 'the deployed code still writes and compares the old label',
  fix: 'ADD VALUE the new label, move the rows to it, release code that uses it, and stop using the old one',
  check: ({ node }, context) => {
    const type = existingEnum(node, context);
    return type && node.oldVal !== undefined ? [{ message: `renames label '${node.oldVal}' of ${type} to '${node.newVal}'` }] : [];
  },
  examples: [{ unsafe: "alter type task_status rename value 'pending' to 'open';", safe: "alter type task_status add value 'open' before 'pending';" }],
});
