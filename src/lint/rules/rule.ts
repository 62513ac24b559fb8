import { NO_TRANSACTION_HEADER } from '../../migrations/folder.js';

/**
 * What a rule says about itself: one module per rule (src/lint/rules/<id>.ts) holds its id, default severity, the
 * README's "fires on" line, why the statement is dangerous, the safe way to write it, and the corpus examples
 * test/lint-rules.test.ts runs (each unsafe form must fire the rule on an existing table, its safe rewrite must not).
 */
export type Severity = 'error' | 'warning';

export interface Example {
  unsafe: string;
  safe: string;
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

/** The header of a migration that runs outside a transaction, as the first line of an example. */
export const NO_TX = `${NO_TRANSACTION_HEADER}\n`;
