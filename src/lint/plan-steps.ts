import type { PlannedLock } from './lock-plans.js';

export interface StatementPlan {
  migration: string;
  location: string;
  statement: string;
  locks: PlannedLock[];
  /** Past PLAN_STEPS_LISTED statements of a file: how many later statements took these same locks, and where the last is. */
  sameLocks?: { more: number; lastLocation: string };
}

/**
 * Statements of one file listed one by one in the lock plan. Past this many, a statement whose locks are the same
 * as those of a statement listed after the limit (same relations, levels, effects and sizes) is counted on that
 * entry instead of listed: a file of 100 000 INSERTs gets a plan a person can read, in memory that does not grow
 * with the file, and a file of normal size gets every statement.
 */
export const PLAN_STEPS_LISTED = 1000;

/** The lock plan of a run, in statement order, with the statements past the limit counted by their locks. */
export class LockPlan {
  readonly steps: StatementPlan[] = [];
  private file = '';
  private listed = 0;
  private readonly byLocks = new Map<string, StatementPlan>();

  add(file: string, step: StatementPlan): void {
    if (file !== this.file) {
      this.file = file;
      this.listed = 0;
      this.byLocks.clear();
    }
    if (this.listed < PLAN_STEPS_LISTED) {
      this.listed++;
      this.steps.push(step);
      return;
    }
    const key = JSON.stringify(step.locks);
    const earlier = this.byLocks.get(key);
    if (!earlier) {
      this.byLocks.set(key, step);
      this.steps.push(step);
      return;
    }
    earlier.sameLocks = { more: (earlier.sameLocks?.more ?? 0) + 1, lastLocation: step.location };
  }
}
