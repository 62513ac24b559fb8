import type { RuleText } from './rule.js';

export const allowCommentInvalid = {
  id: 'allow-comment-invalid',
  severity: 'error',
  firesOn: 'an allow comment without a reason or with an unknown rule id',
  why: 'an allow comment needs a known rule id and a reason: -- todo-db-lint: allow <rule> -- <reason>',
  fix: 'Write -- todo-db-lint: allow <rule> -- <why it is safe here>, with a rule id from todo-db migrate lint\'s list',
  examples: [],
} as const satisfies RuleText;
