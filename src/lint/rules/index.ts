import type { ParsedStatement } from '../../sql/parser.js';
import type { StatementContext } from '../context.js';
import { addColumnNotNullWithoutDefault } from './add-column-not-null-without-default.js';
import { addColumnRewrite } from './add-column-rewrite.js';
import { addUniqueConstraint } from './add-unique-constraint.js';
import { allowCommentInvalid } from './allow-comment-invalid.js';
import { alterColumnType } from './alter-column-type.js';
import { concurrentlyInTransaction } from './concurrently-in-transaction.js';
import { constraintWithoutNotValid } from './constraint-without-not-valid.js';
import { dataChangeWithDdl } from './data-change-with-ddl.js';
import { deleteWithoutWhere } from './delete-without-where.js';
import { dropNotNull } from './drop-not-null.js';
import { dropObject } from './drop-object.js';
import { enumAddValueUnordered } from './enum-add-value-unordered.js';
import { enumRenameValue } from './enum-rename-value.js';
import { enumValueUsedInTransaction } from './enum-value-used-in-transaction.js';
import { foreignKeyWithoutIndex } from './foreign-key-without-index.js';
import { identifierTooLong } from './identifier-too-long.js';
import { indexWithoutConcurrently } from './index-without-concurrently.js';
import { intPrimaryKey } from './int-primary-key.js';
import { jsonInsteadOfJsonb } from './json-instead-of-jsonb.js';
import { largeTableLock } from './large-table-lock.js';
import { prismaTransactionBlock } from './prisma-transaction-block.js';
import { rename } from './rename.js';
import type { FileFacts, FileFinding, LockContext, Place, RawFinding, Rule } from './rule.js';
import { serialInsteadOfIdentity } from './serial-instead-of-identity.js';
import { setNotNull } from './set-not-null.js';
import { syntaxError } from './syntax-error.js';
import { timestampWithoutTimeZone } from './timestamp-without-time-zone.js';
import { transactionControl } from './transaction-control.js';
import { truncateTable } from './truncate-table.js';
import { unknownLockPlan } from './unknown-lock-plan.js';
import { updateWithoutWhere } from './update-without-where.js';
import { validateInSameMigration } from './validate-in-same-migration.js';

export type { Severity } from './rule.js';

/**
 * Every rule `migrate lint` knows, in the order the README lists them (and a statement's findings come in). A new
 * rule is a module beside these and one line here; the dispatch below, the corpus test and the README table test
 * follow this list.
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
  allowCommentInvalid,
  syntaxError,
] as const satisfies readonly Rule[];

/** A rule id: used in allow comments and --json. */
export type RuleId = (typeof RULE_LIST)[number]['id'];

type AnyRule = Rule<RuleId>;

export const RULES: Readonly<Record<RuleId, AnyRule>> = Object.fromEntries(RULE_LIST.map((rule): [string, AnyRule] => [rule.id, rule])) as Record<
  RuleId,
  AnyRule
>;

export function isRuleId(id: string): id is RuleId {
  return Object.hasOwn(RULES, id);
}

/** Warnings about style only: never escalated by the lock analysis. */
export const STYLE_RULES: ReadonlySet<RuleId> = new Set((RULE_LIST as readonly AnyRule[]).filter((rule) => rule.style).map((rule) => rule.id));

/** A finding with the rule that made it. */
export interface RuleFinding extends RawFinding {
  rule: RuleId;
}

const looksAt = (rule: AnyRule, kind: string): boolean => rule.on === 'every statement' || (Array.isArray(rule.on) && rule.on.includes(kind));

/** The dispatch table, built once: each kind a rule names, to its rules in list order. */
const BY_KIND = new Map(
  (RULE_LIST as readonly AnyRule[])
    .flatMap((rule) => (Array.isArray(rule.on) ? rule.on : []))
    .map((kind) => [kind, RULE_LIST.filter((rule) => looksAt(rule, kind))]),
);
/** A kind no rule names gets the rules of every statement. */
const EVERY_STATEMENT = RULE_LIST.filter((rule) => rule.on === 'every statement');
const FILE_RULES = (RULE_LIST as readonly AnyRule[]).filter((rule) => rule.checkFile);

const rulesFor = (kind: string): readonly AnyRule[] => BY_KIND.get(kind) ?? EVERY_STATEMENT;

const stamped = <F extends RawFinding>(rule: AnyRule, findings: F[]): Array<F & { rule: RuleId }> => findings.map((finding) => ({ rule: rule.id, ...finding }));

/** The rules that look at a statement of its kind, before what it creates is recorded. */
export function checkStatement(statement: ParsedStatement, context: StatementContext): RuleFinding[] {
  return rulesFor(statement.kind).flatMap((rule) => stamped(rule, rule.check?.(statement, context) ?? []));
}

/** Once the statement's lock plan is known (in `context`, the walk's own for the file), given what checkStatement found. */
export function checkLocks(statement: ParsedStatement, context: LockContext, found: RuleFinding[]): RuleFinding[] {
  context.escalated = found.some((finding) => !STYLE_RULES.has(finding.rule));
  return rulesFor(statement.kind).flatMap((rule) => stamped(rule, rule.checkLocks?.(statement, context) ?? []));
}

/** A file's own findings (what the parser or an allow comment said), before its statements. */
export function checkFile(file: FileFacts): Array<FileFinding & { rule: RuleId }> {
  return FILE_RULES.flatMap((rule) => stamped(rule, rule.checkFile?.(file) ?? []));
}

export interface RunChecks {
  see(statement: ParsedStatement, context: StatementContext, place: Place): void;
  finish(): Array<{ place: Place; finding: RuleFinding }>;
}

/** The rules that judge across a run, started for one run: they see every statement and judge after the last. */
export function startRun(): RunChecks {
  const checks = (RULE_LIST as readonly AnyRule[]).flatMap((rule) => (rule.startRun ? [{ rule, check: rule.startRun() }] : []));
  return {
    see: (statement, context, place) => {
      for (const { rule, check } of checks) if (looksAt(rule, statement.kind)) check.see(statement, context, place);
    },
    finish: () => checks.flatMap(({ rule, check }) => check.finish().map(({ place, finding }) => ({ place, finding: { rule: rule.id, ...finding } }))),
  };
}
