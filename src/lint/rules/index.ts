import { indexWithoutConcurrently } from './index-without-concurrently.js';
import { concurrentlyInTransaction } from './concurrently-in-transaction.js';
import { addColumnNotNullWithoutDefault } from './add-column-not-null-without-default.js';
import { addColumnRewrite } from './add-column-rewrite.js';
import { setNotNull } from './set-not-null.js';
import { constraintWithoutNotValid } from './constraint-without-not-valid.js';
import { validateInSameMigration } from './validate-in-same-migration.js';
import { addUniqueConstraint } from './add-unique-constraint.js';
import { alterColumnType } from './alter-column-type.js';
import { rename } from './rename.js';
import { dropObject } from './drop-object.js';
import { truncateTable } from './truncate-table.js';
import { deleteWithoutWhere } from './delete-without-where.js';
import { updateWithoutWhere } from './update-without-where.js';
import { dropNotNull } from './drop-not-null.js';
import { enumRenameValue } from './enum-rename-value.js';
import { enumAddValueUnordered } from './enum-add-value-unordered.js';
import { enumValueUsedInTransaction } from './enum-value-used-in-transaction.js';
import { transactionControl } from './transaction-control.js';
import { prismaTransactionBlock } from './prisma-transaction-block.js';
import { dataChangeWithDdl } from './data-change-with-ddl.js';
import { foreignKeyWithoutIndex } from './foreign-key-without-index.js';
import { identifierTooLong } from './identifier-too-long.js';
import { timestampWithoutTimeZone } from './timestamp-without-time-zone.js';
import { jsonInsteadOfJsonb } from './json-instead-of-jsonb.js';
import { serialInsteadOfIdentity } from './serial-instead-of-identity.js';
import { intPrimaryKey } from './int-primary-key.js';
import { largeTableLock } from './large-table-lock.js';
import { unknownLockPlan } from './unknown-lock-plan.js';
import { syntaxError } from './syntax-error.js';
import { allowCommentInvalid } from './allow-comment-invalid.js';
import type { RuleText } from './rule.js';

export type { Severity } from './rule.js';

/**
 * Every rule `migrate lint` knows, in the order the README lists them. A new rule is a module beside these and
 * one line here; the corpus test and the README table test follow this list.
 */
export const RULE_LIST = [
  indexWithoutConcurrently,
  concurrentlyInTransaction,
  addColumnNotNullWithoutDefault,
  addColumnRewrite,
  setNotNull,
  constraintWithoutNotValid,
  validateInSameMigration,
  addUniqueConstraint,
  alterColumnType,
  rename,
  dropObject,
  truncateTable,
  deleteWithoutWhere,
  updateWithoutWhere,
  dropNotNull,
  enumRenameValue,
  enumAddValueUnordered,
  enumValueUsedInTransaction,
  transactionControl,
  prismaTransactionBlock,
  dataChangeWithDdl,
  foreignKeyWithoutIndex,
  identifierTooLong,
  timestampWithoutTimeZone,
  jsonInsteadOfJsonb,
  serialInsteadOfIdentity,
  intPrimaryKey,
  unknownLockPlan,
  largeTableLock,
  syntaxError,
  allowCommentInvalid,
] as const satisfies readonly RuleText[];

/** A rule id: used in allow comments and --json. */
export type RuleId = (typeof RULE_LIST)[number]['id'];

export const RULES: Readonly<Record<RuleId, RuleText>> = Object.fromEntries(RULE_LIST.map((rule): [string, RuleText] => [rule.id, rule])) as Record<RuleId, RuleText>;

export function isRuleId(id: string): id is RuleId {
  return Object.hasOwn(RULES, id);
}

/** Warnings about style only: never escalated by the lock analysis. */
export const STYLE_RULES: ReadonlySet<RuleId> = new Set(RULE_LIST.filter((rule): boolean => 'style' in rule).map((rule) => rule.id));
