import { findAll, type Node } from '../ast.js';
import { defineRule } from './rule.js';

export const enumValueUsedInTransaction = defineRule({
  id: 'enum-value-used-in-transaction',
  severity: 'error',
  on: 'every statement',
  firesOn: 'a label added with ADD VALUE used later in the same transactional migration',
  why: 'PostgreSQL refuses a label added with ADD VALUE until that transaction commits, and this migration is one transaction',
  fix: 'Use the new label in a later migration',
  check: ({ kind, node }, context) => {
    if (!context.transactional || context.state.enumLabels.size === 0 || kind === 'AlterEnumStmt') return [];
    const used = stringLiterals(node).filter((text) => context.state.enumLabels.has(text));
    return [...new Set(used)].map((label) => ({ message: `uses label '${label}', added by ADD VALUE earlier in this transaction` }));
  },
  examples: [
    {
      unsafe: "alter type task_priority add value 'urgent' after 'high';\nupdate tasks set priority = 'urgent' where title = 'x';",
      safe: "alter type task_priority add value 'urgent' after 'high';",
    },
  ],
});

function stringLiterals(node: Node): string[] {
  return findAll(node, 'A_Const').flatMap((constant) => {
    const value = (constant.sval as { sval?: string } | undefined)?.sval;
    return value === undefined ? [] : [value];
  });
}
