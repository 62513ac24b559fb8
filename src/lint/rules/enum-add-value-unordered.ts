import { defineRule } from './rule.js';
import { existingEnum } from './statements.js';

export const enumAddValueUnordered = defineRule({
  id: 'enum-add-value-unordered',
  severity: 'warning',
  on: ['AlterEnumStmt'],
  style: true,
  firesOn: 'ALTER TYPE ... ADD VALUE without BEFORE or AFTER',
  why: 'without BEFORE or AFTER the label goes last, which decides how the enum sorts and compares',
  fix: "ALTER TYPE t ADD VALUE 'x' BEFORE 'y' (or AFTER 'y')",
  check: ({ node }, context) => {
    const type = existingEnum(node, context);
    return type && node.oldVal === undefined && node.newValNeighbor === undefined ? [{ message: `adds label '${node.newVal}' to ${type} at the end` }] : [];
  },
  examples: [{ unsafe: "alter type task_priority add value 'urgent';", safe: "alter type task_priority add value 'urgent' after 'high';" }],
});
