import { NO_TRANSACTION_HEADER } from '../../migrations/folder.js';
import type { ParsedStatement } from '../../sql/parser.js';
import type { AllowComments } from '../allow.js';
import type { StatementAt, StatementContext } from '../context.js';
import type { PlannedLock } from '../lock-plans.js';

/**
 * One module per rule (src/lint/rules/<id>.ts), as squawk keeps them: its id, default severity, the README's
 * "fires on" line, why the statement is dangerous, the safe way to write it, the statements it looks at, its
 * check, and the corpus examples test/lint-rules.test.ts runs (each unsafe form must fire the rule on an
 * existing table, its safe rewrite must not). rules/index.ts lists them and dispatches statements to them.
 */
export type Severity = 'error' | 'warning';

export interface Example {
  unsafe: string;
  safe: string;
}

/** What a check reports; the registry adds its rule's id. */
export interface RawFinding {
  message: string;
  /** Only where it differs from the rule's own (a drop that down.sql is expected to make). */
  severity?: Severity;
  /** Only where this case differs from the rule's usual one. */
  why?: string;
  fix?: string;
  /** The safe SQL for this very statement, where one can be written. */
  sql?: string;
}

/** What a rule that looks at the lock plan sees, besides what every statement check sees. */
export interface LockContext extends StatementContext {
  /** The statement's locks, or undefined where the lint knows no plan for it. */
  locks: PlannedLock[] | undefined;
  /** The first lock that blocks writes to a table above --max-blocking-rows while it rewrites or scans it. */
  blocking: PlannedLock | undefined;
  /** Whether another rule reported the statement with a finding that the table's size makes an error. */
  escalated: boolean;
}

/** A whole file, before its statements: what the parser and the allow comments said. */
export interface FileFacts {
  script: string;
  allows: AllowComments;
  syntaxError?: { message: string; offset: number };
}

/** A file's finding, placed at a line (column 1, the line's text) or at a character offset. */
export type FileFinding = RawFinding & ({ line: number } | { offset: number });

/** Where a statement stands, to report a finding there after the run. */
export interface Place {
  at: StatementAt;
  allows: AllowComments;
}

/**
 * A rule that judges across every file of a run (an index created later serves a key made earlier): it sees
 * each statement of its kinds, and after the last statement says what it found, each at its statement's place.
 */
export interface RunCheck {
  see(statement: ParsedStatement, context: StatementContext, place: Place): void;
  finish(): Array<{ place: Place; finding: RawFinding }>;
}

export interface RuleText {
  id: string;
  severity: Severity;
  /** Warnings about style only: never escalated by the lock analysis. */
  style?: true;
  /** The README's rule table says this in its "fires on" column. */
  firesOn: string;
  why: string;
  fix: string;
  examples: readonly Example[];
}

/** A rule that looks at statements: the kinds it looks at, and one hook or more, each called for those kinds. */
export interface StatementChecks {
  /** libpg-query's statement kinds (`AlterTableStmt`), or every statement. */
  on: readonly string[] | 'every statement';
  /** Each statement, before what it creates is recorded: the state is what the statements before it left. */
  check?(statement: ParsedStatement, context: StatementContext): RawFinding[];
  /** Each statement, once its lock plan is known (and what it creates recorded). */
  checkLocks?(statement: ParsedStatement, context: LockContext): RawFinding[];
  /** Once per run, for a rule that judges after the last statement. */
  startRun?(): RunCheck;
  checkFile?: never;
}

/** A rule about a whole file, before its statements. */
export interface FileCheck {
  checkFile(file: FileFacts): FileFinding[];
  on?: never;
  check?: never;
  checkLocks?: never;
  startRun?: never;
}

export type Rule<Id extends string = string> = RuleText & (StatementChecks | FileCheck) & { id: Id };

/** A rule module's one export: its literal id becomes part of RuleId. */
export const defineRule = <const Id extends string>(rule: Rule<Id>): Rule<Id> => rule;

/** The header of a migration that runs outside a transaction, as the first line of an example. */
export const NO_TX = `${NO_TRANSACTION_HEADER}\n`;

/** The statement as the first statement of a no-transaction migration of its own. */
export const ownMigration = (sql: string): string => `${NO_TX}${sql};`;
