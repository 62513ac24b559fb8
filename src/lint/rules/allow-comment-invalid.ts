import { defineRule } from './rule.js';

export const allowCommentInvalid = defineRule({
  id: 'allow-comment-invalid',
  severity: 'error',
  firesOn: 'an allow comment without a reason or with an unknown rule id',
  why: 'an allow comment needs a known rule id and a reason: -- todo-db-lint: allow <rule> -- <reason>',
  fix: "Write -- todo-db-lint: allow <rule> -- <why it is safe here>, with a rule id from todo-db migrate lint's list",
  checkFile: ({ allows }) => allows.problems.map((problem) => ({ line: problem.line, message: problem.message })),
  examples: [],
});
