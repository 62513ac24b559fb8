import { defineRule } from './rule.js';

const REBUILD =
  'CREATE TYPE "task_priority_new" AS ENUM (\'low\', \'high\');\nALTER TABLE "tasks" ALTER COLUMN "priority" DROP DEFAULT;\nALTER TABLE "tasks" ALTER COLUMN "priority" TYPE "task_priority_new" USING ("priority"::text::"task_priority_new");\nALTER TYPE "task_priority" RENAME TO "task_priority_old";\nALTER TYPE "task_priority_new" RENAME TO "task_priority";\nDROP TYPE "task_priority_old";\nALTER TABLE "tasks" ALTER COLUMN "priority" SET DEFAULT \'low\';\n';

export const prismaTransactionBlock = defineRule({
  id: 'prisma-transaction-block',
  severity: 'warning',
  on: ['TransactionStmt'],
  firesOn: "a line `BEGIN;` ... a line `COMMIT;` as Prisma generates it (an enum value removed), folded into the migration's transaction",
  why: 'todo-db does not send this BEGIN and COMMIT: the whole file and its history row commit together, while prisma migrate deploy commits at the COMMIT line, so there what comes after it commits on its own and what comes before it is already committed (a label ADD VALUE adds before COMMIT is usable after it only there)',
  fix: 'Nothing, in a file Prisma generated (never edit an applied file); in a new migration, leave BEGIN; and COMMIT; out: the file already runs in one transaction',
  // Told once, at its BEGIN; the context knows the file's blocks (src/migrations/prisma-transaction.ts).
  check: (statement, { prismaBlocks }) =>
    prismaBlocks.has(statement) && statement.node.kind !== 'TRANS_STMT_COMMIT'
      ? [{ message: "BEGIN; ... COMMIT;, as Prisma generates it, is folded into the migration's own transaction" }]
      : [],
  examples: [{ unsafe: `-- AlterEnum\nBEGIN;\n${REBUILD}COMMIT;\n`, safe: `-- AlterEnum\n${REBUILD}` }],
});
